import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, WechatUser, type TestApp } from '../helpers/app.js';

async function waitFor<T>(probe: () => T | undefined, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('trip QR code delivery', () => {
  let t: TestApp;
  beforeAll(async () => { t = await startTestApp(); await t.startWorkers(); });
  afterAll(async () => { await t.close(); });

  it('when a driver confirms a trip, then a worker creates the string-scene QR code and sends it as an image through the customer-service API', async () => {
    const driver = new WechatUser(t.app);
    for (const answer of ['辽A12345', '40', '张建国', '13812345678', '1', '2', '无', '明天 08:30', '沈阳北站', '北京']) await driver.say(answer);
    const done = await driver.say('1');
    const code = /乘车码 (\d{6})/.exec(done)?.[1] ?? '';

    const sent = await waitFor(() => t.wechatApi.messagesTo(driver.openid).find((m) => m.kind === 'custom'));
    expect(sent.body['msgtype']).toBe('image');
    const qr = [...t.wechatApi.state.qrcodes.values()].find((q) => q.scene === `trip-${code}`);
    expect(qr?.actionName).toBe('QR_STR_SCENE');
    expect(qr?.expireSeconds).toBeGreaterThan(86_400);
    const trip = await t.services.repos.trips.byCode(code);
    expect(trip?.qr?.url).toBe(qr?.url);

    // The passenger who scans that QR code lands in the trip's registration.
    const passenger = new WechatUser(t.app);
    expect(await passenger.scan(`trip-${code}`, true)).toContain('辽A12345');
  });
});
