import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';

/** The simulator's SMS side speaks Alibaba Cloud's uplink push format to the real uplink endpoint. */
describe('simulator SMS uplink', () => {
  let t: TestApp;
  beforeAll(async () => { t = await startTestApp({ env: { SIMULATOR: 'true', SMS_UPLINK_TOKEN: 'simulator-uplink-token' } }); });
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
});
