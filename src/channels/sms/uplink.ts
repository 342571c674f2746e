import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { InboundMessage } from '../../contracts/conversation.js';
import { InputError } from '../../errors.js';
import { describeBadMobile, isCnMobile, normalizeCnMobile } from './sms-phone.js';

/**
 * Parsing of Alibaba Cloud SMS HTTP batch pushes (reference §2.2, §2.4): SmsUp (the rider's replies) and SmsReport
 * (delivery receipts). Both are `POST application/json` with a JSON ARRAY body; one push may hold several messages.
 * Parsing is element-wise: a malformed element is reported in `skipped` (index + PII-free issues) and the others are
 * kept, because the push is retried as a whole and a single bad element must not block the rest. The route answers
 * 200 `{"code":0,"msg":"成功"}` for a parsed batch, and 400 only when the body is not an array at all.
 *
 * Field notes: `sequence_id` is a number in the older doc and a string in the current one: both are accepted and
 * kept as a string (a number beyond 2^53 has already lost precision in JSON.parse; nothing can be done about that).
 * `sign_name` is optional. Unknown extra fields are ignored (Alibaba may add fields). `phone_number` is normalized
 * (`+86`, `0086`, spaces stripped) and must be a mainland mobile. `send_time` is `yyyy-MM-dd HH:mm:ss` in China
 * time (`yyyyMMddHHmmss` in the older MNS doc); `sentAt` is null when it is in neither form.
 */

const MAX_CONTENT = 2000;

const phoneField = z.string().transform((raw, ctx) => {
  const phone = normalizeCnMobile(raw);
  if (!isCnMobile(phone)) {
    ctx.addIssue({ code: 'custom', message: `expected a mainland mobile number (11 digits starting with 1), ${describeBadMobile(phone)}` });
    return z.NEVER;
  }
  return phone;
});

const stringOrNumber = z.union([z.string(), z.number()]).transform((v) => (typeof v === 'number' ? String(v) : v.trim()));
const optionalText = z.string().nullish().transform((v) => (v === null || v === undefined || v.trim() === '' ? undefined : v.trim()));

