import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabase, type TestDatabase } from '../helpers/db.js';
import { TEST_REDIS_URL } from '../helpers/env.js';
import { testRedis } from '../helpers/redis.js';

const ROOT = join(import.meta.dirname, '../..');

/** `npm start`'s entry (web + workers in one process) on real PostgreSQL and Redis, stopped with SIGTERM. */
describe('graceful shutdown', () => {
  let db: TestDatabase;
  let redis: ReturnType<typeof testRedis>;
  beforeAll(async () => {
    db = await testDatabase({ poolSize: 2 });
    redis = testRedis();
  });
  afterAll(async () => {
    await redis.cleanup();
    await db.drop();
  });

  it('when the process gets SIGTERM while serving, then the web server and the workers close and it exits 0', async () => {
    const child = spawn(process.execPath, [join(ROOT, 'node_modules/tsx/dist/cli.mjs'), 'src/main.ts', 'all'], {
      cwd: ROOT,
      env: {
        PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp',
        DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: redis.prefix, BOARDROLL_MASTER_KEY: randomBytes(32).toString('base64'),
        PORT: '0', LOG_LEVEL: 'info', LOG_PRETTY: 'false', WECHAT_TOKEN: 'shutdowntesttoken',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
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
