import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, WechatUser, type TestApp } from '../helpers/app.js';
import { enroll, registerTrip, residentId, runKeysCli } from './fixtures.js';

/** Staff enrollment (one-time code from the keys CLI) and assisted registration, through the signed webhook. */
describe('staff enrollment and assisted registration', () => {
  let t: TestApp;
  beforeAll(async () => { t = await startTestApp(); });
  afterAll(async () => { await t.close(); });

  it('when a crew member enrolls with a code from `npm run keys -- enroll` and assists, then three phoneless passengers are registered as registered by that crew member', async () => {
    const driver = new WechatUser(t.app);
    const tripCode = await registerTrip(driver);

    const cli = await runKeysCli(t, ['enroll', '--role', 'crew', '--city', '210100']);
    expect(cli.code).toBe(0);
    const code = cli.lines[cli.lines.length - 1] ?? '';
    expect(code).toMatch(/^\d{8}$/);

    const crew = new WechatUser(t.app);
    const enrolled = await crew.say(`绑定 ${code}`);
    expect(enrolled).toContain('绑定成功');
    expect(enrolled).toContain('乘务员');

    const intro = await crew.say(`协助登记 ${tripCode}`);
    expect(intro).toContain('协助登记');
    expect(intro).toContain('回复 1 确认');
    expect(await crew.say('1')).toContain('乘客姓名');

    const people = [{ name: '周大汉', id: residentId() }, { name: '李秀英', id: residentId() }, { name: '王老五', id: residentId() }];
    for (const [i, person] of people.entries()) {
      expect(await crew.say(person.name)).toContain('证件类型');
      expect(await crew.say(person.id)).toContain('没有手机请回复 无');
      const summary = await crew.say('无');
      expect(summary).toContain('请核对');
      expect(summary).not.toContain(person.id);
      const next = await crew.say('1');
      expect(next).toContain('已登记');
      expect(next).toContain(`本班已登记 ${i + 1} 人`);
      expect(next).toContain('回复 1 登记下一位，2 结束');
      if (i < people.length - 1) expect(await crew.say('1')).toContain('乘客姓名');
    }
    expect(await crew.say('2')).toContain('协助登记结束');

    const trip = await t.services.repos.trips.byCode(tripCode);
    const member = await t.services.repos.staff.byUserKey(t.services.userKeyOf('wechat', crew.openid));
    expect(member?.role).toBe('crew');
    expect(member?.city).toBe('210100');
    const roster = await t.services.repos.passengers.roster(trip?.id ?? '');
    expect(roster.map((p) => p.name)).toEqual(people.map((p) => p.name));
    for (const p of roster) {
      expect(p.registeredBy).toBe('crew');
      expect(p.staffId).toBe(member?.id);
      expect(p.phone).toBeNull();
    }

    const entries = await t.services.repos.audit.list({ actor: `staff:${member?.id ?? ''}`, limit: 50 });
    expect(entries.map((e) => e.action).sort()).toEqual(['passenger.register.assisted', 'passenger.register.assisted', 'passenger.register.assisted', 'staff.enroll']);
    const logged = JSON.stringify(entries);
    for (const person of people) {
      expect(logged).not.toContain(person.id);
      expect(logged).not.toContain(person.name);
    }
  });

  it('when someone who is not enrolled sends 协助登记, then they get a polite refusal and nothing is stored', async () => {
    const driver = new WechatUser(t.app);
    const tripCode = await registerTrip(driver);
    const stranger = new WechatUser(t.app);
    const reply = await stranger.say(`协助登记 ${tripCode}`);
    expect(reply).toContain('只对已绑定的乘务员和车站工作人员开放');
    expect(reply).toContain('绑定');
    // The next text is not taken as a passenger name.
    expect(await stranger.say('周大汉')).not.toContain('证件类型');
    const trip = await t.services.repos.trips.byCode(tripCode);
    expect(await t.services.repos.passengers.counts(trip?.id ?? '')).toEqual({ registered: 0, arrived: 0 });
  });

  it('when an enrollment code is used a second time, then it is refused and the second user stays without a role', async () => {
    const code = await t.services.repos.staff.createEnrollmentCode({ role: 'station', city: '210100', ttlHours: 1 });
    const first = new WechatUser(t.app);
    expect(await first.say(`绑定 ${code}`)).toContain('车站工作人员');
    const second = new WechatUser(t.app);
    expect(await second.say(`enroll ${code}`)).toContain('无效或已经用过');
    expect(await t.services.repos.staff.byUserKey(t.services.userKeyOf('wechat', second.openid))).toBeNull();
  });

  it('when an enrolled crew member registers a passenger who is already on the trip, then the crew member is told and can go on', async () => {
    const driver = new WechatUser(t.app);
    const tripCode = await registerTrip(driver);
    const crew = new WechatUser(t.app);
    await enroll(t, crew, 'crew');
    const id = residentId();
    await crew.say(`assist ${tripCode}`);
    await crew.say('1');
    await crew.say('周大汉');
    await crew.say(id);
    await crew.say('无');
    expect(await crew.say('1')).toContain('已登记');
    expect(await crew.say('1')).toContain('乘客姓名');
    await crew.say('周大汉');
    await crew.say(id);
    await crew.say('none');
    const again = await crew.say('1');
    expect(again).toContain('已经登记过');
    expect(again).toContain('回复 1 登记下一位');
    const trip = await t.services.repos.trips.byCode(tripCode);
    expect((await t.services.repos.passengers.counts(trip?.id ?? '')).registered).toBe(1);
  });
});
