import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childServiceStore, spawnEntry, type ChildServiceStore } from '../helpers/child-service.js';

/** `npm start`'s entry (web + workers in one process) on real PostgreSQL and Redis, stopped with SIGTERM. */
describe('graceful shutdown', () => {
  let store: ChildServiceStore;
  beforeAll(async () => { store = await childServiceStore(); });
  afterAll(async () => { await store.cleanup(); });

  it('when the process gets SIGTERM while serving, then the web server and the workers close and it exits 0', async () => {
    const child = spawnEntry('src/main.ts', ['all'], { ...store.env, PORT: '0', LOG_LEVEL: 'info', LOG_PRETTY: 'false', WECHAT_TOKEN: 'shutdowntesttoken' });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString('utf8'); });
    child.stderr.on('data', (chunk: Buffer) => { out += chunk.toString('utf8'); });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

    const url = await new Promise<string>((resolve, reject) => {
      const check = () => {
        const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (m?.[1]) resolve(m[1]);
      };
      child.stdout.on('data', check);
      child.on('exit', () => reject(new Error(`exited before listening:\n${out}`)));
    });
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out).not.toMatch(/"level":50/);
    expect(out).not.toContain('shutting down after an error');
  }, 60_000);
});
