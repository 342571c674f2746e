import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSessionStore } from '../../src/conversation/session-store.js';
import { nextMsgId, startTestApp, WechatUser, type TestApp } from '../helpers/app.js';
import { voiceXml } from '../helpers/wechat-client.js';

/**
 * How the bot sounds to real users (../shared/examples/conversations.md), end to end through the signed webhook:
 * awkward input, commands at odd moments, summary edits, expiry, switching trips. Every reply must stay well under
 * WeChat's passive-reply size.
 */
const PASSIVE_BUDGET_BYTES = 1500;
let scanClock = Math.floor(Date.now() / 1000);

class Rider {
  readonly user: WechatUser;
  constructor(private readonly t: TestApp) { this.user = new WechatUser(t.app); }

  async say(text: string): Promise<string> {
    const reply = await this.user.say(text);
    expect(Buffer.byteLength(reply), reply).toBeLessThan(PASSIVE_BUDGET_BYTES);
    return reply;
  }

  /** A scan as WeChat pushes it: every push its own CreateTime, so two scans are two events. */
  async scan(code: string): Promise<string> {
    scanClock += 1;
    return this.user.scan(`trip-${code}`, true, scanClock);
  }

  async voice(): Promise<string> {
    const res = await this.user.post(voiceXml({ from: this.user.openid, msgId: nextMsgId() }));
    expect(res.status).toBe(200);
    return res.body;
  }

  /** Makes the session look idle for two hours (longer than SESSION_TTL_SECONDS) without waiting. */
  async idleTwoHours(): Promise<void> {
    const store = createSessionStore(this.t.services.redis, { prefix: this.t.services.config.redisPrefix, sessionKey: this.t.services.keys.session });
    const id = `wechat:${this.t.services.userKeyOf('wechat', this.user.openid)}`;
    const loaded = await store.load(id);
    if (!loaded.state) throw new Error('no session to age');
    loaded.state.updatedAt -= 2 * 3600_000;
    expect(await store.save(id, loaded.version, loaded.state, null, '')).toBe(true);
  }
}

