import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_REDIS_URL } from '../helpers/env.js';
import { startTestApp, WechatUser, type TestApp } from '../helpers/app.js';
import { dumpDatabase, leaks, newPerson, registerPassenger, registerTrip, uniqueName, uniquePhone, type Person } from './helpers.js';

const run = promisify(execFile);

/**
 * A full day of traffic over the signed webhook (several drivers, passengers, conversations left open), then the
 * whole database dump and every Redis value under the test prefix are searched for each identity number, phone, name
 * and address in clear (and hex/base64): none.
 */
describe('a full day of traffic on postgres leaves no plaintext behind', () => {
  let t: TestApp;
  const secrets: string[] = [];

  beforeAll(async () => {
    t = await startTestApp();
    const routes = [
      { plate: '辽A1D001', origin: '沈阳北站', destination: '北京', beijing: true },
      { plate: '辽B1D002', origin: '大连北站', destination: '北京', beijing: true },
      { plate: '辽A1D003', origin: '沈阳北站', destination: '大连', beijing: false },
    ];
    for (const route of routes) {
      const driver = { name: uniqueName(), phone: uniquePhone() };
      secrets.push(driver.name, driver.phone);
      const code = await registerTrip(t, { ...route, driver });
      for (let i = 0; i < 3; i += 1) {
        const p: Person = newPerson();
        secrets.push(p.name, p.idNumber, p.phone, ...(route.beijing ? [p.addressBefore, p.addressBeijing] : []));
        await registerPassenger(t, code, p, route.beijing);
      }
      // Someone stops half-way: their answers so far sit in the Redis session.
      const open = newPerson();
      secrets.push(open.name, open.idNumber);
      const user = new WechatUser(t.app);
      await user.scan(`trip-${code}`);
      await user.say('1');
      await user.say(open.name);
      expect(await user.say(open.idNumber)).toContain('手机号');
    }
  });
  afterAll(async () => { await t.close(); });

  it('when the database is dumped, then no identity number, phone, name or address appears in any form', async () => {
    const dump = await dumpDatabase(t.services.database.db, t.db.url);
    expect(dump.text.length).toBeGreaterThan(1000);
    expect(leaks(dump.text, secrets)).toEqual([]);
  });

  it('when every Redis key under the test prefix is read, then sessions and caches hold none of them either', async () => {
    const prefix = t.env.REDIS_PREFIX ?? '';
    const url = new URL(TEST_REDIS_URL);
    const cli = ['-h', url.hostname, '-p', url.port || '6379', ...(url.pathname.length > 1 ? ['-n', url.pathname.slice(1)] : [])];
    const { stdout } = await run('redis-cli', [...cli, '--scan', '--pattern', `${prefix}*`], { maxBuffer: 64 * 1024 * 1024 }).catch(async () => ({ stdout: (await t.services.redis.keys(`${prefix}*`)).join('\n') }));
    const keys = stdout.split('\n').filter(Boolean);
    expect(keys.length).toBeGreaterThan(0);
    let text = keys.join('\n');
    for (const key of keys) {
      const type = await t.services.redis.type(key);
      if (type === 'string') text += `\n${await t.services.redis.get(key)}`;
      else if (type === 'hash') text += `\n${JSON.stringify(await t.services.redis.hgetall(key))}`;
      else if (type === 'list') text += `\n${(await t.services.redis.lrange(key, 0, -1)).join('\n')}`;
      else if (type === 'set') text += `\n${(await t.services.redis.smembers(key)).join('\n')}`;
      else if (type === 'zset') text += `\n${(await t.services.redis.zrange(key, '0', '-1')).join('\n')}`;
      else if (type === 'stream') text += `\n${JSON.stringify(await t.services.redis.xrange(key, '-', '+'))}`;
    }
    expect(leaks(text, secrets)).toEqual([]);
  });
});