/** `yyyy-MM-dd HH:mm:ss` or `yyyyMMddHHmmss`, China time (UTC+8) → Date; null when neither. */
export function parseChinaTime(value: string): Date | null {
  const m = /^(\d{4})-?(\d{2})-?(\d{2})[ T]?(\d{2}):?(\d{2}):?(\d{2})$/.exec(value.trim());
  if (!m) return null;
  const [, y, mo, d, h, mi, s] = m;
  const date = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}+08:00`);
  return Number.isNaN(date.getTime()) ? null : date;
}

export const SmsUplinkSchema = z
  .object({
    phone_number: phoneField,
    send_time: z.string().min(1),
    content: z.string().max(MAX_CONTENT),
    sign_name: optionalText,
    dest_code: stringOrNumber,
    sequence_id: stringOrNumber.optional().nullable(),
  })
  .transform((m) => ({
    /** Normalized 11-digit mainland mobile: the rider's userId on the SMS channel. */
    phone: m.phone_number,
    sendTime: m.send_time,
    sentAt: parseChinaTime(m.send_time),
    content: m.content,
    signName: m.sign_name,
    destCode: m.dest_code,
    /** Always a string when present; undefined when the push carried none (or an empty one). */
    sequenceId: m.sequence_id === null || m.sequence_id === undefined || m.sequence_id === '' ? undefined : m.sequence_id,
  }));
export type SmsUplink = z.infer<typeof SmsUplinkSchema>;

const booleanish = z.union([z.boolean(), z.enum(['true', 'false'])]).transform((v) => v === true || v === 'true');
const sizeField = z.union([z.number().int().min(0), z.string().regex(/^\d+$/, 'expected a whole number')]).transform((v) => Number(v));

export const SmsReportSchema = z
  .object({
    phone_number: phoneField,
    send_time: z.string().min(1),
    report_time: z.string().min(1),
    success: booleanish,
    err_code: z.string(),
    err_msg: z.string().nullish(),
    sms_size: sizeField.nullish(),
    biz_id: z.string().min(1),
    out_id: optionalText,
  })
  .transform((r) => ({
    phone: r.phone_number,
    sendTime: r.send_time,
    reportTime: r.report_time,
    reportedAt: parseChinaTime(r.report_time),
    success: r.success,
    /** Carrier status code: `DELIVERED` on success. */
    errCode: r.err_code,
    errMsg: r.err_msg ?? '',
    /** Billed segments. */
    smsSize: r.sms_size ?? 1,
    bizId: r.biz_id,
    /** Our OutId from SendSms, when one was given. */
    outId: r.out_id,
  }));
export type SmsReport = z.infer<typeof SmsReportSchema>;

/** One element that was left out, and why (paths and messages only: no values). */
export interface SkippedElement {
  index: number;
  issues: { path: string; message: string }[];
}
export interface ParsedBatch<T> {
  items: T[];
  skipped: SkippedElement[];
}

function describeType(body: unknown): string {
  if (body === null) return 'null';
  if (body === undefined) return 'no body';
  if (typeof body === 'string') return body.trim() === '' ? 'an empty string' : 'a string (is the Content-Type application/json?)';
  if (typeof body === 'object') return 'an object';
  return `a ${typeof body}`;
}

function parseBatch<S extends z.ZodType>(what: string, schema: S, body: unknown): ParsedBatch<z.output<S>> {
  if (!Array.isArray(body)) {
    throw new InputError('SMS_BAD_BATCH', `${what} push: expected a JSON array of messages, got ${describeType(body)}`);
  }
  const items: z.output<S>[] = [];
  const skipped: SkippedElement[] = [];
  body.forEach((element: unknown, index) => {
    const parsed = schema.safeParse(element);
    if (parsed.success) items.push(parsed.data);
    else {
      skipped.push({
        index,
        issues: parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join('.') || '(element)', message: issue.message })),
      });
    }
  });
  return { items, skipped };
}

/** SmsUp batch push → the valid uplink messages plus what was skipped. Throws InputError SMS_BAD_BATCH for a non-array. */
export function parseUplinkBatch(body: unknown): ParsedBatch<SmsUplink> {
  return parseBatch('SmsUp', SmsUplinkSchema, body);
}

/** SmsReport batch push → the valid delivery receipts plus what was skipped. Throws InputError SMS_BAD_BATCH for a non-array. */
export function parseReportBatch(body: unknown): ParsedBatch<SmsReport> {
  return parseBatch('SmsReport', SmsReportSchema, body);
}

const SAFE_ID = /^[A-Za-z0-9_.-]{1,64}$/;

function shortHash(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32);
}

/**
 * Idempotency key of an uplink delivery (also the reqId / job id): `sms-<sequence_id>`, or, when the push carried no
 * usable sequence_id, `sms-h<hash of phone, send_time and content>`. Never contains `:`, never all digits, never the
 * phone number or the text in clear (job ids sit in Redis).
 */
export function uplinkDedupeKey(item: Pick<SmsUplink, 'sequenceId' | 'phone' | 'sendTime' | 'content'>): string {
  if (item.sequenceId !== undefined && SAFE_ID.test(item.sequenceId)) return `sms-${item.sequenceId}`;
  if (item.sequenceId !== undefined) return `sms-h${shortHash('seq', item.sequenceId)}`;
  return `sms-h${shortHash(item.phone, item.sendTime, item.content)}`;
}

/** Idempotency key of a delivery receipt: one per (BizId, number); `smsr-<hash>` (BizIds hold `^`, numbers are PII). */
export function reportDedupeKey(item: Pick<SmsReport, 'bizId' | 'phone'>): string {
  return `smsr-${shortHash(item.bizId, item.phone)}`;
}

/** The normalized inbound message of one uplink: the rider's number is the userId, the text is the trimmed content. */
export function uplinkToInbound(item: SmsUplink): InboundMessage {
  return { channel: 'sms', userId: item.phone, dedupeKey: uplinkDedupeKey(item), input: { type: 'text', text: item.content.trim() } };
}