describe('conversation quality for drivers, riders and clerks', () => {
  let t: TestApp;
  let tripCode = '';
  let otherTripCode = '';

  const DRIVER_ANSWERS = ['40', '张建国', '13812345678', '1', '2', 'K1234', '明天 08:30', '沈阳北站'];

  async function newTrip(plate: string, destination: string): Promise<string> {
    const driver = new Rider(t);
    await driver.say(plate);
    for (const a of DRIVER_ANSWERS) await driver.say(a);
    await driver.say(destination);
    const code = /乘车码 (\d{6})/.exec(await driver.say('1'))?.[1];
    expect(code).toMatch(/^\d{6}$/);
    return code ?? '';
  }

  beforeAll(async () => {
    t = await startTestApp({ env: { SESSION_TTL_SECONDS: '60' } });
    tripCode = await newTrip('辽A10001', '北京');
    otherTripCode = await newTrip('辽A10002', '大连');
  });
  afterAll(async () => { await t.close(); });

  async function driverAtSummary(plate: string, locale: 'zh-CN' | 'en' = 'zh-CN'): Promise<Rider> {
    const driver = new Rider(t);
    if (locale === 'en') await driver.say('English');
    await driver.say(plate);
    for (const a of DRIVER_ANSWERS) await driver.say(a);
    await driver.say('大连');
    return driver;
  }

  async function riderAtIdType(code: string, locale: 'zh-CN' | 'en' = 'zh-CN'): Promise<Rider> {
    const rider = new Rider(t);
    if (locale === 'en') await rider.say('English');
    await rider.scan(code);
    await rider.say('1');
    await rider.say('王小明');
    return rider;
  }

  describe('driver summary', () => {
    it('when the driver registers alone, then the summary still lists the registrant and "no crew" so both can be changed', async () => {
      const driver = new Rider(t);
      await driver.say('辽A20001');
      for (const a of DRIVER_ANSWERS) await driver.say(a);
      const summary = await driver.say('大连');
      expect(summary).toContain('9 登记人 张建国');
      expect(summary).toContain('10 乘务员 无');
      expect(summary).toContain('6 发车');
    });

    it('when "registrant is the driver" is changed from 1 to 2 at the summary, then the registrant name and phone are asked', async () => {
      const driver = await driverAtSummary('辽A20002');
      expect(await driver.say('2 9')).toContain('登记人是驾驶员本人吗');
      expect(await driver.say('2')).toContain('登记人姓名');
      expect(await driver.say('李登记')).toContain('登记人手机号');
      const summary = await driver.say('13912345678');
      expect(summary).toContain('9 登记人 李登记');
      expect(summary).toContain('请核对');
      await driver.say('1');
      const trip = await t.services.repos.trips.details((await t.services.repos.trips.lastByPlate('辽A20002'))?.id ?? '');
      expect(trip?.registrant).toEqual({ name: '李登记', phone: '13912345678' });
    });

    it('when crew is added at the summary, then the crew questions come with a document number question for the chosen type', async () => {
      const driver = await driverAtSummary('辽A20003');
      expect(await driver.say('2 10')).toContain('车上有乘务员吗');
      expect(await driver.say('1')).toContain('乘务员姓名');
      expect(await driver.say('王乘务')).toContain('乘务员手机号');
      expect(await driver.say('13712345678')).toContain('乘务员证件类型');
      expect(await driver.say('4')).toBe('乘务员的护照号码？例如 E12345678');
      const summary = await driver.say('E12345678');
      expect(summary).toContain('10 乘务员 王乘务');
    });

    it('when the plate is changed at the summary, then later questions name the new plate, not the one first sent', async () => {
      const driver = await driverAtSummary('辽A20004');
      await driver.say('2 1');
      await driver.say('辽B20004');
      const count = await driver.say('2 2');
      expect(count).toContain('辽B20004');
      expect(count).not.toContain('辽A20004');
    });

    it('when the edit menu is open, then it says 0 goes back to the summary, and 0 does', async () => {
      const driver = await driverAtSummary('辽A20005');
      expect(await driver.say('2')).toContain('0 返回核对');
      expect(await driver.say('0')).toContain('请核对');
    });

    it('when a driver answers with full-width digits, spaces in the phone and emoji, then the digits count and the emoji is explained', async () => {
      const driver = new Rider(t);
      await driver.say('辽A20006');
      expect(await driver.say('４０')).toContain('驾驶员姓名');
      expect(await driver.say('😀')).toContain('不要加符号或表情');
      expect(await driver.say('张建国')).toContain('手机号');
      expect(await driver.say('138 1234 5678')).toContain('登记人是驾驶员本人吗');
    });

    it('in English, when "no crew" is changed at the summary, then the crew questions are asked in English', async () => {
      const driver = await driverAtSummary('辽A20007', 'en');
      const summary = await driver.say('2');
      expect(summary).toContain('10 Crew: none');
      expect(summary).toContain('0 to go back');
      expect(await driver.say('10')).toContain('Is there a crew member on board');
      expect(await driver.say('1')).toContain("Crew member's name");
    });
  });

  describe('passenger questions', () => {
    it('when the document type is changed at the summary, then the number is asked again for the new type', async () => {
      const rider = await riderAtIdType(otherTripCode);
      await rider.say('210102199003071233');
      const summary = await rider.say('13912345678');
      expect(summary).toContain('2 证件 居民身份证');
      await rider.say('2');
      expect(await rider.say('2')).toContain('证件类型');
      expect(await rider.say('2')).toBe('您的回乡证（港澳居民来往内地通行证）号码？例如 H12345678');
      expect(await rider.say('210102199003071233')).toContain('回乡证号码是字母H或M加8位数字');
      const after = await rider.say('H1234 5678');
      expect(after).toContain('2 证件 港澳通行证');
      expect(after).toContain('3 号码 H1*****78');
    });

    it('when a permit number is sent at the document-type menu, then the bot asks for the menu number instead of complaining about an ID card', async () => {
      const rider = await riderAtIdType(otherTripCode);
      const reply = await rider.say('H12345678');
      expect(reply).toContain('没有这个选项');
      expect(reply).not.toContain('身份证号应为18位');
      expect(await rider.say('210102199003071234')).toContain('身份证号的最后一位不对');
    });

    it('when 0 is sent at the first question, then later 0 still goes back step by step', async () => {
      const rider = new Rider(t);
      await rider.scan(otherTripCode);
      expect(await rider.say('0')).toContain('这已经是第一个问题');
      expect(await rider.say('1')).toBe('您的姓名？');
      expect(await rider.say('返回')).toContain('回复 1 同意');
      await rider.say('1');
      await rider.say('王小明');
      expect(await rider.say('0')).toBe('您的姓名？');
    });

    it('when a plate is sent while the name is asked, then the reply says what was wrong and how to start a driver registration', async () => {
      const rider = new Rider(t);
      await rider.scan(otherTripCode);
      await rider.say('1');
      const reply = await rider.say('辽A12345');
      expect(reply).toContain('姓名里不能有数字');
      expect(reply).toContain('请先回复 取消，再发送 辽A12345');
      expect(await rider.say('取消')).toContain('已取消');
      expect(await rider.say('辽A12345')).toContain('辽A12345 发车登记');
    });

    it('when 1 is sent after registering, then a family member is registered for the same trip without a second consent', async () => {
      const rider = await riderAtIdType(otherTripCode);
      await rider.say('110101199003077774');
      await rider.say('13912340001');
      expect(await rider.say('1')).toContain('替家人登记请回复 1');
      const family = await rider.say('1');
      expect(family).toContain('为同行的家人登记');
      expect(family).toContain('您的姓名？');
      await rider.say('王小红');
      await rider.say('110101201001017778');
      await rider.say('13912340002');
      expect(await rider.say('1')).toContain('登记完成');
      const trip = await t.services.repos.trips.byCode(otherTripCode);
      const ids = (await t.services.repos.passengers.roster(trip?.id ?? '')).map((p) => p.idNumber);
      expect(ids).toEqual(expect.arrayContaining(['110101199003077774', '110101201001017778']));
    });

    it('when a voice message or 500 characters arrive, then the bot says plainly what it needs and asks again', async () => {
      const rider = new Rider(t);
      await rider.scan(otherTripCode);
      await rider.say('1');
      const voice = await rider.voice();
      expect(voice).toContain('收不到语音和图片');
      expect(voice).toContain('您的姓名？');
      expect(await rider.say('张'.repeat(500))).toContain('姓名太长了');
    });

    it('when help, then cancel, then the trip code again, then a fresh registration starts with the consent', async () => {
      const rider = new Rider(t);
      await rider.scan(otherTripCode);
      await rider.say('1');
      const help = await rider.say('帮助');
      expect(help).toContain('请问车上乘务员或车站工作人员');
      expect(help.endsWith('您的姓名？')).toBe(true);
      expect(await rider.say('取消')).toContain('这次填写的内容没有保存');
      expect(await rider.say(otherTripCode)).toContain('回复 1 同意');
    });

    it('when an unknown trip code or a closed trip is sent, then the rider is told so', async () => {
      const rider = new Rider(t);
      expect(await rider.say('999999')).toContain('没有找到这个班次');
      const closed = await newTrip('辽A20009', '大连');
      const trip = await t.services.repos.trips.byCode(closed);
      await t.services.repos.trips.setStatus(trip?.id ?? '', 'closed');
      expect(await rider.say(closed)).toContain('已经结束登记');
    });

    it('when a second trip is scanned mid-registration, then the registration switches to that trip', async () => {
      const rider = await riderAtIdType(otherTripCode);
      const consent = await rider.scan(tripCode);
      expect(consent).toContain('辽A10001');
      expect(await rider.say('1')).toBe('您的姓名？');
    });

    it('in English, when the document type is changed, then the number question names the new document', async () => {
      const rider = await riderAtIdType(otherTripCode, 'en');
      expect(await rider.say('7')).toBe('Your passport number? Send the letters and digits as printed, e.g. AB1234567');
      await rider.say('AB1234567');
      await rider.say('13912345678');
      await rider.say('2');
      await rider.say('2');
      expect(await rider.say('4')).toBe('Your Chinese passport number? e.g. E12345678');
      expect(await rider.say('E1234')).toContain('Chinese passport number is the letter E');
    });
  });

  describe('station clerk', () => {
    it('when a clerk enrolls and sends a number beyond the list, then the reply says how many passengers there are', async () => {
      const clerk = new Rider(t);
      const code = await t.services.repos.staff.createEnrollmentCode({ role: 'station', city: null, station: null, ttlHours: 1 });
      expect(await clerk.say(`绑定 ${code}`)).toBe('绑定成功，身份：车站工作人员。');
      const roster = await clerk.say(`核验 ${tripCode}`);
      expect(roster).toContain('回复到站乘客编号');
      expect(await clerk.say('0')).toContain('要结束请回复 取消');
      expect(await clerk.say('99')).toMatch(/名单里只有 \d+ 位乘客/);
      expect(await clerk.say('全部')).toContain('已到');
    });
  });

  describe('expiry and resume', () => {
    it('when a rider comes back after the session expired and answers the question directly, then the answer is taken', async () => {
      const rider = await riderAtIdType(otherTripCode);
      await rider.say('1');
      await rider.idleTwoHours();
      const offer = await rider.say('hello');
      expect(offer).toContain('欢迎回来');
      expect(offer).toContain('您的身份证号码？');
      expect(await rider.say('110101199003076667')).toContain('手机号');
    });

    it('when 取消 is sent at the resume offer, then the registration is cancelled and nothing is taken as an answer', async () => {
      const rider = new Rider(t);
      await rider.scan(otherTripCode);
      await rider.say('1');
      await rider.idleTwoHours();
      expect(await rider.say('王小明')).toContain('欢迎回来');
      expect(await rider.say('取消')).toContain('已取消');
    });

    it('in English, when 2 is sent at the resume offer, then the registration starts over', async () => {
      const driver = new Rider(t);
      await driver.say('English');
      await driver.say('辽A20010');
      await driver.say('40');
      await driver.idleTwoHours();
      expect(await driver.say('Zhang')).toContain('Reply 1 to continue, 2 to start over');
      const again = await driver.say('2');
      expect(again).toContain('starting over');
      expect(again).toContain('Departure registration for 辽A20010');
    });
  });
});
