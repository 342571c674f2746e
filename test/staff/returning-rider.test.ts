import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, WechatUser, type TestApp } from '../helpers/app.js';
import { registerTrip, residentId } from './fixtures.js';

/** A WeChat user who registered before is offered the saved details, masked, after consent. */
describe('returning riders', () => {
  let t: TestApp;
  beforeAll(async () => { t = await startTestApp(); });
  afterAll(async () => { await t.close(); });

  async function registerFully(user: WechatUser, code: string, idNumber: string): Promise<void> {
    await user.scan(`trip-${code}`);
    await user.say('1');
    await user.say('王小明');
    await user.say(idNumber);
    await user.say('13912345678');
    expect(await user.say('1')).toContain('登记完成');
  }

  it('when a rider who registered before scans a new trip, then consent and 1 register them (two replies)', async () => {
    const idNumber = residentId();
    const rider = new WechatUser(t.app);
    await registerFully(rider, await registerTrip(new WechatUser(t.app)), idNumber);

    const second = await registerTrip(new WechatUser(t.app));
    expect(await rider.scan(`trip-${second}`, true)).toContain('回复 1 同意');
    const offer = await rider.say('1');
    expect(offer).toContain('上次登记');
    expect(offer).toContain('王*明');
    expect(offer).toContain('139****5678');
    expect(offer).toContain(`${idNumber.slice(0, 4)}**********${idNumber.slice(-4)}`);
    expect(offer).not.toContain(idNumber);
    expect(await rider.say('1')).toContain('登记完成');

    const trip = await t.services.repos.trips.byCode(second);
    const roster = await t.services.repos.passengers.roster(trip?.id ?? '');
    expect(roster.map((p) => [p.name, p.idNumber, p.phone])).toEqual([['王小明', idNumber, '13912345678']]);
  });

  it('when a returning rider answers 2, then the full questions are asked', async () => {
    const rider = new WechatUser(t.app);
    await registerFully(rider, await registerTrip(new WechatUser(t.app)), residentId());
    const next = await registerTrip(new WechatUser(t.app));
    await rider.scan(`trip-${next}`, true);
    expect(await rider.say('1')).toContain('上次登记');
    expect(await rider.say('2')).toContain('姓名');
    expect(await rider.say('李秀英')).toContain('证件类型');
  });
});
