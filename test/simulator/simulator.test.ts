import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const RESULTS_DIR = join(import.meta.dirname, '../../test-results');

/** The simulator page in real headless Chromium, against the real signed webhook (and the real roster API). */
describe('channel simulator page', () => {
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  let base: string;
  beforeAll(async () => {
    t = await startTestApp({ env: { SIMULATOR: 'true' } });
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1100, height: 860 }, locale: 'zh-CN' });
    await page.goto(`${base}/simulator`);
  });
  afterAll(async () => {
    await browser?.close();
    await t.close();
  });

  const messages = () => page.locator('[data-testid="wechat-messages"] .msg');

  /** Sends a WeChat text as the selected user; resolves with the bot's text reply. */
  async function say(text: string): Promise<string> {
    const before = await messages().count();
    await page.getByTestId('wechat-input').fill(text);
    await page.getByTestId('wechat-send').click();
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="wechat-messages"] .msg').length >= n + 2 && !(document.getElementById('wx-send') as HTMLButtonElement).disabled, before);
    return (await page.locator('[data-testid="wechat-messages"] .msg[data-role="bot"]:not(.qr)').last().textContent()) ?? '';
  }

  it('when a driver registers a trip and passengers scan or type its code, then QR images appear, replies show, and the roster API lists the passengers', async () => {
    await page.getByTestId('wechat-user').selectOption('司机 张师傅');
    for (const [text, expected] of [['辽A12345', '多少人'], ['40', '驾驶员姓名'], ['张建国', '手机号'], ['13812345678', '登记人'], ['1', '乘务员'], ['2', '班次号'],
      ['K1234', '发车时间'], ['明天 08:30', '出发地'], ['沈阳北站', '目的地'], ['大连', '请核对']] as const) {
      expect(await say(text)).toContain(expected);
    }
    const done = await say('1');
    const code = /乘车码 (\d{6})/.exec(done)?.[1] ?? '';
    expect(code).toMatch(/^\d{6}$/);
    const qr = page.locator(`[data-testid="wechat-messages"] img[data-testid="qr"][data-code="${code}"]`);
    await qr.waitFor({ state: 'visible' });
    expect(await qr.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBeGreaterThan(100);

    // Passenger 1 scans the QR code (the scan bar keeps trip QR codes at hand for every simulated user).
    await page.getByTestId('wechat-user').selectOption('乘客 王小明');
    expect(await messages().count()).toBe(0);
    const before = await messages().count();
    await page.locator(`#wx-shelf img[data-testid="qr"][data-code="${code}"]`).click();
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="wechat-messages"] .msg').length >= n + 2, before);
    expect(await messages().last().textContent()).toContain('回复 1 同意');
    for (const [text, expected] of [['1', '姓名'], ['王小明', '证件类型'], ['210102199003071233', '手机号']] as const) expect(await say(text)).toContain(expected);
    expect(await say('13912345678')).toContain('请核对');
    expect(await say('1')).toContain('登记完成');

    // Passenger 2 types the trip code.
    await page.getByTestId('wechat-user').selectOption('乘客 李小红');
    expect(await say(code)).toContain('回复 1 同意');
    for (const [text, expected] of [['1', '姓名'], ['李小红', '证件类型'], ['4', '号码'], ['E12345678', '手机号']] as const) expect(await say(text)).toContain(expected);
    expect(await say('13700001111')).toContain('请核对');
    expect(await say('1')).toContain('登记完成');

    // Switching back shows the driver's own conversation.
    await page.getByTestId('wechat-user').selectOption('司机 张师傅');
    await expect.poll(() => page.getByTestId('wechat-messages').textContent()).toContain('辽A12345');

    const key = (await t.services.repos.apiKeys.create({ role: 'station', city: null })).key;
    const roster = await fetch(`${base}/api/v1/trips/${code}/roster`, { headers: { authorization: `Bearer ${key}` } });
    expect(roster.status).toBe(200);
    const body = await roster.json() as { registeredCount: number; passengers: { name: string; channel: string }[] };
    expect(body.registeredCount).toBe(2);
    expect(body.passengers.map((p) => p.name).sort()).toEqual(['李*红', '王*明']);

    mkdirSync(RESULTS_DIR, { recursive: true });
    await page.screenshot({ path: join(RESULTS_DIR, 'simulator.png'), fullPage: true });
  });

  it('when the SMS channel is not configured, then the SMS screen says so and sending is disabled', async () => {
    await expect.poll(() => page.getByTestId('sms-messages').textContent()).toContain('SMS channel not configured');
    expect(await page.getByTestId('sms-send').isDisabled()).toBe(true);
    const res = await fetch(`${base}/simulator/api/sms`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ phone: '13900001111', text: '1' }) });
    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({ code: 'SMS_NOT_CONFIGURED' });
  });

  it('when the simulator API gets a malformed request, then it answers a precise 400 and sends nothing', async () => {
    const res = await fetch(`${base}/simulator/api/wechat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: '司机', scan: '12' }) });
    expect(res.status).toBe(400);
    const body = await res.json() as { code: string; message: string };
    expect(body.code).toBe('INPUT_INVALID');
    expect(body.message).toContain('6-digit trip code');
    const png = await fetch(`${base}/simulator/qr/abc.png`);
    expect(png.status).toBe(400);
  });
});
