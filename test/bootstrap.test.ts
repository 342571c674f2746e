import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureDevSecrets } from '../src/bootstrap.js';
import { loadConfig } from '../src/config.js';
import { openServices } from '../src/services.js';
import { TEST_REDIS_URL } from './helpers/env.js';
import { testRedis } from './helpers/redis.js';

const silent = pino({ level: 'silent' });

describe('start-up', () => {
  const dirs: string[] = [];
  afterAll(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }); });

  it('when DATABASE_URL is set without a master key, then start-up refuses with a message saying how to make one', async () => {
    await expect(ensureDevSecrets({ DATABASE_URL: 'postgres://x@127.0.0.1/y' }, silent)).rejects.toThrow(/BOARDROLL_MASTER_KEY is required/);
  });

  it('when nothing is configured, then development secrets are created once, owner-only, and reused', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'br-boot-'));
    dirs.push(dir);
    const first = await ensureDevSecrets({ DATA_DIR: dir }, silent);
    const second = await ensureDevSecrets({ DATA_DIR: dir }, silent);
    expect(first['BOARDROLL_MASTER_KEY']).toBe(second['BOARDROLL_MASTER_KEY']);
    expect(first['WECHAT_TOKEN']).toBe(second['WECHAT_TOKEN']);
    expect((await stat(join(dir, 'master.key'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'wechat-token'))).mode & 0o777).toBe(0o600);
    expect((await readFile(join(dir, 'wechat-token'), 'utf8')).trim()).toBe(first['WECHAT_TOKEN']);
  });

  it('when the embedded store is closed and opened again, then the trips are still there', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'br-embedded-'));
    dirs.push(dir);
    const { prefix, cleanup } = testRedis();
    const env = await ensureDevSecrets({ DATA_DIR: dir, REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix, LOG_LEVEL: 'silent' }, silent);
    const first = await openServices(loadConfig(env), { logger: silent });
    const trip = await first.repos.trips.create({
      plate: '辽A12345', declaredCount: 40, driver: { name: '张建国', phone: '13812345678' }, registrant: null, crew: null, tripNumber: 'K1234',
      departureAt: new Date(Date.now() + 3_600_000), originText: '沈阳北站', originCity: '210100', destinationText: '北京', destinationCity: '110100', beijingBound: true, reportingCity: '210100', createdBy: null,
    });
    await first.close();
    const second = await openServices(loadConfig(env), { logger: silent });
    const again = await second.repos.trips.details(trip.id);
    expect(again?.driver.phone).toBe('13812345678');
    await second.close();
    await cleanup();
  }, 60_000);
});
