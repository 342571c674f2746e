/**
 * A local stand-in for Alibaba Cloud SMS (Dysmsapi 2017-05-25, action SendSms) that speaks the real wire protocol,
 * for tests that drive the REAL SDK (`createSmsSender`) against 127.0.0.1. No network beyond loopback.
 *
 * Use:
 * ```ts
 * const stub = await startAliyunSmsStub({ accessKeyId: 'ak', accessKeySecret: 'sk', signName: '出行登记',
 *   templates: { SMS_DEV_ASK: smsTemplateText('ask', 'zh-CN'), … } });
 * const config = loadConfig({ ALIYUN_ACCESS_KEY_ID: 'ak', ALIYUN_ACCESS_KEY_SECRET: 'sk', SMS_ENDPOINT: stub.endpoint,
 *   SMS_PROTOCOL: 'http', … });
 * // … the code under test sends; then:
 * expect(stub.sent.at(-1)?.text).toBe('【出行登记】请回复您的姓名。0返回 8求助 9重填');
 * // the rider answers: the test POSTs smsUplinkPush([{ phone, content: '张大爷' }]) to our /sms/aliyun/uplink?token=…
 * afterAll(() => stub.close());
 * ```
 *
 * What it checks, like the service does:
 * - ACS3-HMAC-SHA256 signature, recomputed from the request (reference §4.4): `x-acs-content-sha256` = sha256(body);
 *   canonical query (decoded, sorted, RFC 3986 re-encoded); canonical headers from the `SignedHeaders` list of the
 *   Authorization header (which must include host and every x-acs-* header sent); `x-acs-date` within 15 minutes;
 *   nonce not reused. A wrong secret → 400 `SignatureDoesNotMatch`; an unknown AccessKeyId → 404
 *   `InvalidAccessKeyId.NotFound`; a replayed nonce → 400 `SignatureNonceUsed`; stale date → 400 `InvalidTimeStamp.Expired`.
 * - `x-acs-action: SendSms` (else 404 `InvalidAction.NotFound`), `x-acs-version: 2017-05-25` (else 400 `InvalidVersion`).
 * - Required PhoneNumbers / SignName / TemplateCode (else 400 `MissingPhoneNumbers` …).
 * - Business rules, answered as HTTP 200 with a `Code` ≠ OK (the SDK does not throw for these):
 *   unknown sign → `isv.SMS_SIGNATURE_ILLEGAL`; unknown template → `isv.SMS_TEMPLATE_ILLEGAL`; TemplateParam not a JSON
 *   object of strings → `isv.INVALID_JSON_PARAM`; a `${var}` without a value → `isv.TEMPLATE_MISSING_PARAMETERS`; an empty
 *   value → `isv.TEMPLATE_PARAMS_ILLEGAL`; a value over 35 characters → `isv.PARAM_LENGTH_LIMIT`; a link in a value →
 *   `isv.PARAM_NOT_SUPPORT_URL`; a malformed number or one in `behaviour.invalid` → `isv.MOBILE_NUMBER_ILLEGAL`;
 *   more than 1000 numbers → `isv.MOBILE_COUNT_OVER_LIMIT`; a number in `behaviour.flowControl` →
 *   `isv.BUSINESS_LIMIT_CONTROL` `触发分钟级流控Permits:1`; the 51st SMS within a rolling 24 h for the same
 *   (sign, template, number) → `isv.BUSINESS_LIMIT_CONTROL` `触发天级流控Permits:50` (notification template limit).
 *   When a call names several numbers and one fails a check, the whole call fails (nothing is recorded).
 * - Accepted: `{"Code":"OK","Message":"OK","BizId":"…^0","RequestId":"…"}`; one `sent` entry per number, with the text
 *   the phone shows (`【sign】` + filled template).
 *
 * Scripted faults: `behaviour.failNextWith(status, code, { message?, retryAfterMs? })` answers the next request with that
 * status and code (status 200 = a business error body; a `Throttling*` code gets `x-acs-retry-after`);
 * `behaviour.hangNext()` accepts the next request and never answers (timeout tests). `calls` lists every request's
 * outcome. `close()` drops hung connections too.
 */
