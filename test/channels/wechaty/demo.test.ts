import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabase, type TestDatabase } from '../../helpers/db.js';
import { TEST_REDIS_URL } from '../../helpers/env.js';
import { testRedis } from '../../helpers/redis.js';
import { randomBytes } from 'node:crypto';

const ROOT = join(import.meta.dirname, '../../..');

/** `npm run wechaty` with the default (mock) puppet: the demo registration, as a separate process. */
describe('npm run wechaty with the mock puppet', () => {
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

  it('when it runs, then mocked contacts complete a driver and a passenger registration, the transcript is printed and it exits 0', async () => {
    const child = spawn(process.execPath, [join(ROOT, 'node_modules/tsx/dist/cli.mjs'), 'src/wechaty-main.ts'], {
      cwd: ROOT,
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: redis.prefix, BOARDROLL_MASTER_KEY: randomBytes(32).toString('base64') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
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
