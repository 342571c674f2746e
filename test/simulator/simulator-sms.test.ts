import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';

/** The simulator's SMS side speaks Alibaba Cloud's uplink push format to the real uplink endpoint. */
describe('simulator SMS uplink', () => {
  let t: TestApp;
  beforeAll(async () => { t = await startTestApp({ env: { SIMULATOR: 'true', SMS_UPLINK_TOKEN: 'simulator-uplink-token' } }); await t.startWorkers(); });

  async function wechat(user: string, text: string): Promise<string> {
    const res = await t.app.inject({ method: 'POST', url: '/simulator/api/wechat', payload: { user, text } });
    expect(res.statusCode).toBe(200);
    return (res.json() as { reply: string }).reply;
  }
  async function outbox(phone: string): Promise<string[]> {
    const res = await t.app.inject({ method: 'GET', url: '/simulator/api/sms/outbox', query: { phone } });
    expect(res.statusCode).toBe(200);
    return (res.json() as { messages: { text: string }[] }).messages.map((m) => m.text);
  }
  async function nextSms(phone: string, count: number): Promise<string> {
    for (let i = 0; i < 200; i += 1) {
      const texts = await outbox(phone);
      if (texts.length >= count) return texts[count - 1] ?? '';
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no SMS number ${count} for the simulated phone: ${JSON.stringify(await outbox(phone))} ${JSON.stringify(await t.services.sms.messages.uplinkCounts())}`);
  }
  async function sms(phone: string, text: string): Promise<void> {
    const res = await t.app.inject({ method: 'POST', url: '/simulator/api/sms', payload: { phone, text } });
    expect(res.statusCode).toBe(200);
  }
  afterAll(async () => { await t.close(); });

  it('when the SMS channel is configured, then a simulated SMS is accepted by the real uplink endpoint and stored', async () => {
    const status = await t.app.inject({ method: 'GET', url: '/simulator/api/status' });
    expect(status.json()).toMatchObject({ sms: { enabled: true } });
    const before = Object.values(await t.services.sms.messages.uplinkCounts()).reduce((a, b) => a + b, 0);
    const res = await t.app.inject({ method: 'POST', url: '/simulator/api/sms', payload: { phone: '13900001111', text: '1' } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ accepted: true });
    const after = Object.values(await t.services.sms.messages.uplinkCounts()).reduce((a, b) => a + b, 0);
    expect(after).toBe(before + 1);
  });

  it('when the simulated phone number is malformed, then the answer is a precise 400', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/simulator/api/sms', payload: { phone: '1390000', text: '1' } });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'INPUT_INVALID' });
    expect((res.json() as { message: string }).message).toContain('11-digit');
  });

  it('when no Alibaba Cloud account is configured, then the simulator phone receives the invitation and completes a registration by SMS', async () => {
    for (const answer of ['辽A12345', '40', '张建国', '13812345678', '1', '2', '无', '明天 08:30', '沈阳北站', '北京']) await wechat('driver-sim', answer);
    const code = /乘车码 (\d{6})/.exec(await wechat('driver-sim', '1'))?.[1] ?? '';
    expect(await wechat('driver-sim', '短信登记 13900002222')).toContain('139****2222');
    const phone = '13900002222';
    expect(await nextSms(phone, 1)).toContain('回复1同意');
    await sms(phone, '1');
    expect(await nextSms(phone, 2)).toContain('姓名');
    await sms(phone, '张大爷');
    await nextSms(phone, 3);
    await sms(phone, '1');
    await nextSms(phone, 4);
    await sms(phone, '210102195001011239');
    await nextSms(phone, 5);
    await sms(phone, '1');
    await nextSms(phone, 6);
    await sms(phone, '北京市朝阳区建国路2号');
    await nextSms(phone, 7);
    await sms(phone, '北京市朝阳区建国路3号');
    const summary = await nextSms(phone, 8);
    expect(summary).toContain('2101**********1239');
    await sms(phone, '1');
    expect(await nextSms(phone, 9)).toContain('登记');
    for (const text of await outbox(phone)) expect([...text].length).toBeLessThanOrEqual(70);
    const trip = await t.services.repos.trips.byCode(code);
    const roster = await t.services.repos.passengers.roster(trip?.id ?? '');
    expect(roster.map((p) => [p.idNumber, p.phone, p.channel])).toEqual([['210102195001011239', phone, 'sms']]);
  });
});
