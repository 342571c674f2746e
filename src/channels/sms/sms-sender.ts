import { createRequire } from 'node:module';
import type { Config, SmsKind } from '../../config.js';
import { AppError } from '../../errors.js';
import { isCnMobile, normalizeCnMobile } from './sms-phone.js';
import { fitParams, type SmsParamInput } from './sms-templates.js';

/**
 * Sends one templated SMS through the real Alibaba Cloud SDK (dysmsapi 2017-05-25, ACS3-HMAC-SHA256).
 *
 * Facts this relies on (../shared/reference/aliyun-sms.md):
 * - The package is CJS with `exports.default = Client`. Node's ESM default import gives the module object (class at
 *   `.default`) while vitest's interop gives the class itself, so the SDK is loaded with `createRequire`, which yields
 *   `module.exports` everywhere; the class is `.default`.
 * - `endpoint` is `host[:port]` and `protocol` `http`/`https`, both from config, so tests point it at a 127.0.0.1 stub.
 * - Both `readTimeout` and `connectTimeout` must be set: the "connect" timeout is a socket idle timer, so the effective
 *   wait is about min(read, connect). The SDK defaults each to 3000 ms; here both default to 5000 ms.
 * - No SDK retries (no `retryOptions`): SendSms is not idempotent, the queue decides on retries from the result.
 * - Business errors come back as HTTP 200 with `body.code !== 'OK'` and the SDK does not throw; it throws only for
 *   HTTP 4xx/5xx (ClientError / ThrottlingError / ServerError), network errors and timeouts.
 * - SDK error messages carry the full request URL (phone number and TemplateParam): they are never passed on.
 *   Results, thrown errors and log lines carry codes and sanitized messages only.
 *
 * Classification (`SmsSendResult`):
 * - `flow_control`: `isv.BUSINESS_LIMIT_CONTROL` (per number: minute/hour/day window named in the message) and
 *   `isv.DAY_LIMIT_CONTROL` (the account's own daily cap) — with `delayMs`, the suggested wait before trying again.
 * - `invalid_number`: `isv.MOBILE_NUMBER_ILLEGAL`, or a number that is not a mainland mobile (caught before the call).
 * - `retryable`: Throttling* (retryAfterMs from `x-acs-retry-after`), HTTP 5xx, `isp.SYSTEM_ERROR`, network errors and
 *   timeouts. `maybeSent: true` when the request may have reached Alibaba (timeout, reset, unreadable reply): the
 *   message may already be on its way, so check the delivery receipt (SmsReport / QuerySendDetails) before resending.
 * - `permanent`: every other `isv.*`/`isp.*` code and every other 4xx. This includes `SignatureDoesNotMatch`
 *   and `InvalidAccessKeyId.*`: a wrong secret will not become right by retrying; it needs a human to fix the config,
 *   so the job should fail at once (UnrecoverableError) and alert instead of burning retries.
 */

const require = createRequire(import.meta.url);
const Dysmsapi = require('@alicloud/dysmsapi20170525') as typeof import('@alicloud/dysmsapi20170525');
const { $OpenApiUtil } = require('@alicloud/openapi-core') as typeof import('@alicloud/openapi-core');

export type SmsFailureKind = 'flow_control' | 'invalid_number' | 'retryable' | 'permanent';
export type SmsSendResult =
  | { ok: true; bizId: string; requestId: string | undefined }
  | { ok: false; kind: 'flow_control'; code: string; message: string; delayMs: number }
  | { ok: false; kind: 'invalid_number'; code: string; message: string }
  | { ok: false; kind: 'retryable'; code: string; message: string; maybeSent: boolean; retryAfterMs?: number }
  | { ok: false; kind: 'permanent'; code: string; message: string };

export interface SmsSendInput {
  /** Mainland mobile; +86 / 0086 / spaces are accepted and stripped. */
  phone: string;
  kind: SmsKind;
  /** The template's variables (SMS_TEMPLATE_VARIABLES[kind]); fitted to their maxima, extra keys dropped. */
  params: SmsParamInput;
  /** Correlation id echoed in delivery receipts (`out_id`); no personal data, at most 256 characters. */
  outId?: string;
}

export interface SmsSender {
  send(input: SmsSendInput): Promise<SmsSendResult>;
}

/** The log calls the sender makes (a pino Logger fits). Only codes, kinds, template codes and ids are logged. */
export interface SmsSenderLog {
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
}

