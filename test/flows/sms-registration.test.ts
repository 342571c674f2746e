import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, SMS_KINDS } from '../../src/config.js';
import { jobId } from '../../src/contracts/jobs.js';
import { smsLength, smsTemplateText, SMS_MAX_CHARS } from '../../src/channels/sms/sms-templates.js';
import { startAliyunSmsStub, smsReportPush, smsUplinkPush, type AliyunSmsStub } from '../helpers/aliyun-sms-stub.js';
import { startTestApp, WechatUser, type TestApp } from '../helpers/app.js';

/**
 * SMS registration end to end: a driver's WeChat chat invites a rider by SMS; the REAL Alibaba SDK sends to a local
 * stand-in that checks ACS3 signatures; the rider's replies are pushed to our uplink endpoint; real BullMQ workers send.
 */
const TOKEN = 'sms-uplink-test-token';
const SIGN = '出行登记';

describe('SMS registration for riders with feature phones', () => {
  let t: TestApp;
  let stub: AliyunSmsStub;
  let driver: WechatUser;
  let tripCode = '';
  let sequence = Date.now() * 1000;
  let clock = Date.now();

  beforeAll(async () => {
    const templates = loadConfig({}).sms.templates;
    stub = await startAliyunSmsStub({
      accessKeyId: 'test-ak', accessKeySecret: 'test-sk', signName: SIGN,
      templates: Object.fromEntries(SMS_KINDS.map((k) => [templates[k], smsTemplateText(k, 'zh-CN')])),
    });
    t = await startTestApp({
      env: {
        ALIYUN_ACCESS_KEY_ID: 'test-ak', ALIYUN_ACCESS_KEY_SECRET: 'test-sk', SMS_ENDPOINT: stub.endpoint, SMS_PROTOCOL: 'http',
        SMS_SIGN_NAME: SIGN, SMS_UPLINK_TOKEN: TOKEN, SMS_ACCEPTS_COLD: 'true',
      },
    });
    await t.startWorkers();
    driver = new WechatUser(t.app);
    tripCode = await registerTrip(driver);
  });
  afterAll(async () => {
    await t.close();
    await stub.close();
  });

  async function registerTrip(user: WechatUser, plate = '辽A12345', destination = '大连'): Promise<string> {
    const answers = [plate, '40', '张建国', '13812345678', '1', '2', 'K1234', '明天 08:30', '沈阳北站', destination];
    for (const a of answers) await user.say(a);
    const done = await user.say('1');
    return /乘车码 (\d{6})/.exec(done)?.[1] ?? '';
  }

  async function waitFor<T>(what: string, probe: () => T | Promise<T>): Promise<NonNullable<T>> {
    for (let i = 0; i < 500; i += 1) {
      const value = await probe();
      if (value) return value as NonNullable<T>;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  const sentTo = (phone: string) => stub.sent.filter((s) => s.phone === phone);

  /** `yyyy-MM-dd HH:mm:ss` China time, one second later per call (send_time order). */
  function nextSendTime(): string {
    clock += 1000;
    return new Date(clock + 8 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');
  }

  async function push(body: unknown, token = TOKEN) {
    return t.app.inject({ method: 'POST', url: `/sms/aliyun/uplink?token=${encodeURIComponent(token)}`, payload: body as Record<string, unknown>[] });
  }

  /** The rider answers; resolves with the next SMS the stand-in receives for that number. */
  async function answer(phone: string, content: string): Promise<string> {
    const before = sentTo(phone).length;
    sequence += 1;
    const res = await push(smsUplinkPush([{ phone, content, sequenceId: sequence, sendTime: nextSendTime() }]));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ code: 0, msg: '成功' });
    const next = await waitFor(`an SMS to the rider after "${content.length} chars"`, () => sentTo(phone)[before]);
    return next.text;
  }

  async function invite(phone: string, by: WechatUser = driver): Promise<string> {
    const before = sentTo(phone).length;
    const reply = await by.say(`短信登记 ${phone}`);
    expect(reply).toContain('已向');
    return (await waitFor('the invitation SMS', () => sentTo(phone)[before])).text;
  }

  async function statusOf(phone: string): Promise<string[]> {
    const trip = await t.services.repos.trips.byCode(tripCode);
    const rows = await t.services.sms.messages.forTrip(trip?.id ?? '');
    const blind = t.services.sms.messages.blind(phone);
    return rows.filter((r) => r.phoneBlind === blind).map((r) => r.status);
  }

  it('when a driver invites a rider and the rider answers every SMS, then the rider is on the trip roster', async () => {
    const phone = '13912345678';
    const invitation = await invite(phone);
    expect(invitation).toMatch(/^【出行登记】乘客登记：辽A12345，\d{2}-\d{2} 08:30发车，沈阳北站至大连。信息仅用于防疫追踪，到期删除。回复1同意$/);
    expect(await answer(phone, '1')).toBe(`【${SIGN}】请回复您的姓名。0返回 8求助 9重填`);
    expect(await answer(phone, '王大爷')).toContain('证件类型，请回复编号：1身份证');
    expect(await answer(phone, '1')).toBe(`【${SIGN}】请回复您的证件号码。0返回 8求助 9重填`);
    expect(await answer(phone, '210102199003071234')).toBe(`【${SIGN}】身份证号最后一位不对，请重新回复，例如210102199003071233。0返回 8求助 9重填`);
    expect(await answer(phone, '210102199003071233')).toContain('联系电话，请回复编号：1用本机号码 2换一个号码');
    expect(await answer(phone, '1')).toBe(`【${SIGN}】请核对：王*爷，2101**********1233，139****5678。回复1确认 2修改 0返回 8求助`);
    expect(await answer(phone, '1')).toBe(`【${SIGN}】辽A12345乘客登记已完成，祝您一路平安。需要再登记请回复1，有疑问请问乘务员`);

    const station = (await t.services.repos.apiKeys.create({ role: 'station', city: null })).key;
    const res = await t.app.inject({ method: 'GET', url: `/api/v1/trips/${tripCode}/roster`, headers: { authorization: `Bearer ${station}` } });
    expect(res.statusCode).toBe(200);
    const roster = res.json() as { registeredCount: number; passengers: { name: string; idNumber: string; phone: string; channel: string }[] };
    expect(roster.registeredCount).toBe(1);
    expect(roster.passengers[0]).toMatchObject({ name: '王*爷', idNumber: '2101**********1233', phone: '139****5678', channel: 'sms' });
  });

  it('when a delivery receipt arrives, then the message is marked delivered', async () => {
    const phone = '13912345678';
    const last = sentTo(phone).at(-1);
    if (!last) throw new Error('no SMS sent yet');
    const res = await t.app.inject({ method: 'POST', url: `/sms/aliyun/report?token=${TOKEN}`, payload: smsReportPush([{ sent: last }]) });
    expect(res.json()).toEqual({ code: 0, msg: '成功' });
    expect((await statusOf(phone))[0]).toBe('delivered');
  });

  it('when the same uplink is pushed again (same sequence_id, or same number, time and text), then nothing changes', async () => {
    const phone = '13912340001';
    await invite(phone);
    const sendTime = nextSendTime();
    sequence += 1;
    const first = smsUplinkPush([{ phone, content: '1', sequenceId: sequence, sendTime }]);
    const again = smsUplinkPush([{ phone, content: '1', sequenceId: sequence + 1_000_000, sendTime }]);
    await push(first);
    await waitFor('the name question', () => sentTo(phone)[1]);
    expect((await push(first)).json()).toEqual({ code: 0, msg: '成功' });
    expect((await push(again)).json()).toEqual({ code: 0, msg: '成功' });
    await t.services.sms.channel.drain();
    expect(sentTo(phone)).toHaveLength(2);
    expect(await answer(phone, '李四')).toContain('证件类型');
  });

  it('when replies arrive out of order in a push, or an older one arrives late, then they are applied in send_time order and the late one is ignored', async () => {
    const phone = '13912340002';
    await invite(phone);
    const consentAt = nextSendTime();
    const nameAt = nextSendTime();
    await push(smsUplinkPush([{ phone, content: '赵六', sequenceId: ++sequence, sendTime: nameAt }, { phone, content: '1', sequenceId: ++sequence, sendTime: consentAt }]));
    const menu = await waitFor('the id type menu', () => sentTo(phone)[1]);
    expect(menu.text).toContain('证件类型');
    const staleAt = new Date(clock - 60_000 + 8 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');
    await push(smsUplinkPush([{ phone, content: '9', sequenceId: ++sequence, sendTime: staleAt }]));
    await t.services.sms.channel.drain();
    expect(sentTo(phone)).toHaveLength(2);
    expect(await answer(phone, '1')).toContain('证件号码');
  });

  it('when the token is wrong or missing, then the push is refused with 401 and nothing is stored', async () => {
    const before = await t.services.sms.messages.uplinkCounts();
    const wrong = await push(smsUplinkPush([{ phone: '13912340003', content: '1' }]), 'nope');
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toMatchObject({ code: 'SMS_BAD_TOKEN' });
    const missing = await t.app.inject({ method: 'POST', url: '/sms/aliyun/report', payload: [] });
    expect(missing.statusCode).toBe(401);
    expect(await t.services.sms.messages.uplinkCounts()).toEqual(before);
  });

  it('when a push holds a malformed element, then it is skipped and the others are processed', async () => {
    const phone = '13912340004';
    await invite(phone);
    const res = await push([{ phone_number: '12345', content: 'x' }, ...smsUplinkPush([{ phone, content: '1', sequenceId: ++sequence, sendTime: nextSendTime() }])]);
    expect(res.json()).toEqual({ code: 0, msg: '成功' });
    expect((await waitFor('the name question', () => sentTo(phone)[1])).text).toContain('姓名');
    expect(t.logLines.some((l) => l.includes('sms uplink element skipped'))).toBe(true);
  });

  it('when a number is already registering for another trip, then a second invitation is refused as busy', async () => {
    const phone = '13912340005';
    await invite(phone);
    const otherDriver = new WechatUser(t.app);
    await registerTrip(otherDriver, '辽B22222', '鞍山');
    expect(await otherDriver.say(`短信登记 ${phone}`)).toContain('正在进行另一项短信登记');
  });

  it('when an unknown number texts a trip code, then registration starts; other texts from unknown numbers are ignored', async () => {
    const phone = '13912340006';
    expect((await push(smsUplinkPush([{ phone: '13912340007', content: '你好', sequenceId: ++sequence }]))).statusCode).toBe(200);
    expect(await answer(phone, `登记 ${tripCode}`)).toContain('乘客登记：辽A12345');
    await t.services.sms.channel.drain();
    expect(sentTo('13912340007')).toHaveLength(0);
  });

  it('when the number is invalid, then the conversation ends and the driver who invited is told on WeChat', async () => {
    const phone = '13700000001';
    stub.behaviour.invalid.add(phone);
    expect(await driver.say(`短信登记 ${phone}`)).toContain('已向');
    const notice = await waitFor('the notice to the driver', () => t.wechatApi.messagesTo(driver.openid).find((m) => JSON.stringify(m.body).includes('不是有效的手机号')));
    expect(JSON.stringify(notice.body)).toContain('137****0001');
    expect(await statusOf(phone)).toEqual(['failed']);
    const other = await t.services.repos.trips.lastByPlate('辽B22222');
    if (!other) throw new Error('the other trip is missing');
    expect(await t.services.sms.channel.inviteBySms(other, phone, 'staff')).toBe('sent');
  });

  it('when Alibaba answers with flow control, then the SMS is re-scheduled and sent once the window passes', async () => {
    const phone = '13912340008';
    stub.behaviour.flowControl.add(phone);
    expect(await driver.say(`短信登记 ${phone}`)).toContain('已向');
    const trip = await t.services.repos.trips.byCode(tripCode);
    const row = await waitFor('the flow-controlled row', async () => (await t.services.sms.messages.forTrip(trip?.id ?? '')).find((r) => r.phoneBlind === t.services.sms.messages.blind(phone) && r.lastErrorCode === 'isv.BUSINESS_LIMIT_CONTROL'));
    expect(row.status).toBe('queued');
    const delayed = await waitFor('the delayed job', () => t.services.queues.outbound.getJob(jobId('sms', row.id, 'fc1')));
    expect(await delayed.isDelayed()).toBe(true);
    stub.behaviour.flowControl.delete(phone);
    await delayed.promote();
    expect((await waitFor('the invitation', () => sentTo(phone)[0])).text).toContain('回复1同意');
    expect(await statusOf(phone)).toEqual(['sent']);
  });

  it('when a 1,000-message batch arrives (250 replies from 50 riders, 750 texts from unknown numbers), then it is answered and every message is processed in order', async () => {
    const riders = Array.from({ length: 50 }, (_, i) => `1501000${String(i).padStart(4, '0')}`);
    const strangers = Array.from({ length: 750 }, (_, i) => `1502${String(i).padStart(7, '0')}`);
    const at = (k: number) => new Date(clock + k * 1000 + 8 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');
    const items = [
      ...riders.flatMap((phone, r) => [`乘车码${tripCode}`, '1', '孙小七', '210102199003071233', '1'].map((content, k) => ({ phone, content, sequenceId: `b${r}-${k}`, sendTime: at(k) }))),
      ...strangers.map((phone, s) => ({ phone, content: '你好', sequenceId: `s${s}`, sendTime: at(0) })),
    ];
    clock += 10_000;
    const started = performance.now();
    const res = await push(smsUplinkPush([...items].reverse()));
    const answeredMs = performance.now() - started;
    expect(res.json()).toEqual({ code: 0, msg: '成功' });
    await t.services.sms.channel.drain();
    console.info(`sms uplink batch of 1000: answered in ${answeredMs.toFixed(0)} ms, processed in ${(performance.now() - started).toFixed(0)} ms`);
    const counts = await t.services.sms.messages.uplinkCounts();
    expect(counts['pending'] ?? 0).toBe(0);
    expect(counts['failed'] ?? 0).toBe(0);
    expect(counts['ignored'] ?? 0).toBeGreaterThanOrEqual(750);
    for (const phone of riders) {
      const last = await waitFor('the summary SMS', () => sentTo(phone).at(-1));
      expect(last.text).toContain('请核对：孙*七');
    }
  });

  it('when every SMS the stand-in received is measured, then each is at most 70 characters', () => {
    expect(stub.sent.length).toBeGreaterThan(20);
    for (const s of stub.sent) expect(smsLength(s.text), s.text).toBeLessThanOrEqual(SMS_MAX_CHARS);
    expect(stub.calls.every((c) => c.code !== 'SignatureDoesNotMatch')).toBe(true);
  });

  it('when a rider replies 8, then the driver who invited them is told over WeChat and the rider is asked the question again', async () => {
    const phone = '13912348888';
    expect(await driver.say(`短信登记 ${phone}`)).toContain('139****8888');
    await waitFor('the invitation', () => sentTo(phone)[0]);
    expect(await answer(phone, '8')).toContain('回复1同意');
    const notice = await waitFor('the notice to the driver', () => t.wechatApi.messagesTo(driver.openid).find((m) => JSON.stringify(m.body).includes('8 求助')));
    expect(JSON.stringify(notice.body)).toContain('139****8888');
    expect(JSON.stringify(notice.body)).not.toContain(phone);
  });
});

