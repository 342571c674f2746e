import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, WechatUser, type TestApp } from '../helpers/app.js';

const TRIP = ['40', '张建国', '13812345678', '1', '2', 'K1234', '明天 08:30', '沈阳北站', '大连'];

describe('driver conveniences', () => {
  let t: TestApp;
  beforeAll(async () => { t = await startTestApp(); });
  afterAll(async () => { await t.close(); });

  it('when a driver sends 再发一班 the next day, then only the departure time is asked and a new trip code comes back', async () => {
    const driver = new WechatUser(t.app);
    await driver.say('辽A12345');
    for (const a of TRIP) await driver.say(a);
    const first = /乘车码 (\d{6})/.exec(await driver.say('1'))?.[1];

    const intro = await driver.say('再发一班');
    expect(intro).toContain('照上一班');
    expect(intro).toContain('发车时间');
    const summary = await driver.say('明天 14:00');
    expect(summary).toContain('请核对');
    expect(summary).toContain('14:00');
    expect(summary).toContain('张建国');
    const second = /乘车码 (\d{6})/.exec(await driver.say('1'))?.[1];
    expect(second).toMatch(/^\d{6}$/);
    expect(second).not.toBe(first);
    const trip = await t.services.repos.trips.details((await t.services.repos.trips.byCode(second ?? ''))?.id ?? '');
    expect(trip?.driver).toEqual({ name: '张建国', phone: '13812345678' });
    expect(trip?.destinationText).toBe('大连');
  });

  it('when a driver changes one item at the summary, then the summary comes back with the new value', async () => {
    const driver = new WechatUser(t.app);
    await driver.say('辽B11111');
    for (const a of TRIP) await driver.say(a);
    expect(await driver.say('2')).toContain('哪一项');
    expect(await driver.say('2')).toContain('多少人');
    const summary = await driver.say('45');
    expect(summary).toContain('请核对');
    expect(summary).toMatch(/人数 45/);
  });

  it('when a passenger of a trip that does not go to Beijing registers, then no address is asked', async () => {
    const driver = new WechatUser(t.app);
    await driver.say('辽C22222');
    for (const a of TRIP) await driver.say(a);
    const code = /乘车码 (\d{6})/.exec(await driver.say('1'))?.[1] ?? '';
    const passenger = new WechatUser(t.app);
    expect(await passenger.say(code)).toContain('同意');
    await passenger.say('1');
    await passenger.say('周大海');
    await passenger.say('1');
    expect(await passenger.say('210102199003071233')).toContain('手机号');
    const summary = await passenger.say('13912345678');
    expect(summary).toContain('请核对');
    expect(summary).not.toContain('来京前');
  });

  it('when a user switches to English, then the questions come in English', async () => {
    const driver = new WechatUser(t.app);
    await driver.say('辽D33333');
    const reply = await driver.say('English');
    expect(reply).toContain('How many passengers');
    expect(await driver.say('forty')).toContain('40');
  });

  it('when a driver cancels mid-way, then the bot confirms and a new plate starts afresh', async () => {
    const driver = new WechatUser(t.app);
    await driver.say('辽E44444');
    await driver.say('40');
    expect(await driver.say('取消')).toContain('已取消');
    expect(await driver.say('辽E44444')).toContain('多少人');
  });
});