export interface SmsSenderOptions {
  connectTimeoutMs?: number;
  readTimeoutMs?: number;
  log?: SmsSenderLog;
  /** Clock for calendar flow-control windows; defaults to the system clock. */
  now?: () => Date;
}

const DEFAULT_TIMEOUT_MS = 5000;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const CHINA_OFFSET_MS = 8 * HOUR;
/** A little slack after a window boundary so the retry does not land in the same window. */
const WINDOW_SLACK_MS = 1000;

/** Removes what may identify a person from an upstream message: URLs (they carry the query) and long digit runs. */
export function sanitizeUpstreamMessage(message: string): string {
  return message
    .replace(/(?:https?:\/\/|\/\?)\S*/gi, '<url>')
    .replace(/\+?\d[\d\s-]{5,}\d/g, '<number>')
    .slice(0, 200);
}

/** Milliseconds until the next calendar boundary of `unit` in China time (minute and hour windows are calendar windows). */
function untilNextBoundary(now: Date, unit: number): number {
  const local = now.getTime() + CHINA_OFFSET_MS;
  return unit - (local % unit) + WINDOW_SLACK_MS;
}

/**
 * The suggested wait for a flow-control code. `isv.BUSINESS_LIMIT_CONTROL`'s message names the window
 * (`触发分钟级流控Permits:1`, `触发小时级流控Permits:5`, `触发天级流控Permits:10`): minute and hour windows are calendar
 * windows in UTC+8, the day window is a rolling 24 h. `isv.DAY_LIMIT_CONTROL` is the account's daily cap: until the next
 * China-time midnight. An unrecognised message gets an hour.
 */
export function flowControlDelayMs(code: string, message: string, now: Date): number {
  if (code === 'isv.DAY_LIMIT_CONTROL') return untilNextBoundary(now, DAY);
  if (/分钟|minute/i.test(message)) return untilNextBoundary(now, MINUTE);
  if (/小时|hour/i.test(message)) return untilNextBoundary(now, HOUR);
  if (/天|day/i.test(message)) return DAY;
  return HOUR;
}

const FLOW_CONTROL_CODES = new Set(['isv.BUSINESS_LIMIT_CONTROL', 'isv.DAY_LIMIT_CONTROL']);
const INVALID_NUMBER_CODES = new Set(['isv.MOBILE_NUMBER_ILLEGAL']);
const RETRYABLE_BODY_CODES = new Set(['isp.SYSTEM_ERROR']);

function classifyBusiness(code: string, rawMessage: string, now: Date): SmsSendResult {
  const message = sanitizeUpstreamMessage(rawMessage);
  if (FLOW_CONTROL_CODES.has(code)) return { ok: false, kind: 'flow_control', code, message, delayMs: flowControlDelayMs(code, rawMessage, now) };
  if (INVALID_NUMBER_CODES.has(code)) return { ok: false, kind: 'invalid_number', code, message };
  if (RETRYABLE_BODY_CODES.has(code)) return { ok: false, kind: 'retryable', code, message, maybeSent: false };
  return { ok: false, kind: 'permanent', code, message };
}

const NOT_SENT_NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

function errorField(err: unknown, field: string): unknown {
  return typeof err === 'object' && err !== null ? (err as Record<string, unknown>)[field] : undefined;
}

