import { createServer } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, SMS_KINDS, type Config } from '../../../src/config.js';
import { AppError } from '../../../src/errors.js';
import { createSmsSender, flowControlDelayMs, type SmsSenderLog } from '../../../src/channels/sms/sms-sender.js';
import { renderSms, smsTemplateText } from '../../../src/channels/sms/sms-templates.js';
import { startAliyunSmsStub, type AliyunSmsStub } from '../../helpers/aliyun-sms-stub.js';

const AK = 'LTAI-test-key';
const SECRET = 'test-secret-0123456789';
const SIGN = '出行登记';
const PHONE = '13912345678';

function smsConfig(endpoint: string, secret = SECRET): Config['sms'] {
  return loadConfig({
    ALIYUN_ACCESS_KEY_ID: AK,
    ALIYUN_ACCESS_KEY_SECRET: secret,
    SMS_ENDPOINT: endpoint,
    SMS_PROTOCOL: 'http',
    SMS_SIGN_NAME: SIGN,
  }).sms;
}

/** Captures every log call as JSON text so a test can prove no phone number or parameter leaks. */
function captureLog(): SmsSenderLog & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (obj, msg) => lines.push(JSON.stringify({ level: 'info', msg, ...obj })),
    warn: (obj, msg) => lines.push(JSON.stringify({ level: 'warn', msg, ...obj })),
  };
}

let stub: AliyunSmsStub;
let sms: Config['sms'];

beforeAll(async () => {
  const dev = smsConfig('unused');
  stub = await startAliyunSmsStub({
    accessKeyId: AK,
    accessKeySecret: SECRET,
    signName: SIGN,
    templates: Object.fromEntries(SMS_KINDS.map((kind) => [dev.templates[kind], smsTemplateText(kind, 'zh-CN')])),
  });
  sms = smsConfig(stub.endpoint);
});
afterAll(() => stub.close());
afterEach(() => {
  stub.behaviour.flowControl.clear();
  stub.behaviour.invalid.clear();
});