import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface AliyunSmsStubOptions {
  accessKeyId: string;
  accessKeySecret: string;
  /** Approved templates: TemplateCode → text with `${var}` placeholders. */
  templates: Record<string, string>;
  /** The approved signature (without 【】). */
  signName: string;
  /** Clock (ms since epoch) for the date check and the 50/day window; defaults to Date.now. */
  now?: () => number;
}

export interface StubSentSms {
  phone: string;
  signName: string;
  templateCode: string;
  params: Record<string, string>;
  /** What the phone shows: `【signName】` + the filled template. */
  text: string;
  outId: string | undefined;
  bizId: string;
}

export interface StubCall {
  action: string | undefined;
  status: number;
  code: string;
}

export interface AliyunSmsStubBehaviour {
  /** Numbers that get `isv.BUSINESS_LIMIT_CONTROL` (minute window). */
  flowControl: Set<string>;
  /** Numbers that get `isv.MOBILE_NUMBER_ILLEGAL`. */
  invalid: Set<string>;
  /** The next request gets this status and error code (200 = business error in the body). */
  failNextWith(status: number, code: string, extra?: { message?: string; retryAfterMs?: number }): void;
  /** The next request is read but never answered. */
  hangNext(): void;
}

export interface AliyunSmsStub {
  /** `127.0.0.1:PORT`, the form SMS_ENDPOINT takes (use with SMS_PROTOCOL=http). */
  endpoint: string;
  sent: StubSentSms[];
  calls: StubCall[];
  behaviour: AliyunSmsStubBehaviour;
  close(): Promise<void>;
}

const ACTION = 'SendSms';
const VERSION = '2017-05-25';
const FIFTEEN_MINUTES = 15 * 60_000;
const DAY = 24 * 60 * 60_000;
const NOTIFICATION_DAILY_LIMIT = 50;
const VARIABLE_MAX = 35;
const PLACEHOLDER = /\$\{([A-Za-z][A-Za-z0-9_]*)\}/g;

/** RFC 3986 encoding as the ACS3 canonical query uses it. */
function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

function parseQuery(rawQuery: string): Map<string, string> | null {
  const out = new Map<string, string>();
  if (rawQuery === '') return out;
  for (const pair of rawQuery.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair : pair.slice(0, eq);
    const value = eq < 0 ? '' : pair.slice(eq + 1);
    try {
      out.set(decodeURIComponent(key), decodeURIComponent(value));
    } catch {
      return null;
    }
  }
  return out;
}