/** Maps anything the SDK throws to a result; never copies the SDK's own message (it holds the URL). */
function classifyThrown(err: unknown): SmsSendResult {
  const name = errorField(err, 'name');
  const code = errorField(err, 'code');
  const status = errorField(err, 'statusCode');
  // The SDK's AlibabaCloudError family (ClientError, ThrottlingError, ServerError): an HTTP status and a service code.
  // Matched by shape, not instanceof, so a second copy of @alicloud/openapi-core cannot break it.
  if (typeof status === 'number' && typeof code === 'string') {
    const data = errorField(err, 'data');
    const upstream = errorField(data, 'Message');
    const message = sanitizeUpstreamMessage(`HTTP ${status}${typeof upstream === 'string' && upstream !== '' ? `: ${upstream}` : ''}`);
    const serviceCode = code === '' ? 'UNKNOWN' : code;
    if (name === 'ThrottlingError' || /throttling/i.test(serviceCode)) {
      const retryAfter = errorField(err, 'retryAfter');
      return { ok: false, kind: 'retryable', code: serviceCode, message, maybeSent: false, ...(typeof retryAfter === 'number' && retryAfter > 0 ? { retryAfterMs: retryAfter } : {}) };
    }
    if (status >= 500) return { ok: false, kind: 'retryable', code: serviceCode, message, maybeSent: status !== 503 };
    if (status === 429) return { ok: false, kind: 'retryable', code: serviceCode, message, maybeSent: false };
    return { ok: false, kind: 'permanent', code: serviceCode, message };
  }
  const rawMessage = errorField(err, 'message');
  if (name === 'RequestTimeoutError' || (typeof rawMessage === 'string' && /^(Read|Connect)Timeout\(/.test(rawMessage))) {
    const which = typeof rawMessage === 'string' ? /^(\w+Timeout\(\d+\))/.exec(rawMessage)?.[1] : undefined;
    return { ok: false, kind: 'retryable', code: 'REQUEST_TIMEOUT', message: `no reply in time (${which ?? 'timeout'})`, maybeSent: true };
  }
  if (typeof code === 'string' && /^E[A-Z_]+$/.test(code)) {
    return { ok: false, kind: 'retryable', code, message: `network error ${code}`, maybeSent: !NOT_SENT_NETWORK_CODES.has(code) };
  }
  if (err instanceof SyntaxError) {
    return { ok: false, kind: 'retryable', code: 'BAD_REPLY', message: 'the reply was not JSON', maybeSent: true };
  }
  return { ok: false, kind: 'retryable', code: 'UNKNOWN', message: `unexpected ${typeof name === 'string' ? name : 'error'} from the SMS client`, maybeSent: true };
}

export function createSmsSender(sms: Config['sms'], opts: SmsSenderOptions = {}): SmsSender {
  if (!sms.accessKeyId || !sms.accessKeySecret) {
    throw new AppError('SMS_NOT_CONFIGURED', 'SMS needs ALIYUN_ACCESS_KEY_ID and ALIYUN_ACCESS_KEY_SECRET', 500);
  }
  const readTimeout = opts.readTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  const connectTimeout = opts.connectTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  const now = opts.now ?? (() => new Date());
  const log = opts.log;
  const client = new Dysmsapi.default(new $OpenApiUtil.Config({
    accessKeyId: sms.accessKeyId,
    accessKeySecret: sms.accessKeySecret,
    endpoint: sms.endpoint,
    protocol: sms.protocol,
    readTimeout,
    connectTimeout,
  }));

  async function send(input: SmsSendInput): Promise<SmsSendResult> {
    const templateCode = sms.templates[input.kind];
    const params = fitParams(input.kind, input.params);
    if (input.outId !== undefined && (input.outId.length === 0 || input.outId.length > 256)) {
      throw new AppError('SMS_BAD_OUT_ID', `sms ${input.kind}: outId must be 1 to 256 characters, got ${input.outId.length}`, 500);
    }
    const logBase = { smsKind: input.kind, templateCode, outId: input.outId };
    const phone = normalizeCnMobile(input.phone);
    if (!isCnMobile(phone)) {
      const result: SmsSendResult = { ok: false, kind: 'invalid_number', code: 'LOCAL_INVALID_NUMBER', message: 'not a mainland mobile number (11 digits starting with 1)' };
      log?.warn({ ...logBase, result: result.kind, code: result.code }, 'sms not sent');
      return result;
    }
    const request = new Dysmsapi.SendSmsRequest({
      phoneNumbers: phone,
      signName: sms.signName,
      templateCode,
      templateParam: JSON.stringify(params),
      ...(input.outId === undefined ? {} : { outId: input.outId }),
    });
    let result: SmsSendResult;
    try {
      const response = await client.sendSms(request);
      const body = response.body;
      if (body?.code === 'OK') {
        result = { ok: true, bizId: body.bizId ?? '', requestId: body.requestId };
      } else {
        result = classifyBusiness(body?.code ?? 'EMPTY_REPLY', body?.message ?? '', now());
      }
    } catch (err: unknown) {
      result = classifyThrown(err);
    }
    if (result.ok) log?.info({ ...logBase, bizId: result.bizId }, 'sms accepted');
    else log?.warn({ ...logBase, result: result.kind, code: result.code, upstreamMessage: result.message }, 'sms not sent');
    return result;
  }

  return { send };
}
