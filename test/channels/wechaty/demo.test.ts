import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childServiceStore, spawnEntry, type ChildServiceStore } from '../../helpers/child-service.js';

/** `npm run wechaty` with the default (mock) puppet: the demo registration, as a separate process. */
describe('npm run wechaty with the mock puppet', () => {
  let store: ChildServiceStore;
  beforeAll(async () => { store = await childServiceStore(); });
  afterAll(async () => { await store.cleanup(); });

  it('when it runs, then mocked contacts complete a driver and a passenger registration, the transcript is printed and it exits 0', async () => {
    const child = spawnEntry('src/wechaty-main.ts', [], store.env);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString('utf8'); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8'); });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain('张师傅: 辽A12345');
    expect(stdout).toMatch(/登记完成。乘车码 \d{6}/);
    expect(stdout).toMatch(/\[图片 trip-\d{6}\.png, \d+ 字节\]/);
    expect(stdout).toContain('登记完成，祝您一路平安');
    expect(stdout).toMatch(/trip \d{6}: 1 passenger\(s\) registered/);
  }, 90_000);
});
