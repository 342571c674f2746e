import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, WechatUser, type Backend, type TestApp } from '../helpers/app.js';

/** Full stack: signed webhook → engine → store → passive reply, on both stores and both OA modes. */
describe.each([
  { backend: 'postgres' as Backend, mode: 'plain' as const },
  { backend: 'postgres' as Backend, mode: 'safe' as const },
  { backend: 'pglite' as Backend, mode: 'plain' as const },
])('driver and passenger registration on $backend in $mode mode', ({ backend, mode }) => {
  let t: TestApp;
  beforeAll(async () => { t = await startTestApp({ backend }); });
  afterAll(async () => { await t.close(); });

  async function registerTrip(driver: WechatUser, plate: string, destination = '北京'): Promise<string> {
    expect(await driver.say(plate)).toContain('多少人');
    expect(await driver.say('四十')).toContain('例如 40');
    expect(await driver.say('40')).toContain('驾驶员姓名');
    expect(await driver.say('张建国')).toContain('手机号');
    expect(await driver.say('13812345678')).toContain('登记人是驾驶员本人吗');
    expect(await driver.say('1')).toContain('乘务员');
    expect(await driver.say('2')).toContain('班次号');
    expect(await driver.say('K1234')).toContain('发车时间');
    expect(await driver.say('明天 08:30')).toContain('出发地');
    expect(await driver.say('沈阳北站')).toContain('目的地');
    const summary = await driver.say(destination);
    expect(summary).toContain('请核对');
    expect(summary).toContain('138****5678');
    expect(summary).not.toContain('13812345678');
    const done = await driver.say('1');
    const code = /乘车码 (\d{6})/.exec(done)?.[1];
    expect(code).toMatch(/^\d{6}$/);
    return code ?? '';
  }

  it('when a driver answers every question, then the trip gets a 6-digit code and a passenger can register by scanning', async () => {
    const driver = new WechatUser(t.app, undefined, mode);
    const code = await registerTrip(driver, '辽A12345');

    const passenger = new WechatUser(t.app, undefined, mode);
    const consent = await passenger.scan(`trip-${code}`);
    expect(consent).toContain('辽A12345');
    expect(consent).toContain('回复 1 同意');
    expect(await passenger.say('1')).toContain('姓名');
    expect(await passenger.say('王小明')).toContain('证件类型');
    expect(await passenger.say('210102199003071234')).toContain('最后一位');
    expect(await passenger.say('210102199003071233')).toContain('手机号');
    expect(await passenger.say('139 1234 5678')).toContain('来京前');
    expect(await passenger.say('辽宁省沈阳市和平区南京北街1号')).toContain('在京');
    const summary = await passenger.say('北京市朝阳区建国路2号');
    expect(summary).toContain('2101**********1233');
    expect(summary).toContain('139****5678');
    expect(summary).toContain('王*明');
    expect(await passenger.say('1')).toContain('登记完成');

    const trip = await t.services.repos.trips.byCode(code);
    expect(trip).not.toBeNull();
    const roster = await t.services.repos.passengers.roster(trip?.id ?? '');
    expect(roster.map((p) => p.idNumber)).toEqual(['210102199003071233']);
  });

  it('when the same message is delivered again, then the reply is the same and nothing is stored twice', async () => {
    const driver = new WechatUser(t.app, undefined, mode);
    const code = await registerTrip(driver, '辽B54321', '大连');
    const passenger = new WechatUser(t.app, undefined, mode);
    await passenger.scan(`trip-${code}`);
    await passenger.say('1');
    await passenger.say('李四');
    await passenger.say('210102199003071233');
    const summary = await passenger.say('13912345678');
    expect(summary).toContain('请核对');
    const [a, b, c] = await Promise.all([passenger.say('1', '9007199254740993123'), passenger.say('1', '9007199254740993123'), passenger.say('1', '9007199254740993123')]);
    expect(a).toContain('登记完成');
    expect(b).toBe(a);
    expect(c).toBe(a);
    const trip = await t.services.repos.trips.byCode(code);
    expect(await t.services.repos.passengers.counts(trip?.id ?? '')).toEqual({ registered: 1, arrived: 0 });
  });
});
