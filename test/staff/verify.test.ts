import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, WechatUser, type TestApp } from '../helpers/app.js';
import { enroll, registerTrip, residentId } from './fixtures.js';

/** Arrival verification by an enrolled station clerk, through the signed webhook. */
describe('arrival verification in the chat', () => {
  let t: TestApp;
  beforeAll(async () => { t = await startTestApp(); });
  afterAll(async () => { await t.close(); });

  async function tripWithPassengers(declared: number, ids: string[]): Promise<string> {
    const code = await registerTrip(new WechatUser(t.app), { declared });
    const trip = await t.services.repos.trips.byCode(code);
    for (const [i, idNumber] of ids.entries()) {
      await t.services.repos.passengers.register({
        tripId: trip?.id ?? '', name: ['王小明', '周大汉', '李秀英', '赵四'][i] ?? '钱五', idType: 1, idNumber, phone: null,
        addressBefore: null, addressBeijing: null, channel: 'wechat', registeredBy: 'self', staffId: null, userKey: null,
      });
    }
    return code;
  }

  it('when a station clerk sends 核验 and then 1 3, then the masked roster comes back numbered and the reply counts arrived / registered / declared', async () => {
    const ids = [residentId(), residentId(), residentId()];
    const code = await tripWithPassengers(5, ids);
    const clerk = new WechatUser(t.app);
    await enroll(t, clerk, 'station');

    const roster = await clerk.say(`核验 ${code}`);
    expect(roster).toContain('核载5 已登记3 已到0');
    expect(roster).toContain('1 王*明');
    expect(roster).toContain('3 李*英');
    expect(roster).toContain(`${ids[0]?.slice(0, 4) ?? ''}**********${ids[0]?.slice(-4) ?? ''}`);
    for (const id of ids) expect(roster).not.toContain(id);

    expect(await clerk.say('1 9')).toContain('1 到 3 之间');
    const result = await clerk.say('1 3');
    expect(result).toContain('已到 2 / 已登记 3 / 核载 5');
    expect(result).toContain('未登记 2 人');

    const again = await clerk.say(`verify ${code}`);
    expect(again).toContain('已到2');
    expect(await clerk.say('全部')).toContain('已到 3 / 已登记 3 / 核载 5');

    const trip = await t.services.repos.trips.byCode(code);
    expect(await t.services.repos.passengers.counts(trip?.id ?? '')).toEqual({ registered: 3, arrived: 3 });
    const member = await t.services.repos.staff.byUserKey(t.services.userKeyOf('wechat', clerk.openid));
    const audit = await t.services.repos.audit.list({ actor: `staff:${member?.id ?? ''}`, action: 'arrivals.mark', limit: 10 });
    expect(audit.map((e) => e.details?.['marked']).sort()).toEqual([1, 2]);
  });

  it('when a trip has no passengers yet, then the clerk is told so instead of an empty list', async () => {
    const code = await tripWithPassengers(3, []);
    const clerk = new WechatUser(t.app);
    await enroll(t, clerk, 'station');
    expect(await clerk.say(`核验 ${code}`)).toContain('还没有乘客登记');
  });

  it('when crew (not station staff) or a stranger sends 核验, then it is refused and nothing is marked', async () => {
    const code = await tripWithPassengers(3, [residentId()]);
    const crew = new WechatUser(t.app);
    await enroll(t, crew, 'crew');
    expect(await crew.say(`核验 ${code}`)).toContain('只对已绑定的车站工作人员开放');
    expect(await new WechatUser(t.app).say(`核验 ${code}`)).toContain('只对已绑定的车站工作人员开放');
    const trip = await t.services.repos.trips.byCode(code);
    expect((await t.services.repos.passengers.counts(trip?.id ?? '')).arrived).toBe(0);
  });
});
