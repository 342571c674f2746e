import { z } from 'zod';

/**
 * The contract between the web side and the workers: queue names and job payloads. Job data sits in Redis in
 * clear text, so it carries ids only — never names, identity numbers or phone numbers (STYLE §1 BullMQ).
 */
export const QUEUES = { outbound: 'outbound', validate: 'validate', report: 'report', retention: 'retention' } as const;
export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

/** Send a trip's QR code image to the OA user who registered it (customer-service API). `openid` is sealed: src/security/recipient.ts. */
export const SendTripQrJob = z.strictObject({ kind: z.literal('wechat-trip-qr'), tripId: z.string().uuid(), openid: z.string().min(1), reqId: z.string().optional() });
/** Send an SMS that is already recorded in the outbound table (by id: its phone and text stay in the database). */
export const SendSmsJob = z.strictObject({ kind: z.literal('sms'), messageId: z.string().uuid(), reqId: z.string().optional() });
/** Send a text through the OA customer-service API (alerts to drivers and officials). */
export const SendWechatTextJob = z.strictObject({ kind: z.literal('wechat-text'), openid: z.string().min(1), key: z.string(), params: z.record(z.string(), z.union([z.string(), z.number()])), locale: z.enum(['zh-CN', 'en']) });
/** The rest of a reply too long for one passive reply (WeChat cuts at about 2048 bytes); `text` is sealed like `openid`. */
export const SendWechatContinuationJob = z.strictObject({ kind: z.literal('wechat-continuation'), openid: z.string().min(1), text: z.string().min(1), reqId: z.string().optional() });
/** The daily report to an enrolled official as an OA template message; `openid` and `url` (the signed download link) are sealed like `openid` above. */
export const SendWechatTemplateJob = z.strictObject({
  kind: z.literal('wechat-template'), openid: z.string().min(1), templateId: z.string().min(1),
  data: z.record(z.string(), z.string()), url: z.string().min(1).optional(), clientMsgId: z.string().min(1).max(32).optional(),
});
export const OutboundJob = z.discriminatedUnion('kind', [SendTripQrJob, SendSmsJob, SendWechatTextJob, SendWechatContinuationJob, SendWechatTemplateJob]);
export type OutboundJob = z.infer<typeof OutboundJob>;

/** Check a trip (capacity, same person on two trips, missing at departure, watch list): after a registration, at departure, after a watch-list upload. */
export const ValidateTripJob = z.strictObject({ kind: z.literal('validate-trip'), tripId: z.string().uuid(), reason: z.enum(['registration', 'departure', 'watchlist']) });
export type ValidateTripJob = z.infer<typeof ValidateTripJob>;

/** BullMQ job ids must not contain ':' and must not be all digits. */
export function jobId(...parts: string[]): string {
  return parts.join('-').replace(/:/g, '_');
}