describe('createSmsSender against the Alibaba Cloud SMS stub (real SDK, ACS3 signature)', () => {
  it('when the service accepts the SMS, then it returns the BizId and the phone shows exactly renderSms', async () => {
    const sender = createSmsSender(sms, { connectTimeoutMs: 2000, readTimeoutMs: 2000 });
    const params = { item: '姓名' };

    const result = await sender.send({ phone: `+86 ${PHONE}`, kind: 'ask', params, outId: 'msg-1' });

    expect(result).toMatchObject({ ok: true });
    const last = stub.sent.at(-1);
    expect(result.ok && result.bizId).toBe(last?.bizId);
    expect(last).toMatchObject({ phone: PHONE, signName: SIGN, templateCode: sms.templates.ask, params: { item: '姓名' }, outId: 'msg-1' });
    expect(last?.text).toBe('【出行登记】请回复您的姓名。0返回 8求助 9重填');
    expect(last?.text).toBe(renderSms({ kind: 'ask', params, locale: 'zh-CN', signName: SIGN }));
  });

  it('when params hold numbers, extra keys or over-long values, then TemplateParam carries only fitted string values', async () => {
    const sender = createSmsSender(sms);

    const result = await sender.send({ phone: PHONE, kind: 'invite', params: { plate: '辽A12345D', time: '11-26 08:30', from: '呼和浩特市', to: '克孜勒苏柯尔克孜自治州', extra: 42 } });

    expect(result.ok).toBe(true);
    expect(stub.sent.at(-1)?.params).toEqual({ plate: '辽A12345D', time: '11-26 08:30', from: '呼和浩特', to: '克孜勒苏柯尔' });
  });

  it('when the number is under flow control, then it is classified flow_control with a delay to the next minute', async () => {
    stub.behaviour.flowControl.add(PHONE);
    const now = new Date('2026-11-26T00:00:30.000Z'); // 08:00:30 China time
    const sender = createSmsSender(sms, { now: () => now });

    const result = await sender.send({ phone: PHONE, kind: 'ask', params: { item: '姓名' } });

    expect(result).toEqual({ ok: false, kind: 'flow_control', code: 'isv.BUSINESS_LIMIT_CONTROL', message: '触发分钟级流控Permits:1', delayMs: 31_000 });
  });

  it('when the service calls the number illegal, then it is classified invalid_number', async () => {
    stub.behaviour.invalid.add(PHONE);

    const result = await createSmsSender(sms).send({ phone: PHONE, kind: 'ask', params: { item: '姓名' } });

    expect(result).toMatchObject({ ok: false, kind: 'invalid_number', code: 'isv.MOBILE_NUMBER_ILLEGAL' });
  });

  it('when the number is not a mainland mobile, then it is refused before any request', async () => {
    const callsBefore = stub.calls.length;

    const result = await createSmsSender(sms).send({ phone: '139123456', kind: 'ask', params: { item: '姓名' } });

    expect(result).toMatchObject({ ok: false, kind: 'invalid_number', code: 'LOCAL_INVALID_NUMBER' });
    expect(stub.calls.length).toBe(callsBefore);
  });

  it('when the secret is wrong, then the stub rejects the signature and the result is permanent (a config error, not worth retrying)', async () => {
    const log = captureLog();
    const sentBefore = stub.sent.length;
    const sender = createSmsSender(smsConfig(stub.endpoint, 'not-the-secret'), { log });

    const result = await sender.send({ phone: PHONE, kind: 'ask', params: { item: '姓名' } });

    expect(result).toMatchObject({ ok: false, kind: 'permanent', code: 'SignatureDoesNotMatch' });
    expect(stub.calls.at(-1)).toMatchObject({ status: 400, code: 'SignatureDoesNotMatch' });
    expect(stub.sent.length).toBe(sentBefore);
    expect(JSON.stringify(result) + log.lines.join('\n')).not.toContain(PHONE);
  });

  it('when the stub never answers, then the send fails quickly as retryable and maybe-sent, with no URL or phone in the message', async () => {
    stub.behaviour.hangNext();
    const log = captureLog();
    const sender = createSmsSender(sms, { connectTimeoutMs: 300, readTimeoutMs: 300, log });
    const started = Date.now();

    const result = await sender.send({ phone: PHONE, kind: 'summary', params: { name: '张*爷', idno: '2101**********123X', phone: '139****5678' } });

    expect(Date.now() - started).toBeLessThan(2000);
    expect(result).toMatchObject({ ok: false, kind: 'retryable', code: 'REQUEST_TIMEOUT', maybeSent: true });
    const everything = JSON.stringify(result) + log.lines.join('\n');
    expect(everything).not.toContain(PHONE);
    expect(everything).not.toContain('http://');
    expect(everything).not.toContain('2101');
  });

  it('when the service answers 503, then it is retryable', async () => {
    stub.behaviour.failNextWith(503, 'ServiceUnavailable');

    const result = await createSmsSender(sms).send({ phone: PHONE, kind: 'ask', params: { item: '姓名' } });

    expect(result).toMatchObject({ ok: false, kind: 'retryable', code: 'ServiceUnavailable', maybeSent: false });
  });

  it('when the gateway throttles with retry-after, then it is retryable after that delay', async () => {
    stub.behaviour.failNextWith(400, 'Throttling.User', { retryAfterMs: 1500 });

    const result = await createSmsSender(sms).send({ phone: PHONE, kind: 'ask', params: { item: '姓名' } });

    expect(result).toMatchObject({ ok: false, kind: 'retryable', code: 'Throttling.User', retryAfterMs: 1500 });
  });

  it('when the account daily cap is reached, then it is flow_control until China-time midnight', async () => {
    stub.behaviour.failNextWith(200, 'isv.DAY_LIMIT_CONTROL', { message: '触发日发送限额' });
    const now = new Date('2026-11-26T15:00:00.000Z'); // 23:00 China time

    const result = await createSmsSender(sms, { now: () => now }).send({ phone: PHONE, kind: 'ask', params: { item: '姓名' } });

    expect(result).toMatchObject({ ok: false, kind: 'flow_control', code: 'isv.DAY_LIMIT_CONTROL', delayMs: 3_600_000 + 1000 });
  });

  it('when another isv code comes back, then it is permanent', async () => {
    stub.behaviour.failNextWith(200, 'isv.AMOUNT_NOT_ENOUGH', { message: '账户余额不足' });

    const result = await createSmsSender(sms).send({ phone: PHONE, kind: 'ask', params: { item: '姓名' } });

    expect(result).toEqual({ ok: false, kind: 'permanent', code: 'isv.AMOUNT_NOT_ENOUGH', message: '账户余额不足' });
  });

  it('when nothing listens on the endpoint, then it is retryable and not sent', async () => {
    const port = await new Promise<number>((resolve) => {
      const srv = createServer();
      srv.listen(0, '127.0.0.1', () => {
        const address = srv.address();
        srv.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });

    const result = await createSmsSender(smsConfig(`127.0.0.1:${port}`)).send({ phone: PHONE, kind: 'ask', params: { item: '姓名' } });

    expect(result).toMatchObject({ ok: false, kind: 'retryable', code: 'ECONNREFUSED', maybeSent: false });
    expect(JSON.stringify(result)).not.toContain(PHONE);
  });

  it('when the same template goes to one number 51 times in a day, then the 51st is day-window flow control', async () => {
    const phone = '13700000051';
    const sender = createSmsSender(sms);
    const results = [];
    for (let i = 0; i < 51; i += 1) results.push(await sender.send({ phone, kind: 'done', params: { plate: '辽A12345', status: '已完成' } }));

    expect(results.slice(0, 50).every((r) => r.ok)).toBe(true);
    expect(results[50]).toEqual({ ok: false, kind: 'flow_control', code: 'isv.BUSINESS_LIMIT_CONTROL', message: '触发天级流控Permits:50', delayMs: 86_400_000 });
  });

  it('when a send succeeds or fails, then the log lines carry codes and ids but never the number or the parameters', async () => {
    const log = captureLog();
    const sender = createSmsSender(sms, { log });
    stub.behaviour.flowControl.add('13600000000');

    await sender.send({ phone: PHONE, kind: 'summary', params: { name: '王*明', idno: '2101**********1233', phone: '139****5678' }, outId: 'msg-2' });
    await sender.send({ phone: '13600000000', kind: 'ask', params: { item: '来京前住址' } });

    expect(log.lines).toHaveLength(2);
    expect(log.lines[0]).toContain('"outId":"msg-2"');
    expect(log.lines[1]).toContain('isv.BUSINESS_LIMIT_CONTROL');
    const all = log.lines.join('\n');
    for (const secret of [PHONE, '13600000000', '王*明', '2101', '来京前住址']) expect(all).not.toContain(secret);
  });

  it('when credentials are missing, then creating the sender fails with SMS_NOT_CONFIGURED', () => {
    const bare = loadConfig({ SMS_ENDPOINT: stub.endpoint, SMS_PROTOCOL: 'http' }).sms;

    expect(() => createSmsSender(bare)).toThrow(AppError);
    expect(() => createSmsSender(bare)).toThrow('SMS needs ALIYUN_ACCESS_KEY_ID and ALIYUN_ACCESS_KEY_SECRET');
  });
});

describe('flowControlDelayMs', () => {
  const at = new Date('2026-11-26T01:59:15.000Z'); // 09:59:15 China time

  it.each([
    ['触发分钟级流控Permits:1', 45_000 + 1000],
    ['触发小时级流控Permits:5', 45_000 + 1000],
    ['触发天级流控Permits:10', 86_400_000],
    ['something else', 3_600_000],
  ])('when the message is %s, then the delay is %i ms', (message, expected) => {
    expect(flowControlDelayMs('isv.BUSINESS_LIMIT_CONTROL', message, at)).toBe(expected);
  });
});