function canonicalQuery(query: Map<string, string>): string {
  return [...query.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${rfc3986(k)}=${rfc3986(v)}`)
    .join('&');
}

function normalizeMobile(raw: string): string {
  let s = raw.trim();
  if (s.startsWith('+')) s = s.slice(1);
  if (s.startsWith('0086')) s = s.slice(4);
  else if (s.startsWith('86') && s.length === 13) s = s.slice(2);
  return s;
}

function fakeBizId(): string {
  const digits = Array.from({ length: 18 }, () => Math.floor(Math.random() * 10)).join('');
  return `${digits.replace(/^0/, '9')}^0`;
}

function fakeRequestId(): string {
  return randomUUID().toUpperCase();
}

/** Builds the JSON body Alibaba pushes to the SmsUp HTTP endpoint (our /sms/aliyun/uplink), for end-to-end tests. */
export function smsUplinkPush(
  items: readonly { phone: string; content: string; sequenceId?: number | string; destCode?: string; signName?: string; sendTime?: string }[],
): Record<string, unknown>[] {
  return items.map((item, i) => ({
    phone_number: item.phone,
    send_time: item.sendTime ?? chinaTime(new Date()),
    content: item.content,
    ...(item.signName === undefined ? {} : { sign_name: item.signName }),
    dest_code: item.destCode ?? '1234',
    sequence_id: item.sequenceId ?? Date.now() * 1000 + i,
  }));
}

/** Builds the JSON body Alibaba pushes to the SmsReport HTTP endpoint (our /sms/aliyun/report), from a `sent` entry. */
export function smsReportPush(
  items: readonly { sent: Pick<StubSentSms, 'phone' | 'bizId' | 'outId'>; success?: boolean; errCode?: string; errMsg?: string }[],
): Record<string, unknown>[] {
  const now = chinaTime(new Date());
  return items.map((item) => ({
    phone_number: item.sent.phone,
    send_time: now,
    report_time: now,
    success: item.success ?? true,
    err_code: item.errCode ?? (item.success === false ? 'MK:0001' : 'DELIVERED'),
    err_msg: item.errMsg ?? (item.success === false ? '用户接收失败' : '用户接收成功'),
    sms_size: '1',
    biz_id: item.sent.bizId,
    out_id: item.sent.outId ?? '',
  }));
}

/** `yyyy-MM-dd HH:mm:ss` in UTC+8, the push format. */
function chinaTime(at: Date): string {
  return new Date(at.getTime() + 8 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');
}

export async function startAliyunSmsStub(options: AliyunSmsStubOptions): Promise<AliyunSmsStub> {
  const now = options.now ?? Date.now;
  const sent: StubSentSms[] = [];
  const calls: StubCall[] = [];
  const flowControl = new Set<string>();
  const invalid = new Set<string>();
  const scripted: ({ type: 'fail'; status: number; code: string; message?: string; retryAfterMs?: number } | { type: 'hang' })[] = [];
  const nonces = new Map<string, number>();
  /** (sign, template, phone) → submit times, for the rolling 24 h notification limit. */
  const daily = new Map<string, number[]>();

  function reply(res: ServerResponse, action: string | undefined, status: number, body: Record<string, unknown>, headers: Record<string, string> = {}): void {
    calls.push({ action, status, code: String(body['Code'] ?? '') });
    res.writeHead(status, { 'content-type': 'application/json;charset=utf-8', ...headers });
    res.end(JSON.stringify(body));
  }

  function gatewayError(res: ServerResponse, action: string | undefined, status: number, code: string, message: string): void {
    reply(res, action, status, { RequestId: fakeRequestId(), HostId: 'dysmsapi.aliyuncs.com', Code: code, Message: message, Recommend: `https://api.aliyun.com/troubleshoot?q=${code}` });
  }

  function business(res: ServerResponse, action: string | undefined, code: string, message: string): void {
    reply(res, action, 200, { RequestId: fakeRequestId(), Code: code, Message: message });
  }

  /** Returns an error [status, code, message] or null when the signature holds. */
  function verifySignature(req: IncomingMessage, body: Buffer, query: Map<string, string>): [number, string, string] | null {
    const auth = req.headers.authorization ?? '';
    const m = /^ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]{64})$/.exec(auth);
    if (!m) return [400, 'IncompleteSignature', 'The request signature does not conform to Aliyun standards.'];
    const [, credential = '', signedHeaderList = '', signature = ''] = m;
    if (credential !== options.accessKeyId) return [404, 'InvalidAccessKeyId.NotFound', 'Specified access key is not found.'];
    const signedHeaders = signedHeaderList.split(';');
    const sortedLower = [...signedHeaders].map((h) => h.toLowerCase()).sort();
    if (signedHeaders.join(';') !== sortedLower.join(';')) return [400, 'IncompleteSignature', 'SignedHeaders must be lowercase and sorted.'];
    const mustSign = ['host', ...Object.keys(req.headers).filter((h) => h.startsWith('x-acs-'))];
    const missing = mustSign.filter((h) => !signedHeaders.includes(h));
    if (missing.length > 0) return [400, 'IncompleteSignature', `Headers not signed: ${missing.join(',')}.`];
    const contentHash = req.headers['x-acs-content-sha256'];
    if (contentHash !== sha256Hex(body)) return [400, 'InvalidParameter.ContentSha256', 'x-acs-content-sha256 does not match the body.'];
    const canonicalHeaders = signedHeaders
      .map((h) => `${h}:${(req.headersDistinct[h] ?? []).map((v) => v.trim()).sort().join(',')}\n`)
      .join('');
    const canonicalRequest = [req.method ?? '', (req.url ?? '/').split('?')[0] ?? '/', canonicalQuery(query), canonicalHeaders, signedHeaderList, contentHash].join('\n');
    const stringToSign = `ACS3-HMAC-SHA256\n${sha256Hex(canonicalRequest)}`;
    const expected = createHmac('sha256', options.accessKeySecret).update(stringToSign).digest('hex');
    if (!timingSafeEqual(Buffer.from(expected), Buffer.from(signature))) {
      return [400, 'SignatureDoesNotMatch', `Specified signature does not match our calculation. The server string to sign is:${stringToSign}`];
    }
    const date = Date.parse(String(req.headers['x-acs-date'] ?? ''));
    if (!Number.isFinite(date) || Math.abs(now() - date) > FIFTEEN_MINUTES) return [400, 'InvalidTimeStamp.Expired', 'Specified time stamp or date value is expired.'];
    const nonce = String(req.headers['x-acs-signature-nonce'] ?? '');
    if (nonce === '') return [400, 'MissingSignatureNonce', 'SignatureNonce is mandatory for this action.'];
    for (const [n, at] of nonces) if (now() - at > FIFTEEN_MINUTES) nonces.delete(n);
    if (nonces.has(nonce)) return [400, 'SignatureNonceUsed', 'Specified signature nonce was used already.'];
    nonces.set(nonce, now());
    return null;
  }

  function sendSms(res: ServerResponse, query: Map<string, string>): void {
    const required = ['PhoneNumbers', 'SignName', 'TemplateCode'];
    for (const name of required) {
      if ((query.get(name) ?? '') === '') return gatewayError(res, ACTION, 400, `Missing${name}`, `${name} is mandatory for this action.`);
    }
    const signName = query.get('SignName') ?? '';
    const templateCode = query.get('TemplateCode') ?? '';
    if (signName !== options.signName) return business(res, ACTION, 'isv.SMS_SIGNATURE_ILLEGAL', '该账号下找不到对应签名');
    const template = options.templates[templateCode];
    if (template === undefined) return business(res, ACTION, 'isv.SMS_TEMPLATE_ILLEGAL', '该账号下找不到对应模板');

    const variables = [...template.matchAll(PLACEHOLDER)].map((m) => m[1] ?? '');
    let params: Record<string, string> = {};
    const rawParam = query.get('TemplateParam');
    if (rawParam !== undefined && rawParam !== '') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(rawParam);
      } catch {
        return business(res, ACTION, 'isv.INVALID_JSON_PARAM', 'JSON参数不合法，只接受字符串值');
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || !Object.values(parsed).every((v) => typeof v === 'string')) {
        return business(res, ACTION, 'isv.INVALID_JSON_PARAM', 'JSON参数不合法，只接受字符串值');
      }
      params = parsed as Record<string, string>;
    }
    for (const name of variables) {
      const value = params[name];
      if (value === undefined) return business(res, ACTION, 'isv.TEMPLATE_MISSING_PARAMETERS', `模板缺少变量:${name}`);
      if (value.trim() === '') return business(res, ACTION, 'isv.TEMPLATE_PARAMS_ILLEGAL', `模板变量不能为空:${name}`);
      if (value.length > VARIABLE_MAX) return business(res, ACTION, 'isv.PARAM_LENGTH_LIMIT', `参数超出长度限制:${name}`);
      if (/https?:\/\/|www\./i.test(value)) return business(res, ACTION, 'isv.PARAM_NOT_SUPPORT_URL', '不支持URL');
    }

    const phones = (query.get('PhoneNumbers') ?? '').split(',').map(normalizeMobile);
    if (phones.length > 1000) return business(res, ACTION, 'isv.MOBILE_COUNT_OVER_LIMIT', '手机号码数量超过限制');
    if (phones.some((p) => !/^1\d{10}$/.test(p) || invalid.has(p))) return business(res, ACTION, 'isv.MOBILE_NUMBER_ILLEGAL', '非法手机号');
    if (phones.some((p) => flowControl.has(p))) return business(res, ACTION, 'isv.BUSINESS_LIMIT_CONTROL', '触发分钟级流控Permits:1');
    const at = now();
    const windows = phones.map((p) => {
      const key = `${signName}\u0000${templateCode}\u0000${p}`;
      const recent = (daily.get(key) ?? []).filter((t) => at - t < DAY);
      daily.set(key, recent);
      return recent;
    });
    if (windows.some((w) => w.length >= NOTIFICATION_DAILY_LIMIT)) {
      return business(res, ACTION, 'isv.BUSINESS_LIMIT_CONTROL', `触发天级流控Permits:${NOTIFICATION_DAILY_LIMIT}`);
    }
    const bizId = fakeBizId();
    const text = `【${signName}】${template.replace(PLACEHOLDER, (_whole, name: string) => params[name] ?? '')}`;
    const outId = query.get('OutId');
    phones.forEach((phone, i) => {
      windows[i]?.push(at);
      sent.push({ phone, signName, templateCode, params, text, outId: outId === '' ? undefined : outId, bizId });
    });
    reply(res, ACTION, 200, { Code: 'OK', Message: 'OK', BizId: bizId, RequestId: fakeRequestId() });
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const action = typeof req.headers['x-acs-action'] === 'string' ? req.headers['x-acs-action'] : undefined;
      const next = scripted.shift();
      if (next?.type === 'hang') {
        calls.push({ action, status: 0, code: 'HANG' });
        return;
      }
      const body = Buffer.concat(chunks);
      const rawQuery = (req.url ?? '').includes('?') ? (req.url ?? '').slice((req.url ?? '').indexOf('?') + 1) : '';
      const query = parseQuery(rawQuery);
      if (query === null) return gatewayError(res, action, 400, 'InvalidParameter', 'The query string is not well-formed.');
      const bad = verifySignature(req, body, query);
      if (bad) return gatewayError(res, action, ...bad);
      if (next?.type === 'fail') {
        const message = next.message ?? `scripted ${next.code}`;
        if (next.status === 200) return business(res, action, next.code, message);
        const headers: Record<string, string> = /throttling/i.test(next.code) ? { 'x-acs-retry-after': String(next.retryAfterMs ?? 1000) } : {};
        return reply(res, action, next.status, { RequestId: fakeRequestId(), HostId: 'dysmsapi.aliyuncs.com', Code: next.code, Message: message }, headers);
      }
      if (action !== ACTION) return gatewayError(res, action, 404, 'InvalidAction.NotFound', 'Specified api is not found, please check your url and method.');
      if (req.headers['x-acs-version'] !== VERSION) return gatewayError(res, action, 400, 'InvalidVersion', 'Specified parameter Version is not valid.');
      if (req.method !== 'POST' && req.method !== 'GET') return gatewayError(res, action, 405, 'UnsupportedHTTPMethod', 'This http method is not supported.');
      sendSms(res, query);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `127.0.0.1:${port}`,
    sent,
    calls,
    behaviour: {
      flowControl,
      invalid,
      failNextWith(status, code, extra) {
        scripted.push({ type: 'fail', status, code, ...(extra?.message === undefined ? {} : { message: extra.message }), ...(extra?.retryAfterMs === undefined ? {} : { retryAfterMs: extra.retryAfterMs }) });
      },
      hangNext() {
        scripted.push({ type: 'hang' });
      },
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
