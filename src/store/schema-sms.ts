import { sql } from 'drizzle-orm';
import {
  check, index, integer, pgTable, text, uniqueIndex, uuid,
} from 'drizzle-orm/pg-core';
import { trips } from './schema-core.js';
import { bytea, inList, timestamptz } from './columns.js';

/**
 * SMS channel tables (issue 4). No phone number or text in clear: the number is a vault ref (kind 'phone') plus a keyed
 * blind index; template params and uplink texts are sealed (AES-256-GCM under the stable session key, AAD bound to
 * the row: they are short-lived, see src/store/sms.ts).
 */

/**
 * queued → sending → sent → delivered | failed. `uncertain`: the send may have reached Alibaba (timeout): not resent
 * until a receipt or a later re-check says otherwise. `superseded`: a newer question to the same number replaced it
 * before it went out (at most one open question per number).
 */
export const SMS_MESSAGE_STATUSES = ['queued', 'sending', 'sent', 'uncertain', 'delivered', 'failed', 'superseded'] as const;
export type SmsMessageStatus = (typeof SMS_MESSAGE_STATUSES)[number];

export const smsMessages = pgTable('sms_messages', {
  id: uuid('id').primaryKey(),
  /** Vault ref of the mobile number (kind 'phone'). */
  phoneRef: uuid('phone_ref'),
  phoneBlind: text('phone_blind').notNull(),
  kind: text('kind').notNull(),
  templateCode: text('template_code').notNull(),
  locale: text('locale').notNull().default('zh-CN'),
  /** JSON of the template params, sealed; cleared once the message reached a final state. */
  paramsSealed: bytea('params_sealed'),
  keyId: text('key_id').notNull(),
  status: text('status', { enum: SMS_MESSAGE_STATUSES }).notNull().default('queued'),
  bizId: text('biz_id'),
  /** OutId sent with SendSms (= id): receipts carry it back. */
  outId: text('out_id').notNull(),
  attempts: integer('attempts').notNull().default(0),
  lastErrorCode: text('last_error_code'),
  tripId: uuid('trip_id').references(() => trips.id),
  /** Dedupe key of the uplink that led to this message, or `invite-…` for an invitation. */
  conversationRef: text('conversation_ref'),
  /** Invitations: who invited (staff id, trip creator's user key, `ticketing:<ticketId>`). */
  invitedBy: text('invited_by'),
  createdAt: timestamptz('created_at').notNull().defaultNow(),
  updatedAt: timestamptz('updated_at').notNull().defaultNow(),
  sentAt: timestamptz('sent_at'),
  deliveredAt: timestamptz('delivered_at'),
}, (t) => [
  index('sms_messages_phone_blind_created_at_idx').on(t.phoneBlind, t.createdAt),
  index('sms_messages_biz_id_idx').on(t.bizId),
  index('sms_messages_trip_id_idx').on(t.tripId),
  check('sms_messages_status_check', sql`status in (${inList(SMS_MESSAGE_STATUSES)})`),
]);

export const SMS_UPLINK_STATUSES = ['pending', 'done', 'stale', 'ignored', 'failed'] as const;
export type SmsUplinkStatus = (typeof SMS_UPLINK_STATUSES)[number];

/**
 * Every uplink element received, once (unique dedupe key): the push is persisted before it is answered, then processed
 * in the background. Content is sealed and cleared after processing.
 */
export const smsUplinks = pgTable('sms_uplinks', {
  id: uuid('id').primaryKey(),
  /** `uplinkDedupeKey` (sequence_id based when the push carries one). */
  dedupeKey: text('dedupe_key').notNull(),
  /** Keyed hash of number + send_time + content: the same message pushed under another sequence_id. */
  contentKey: text('content_key').notNull(),
  phoneBlind: text('phone_blind').notNull(),
  /** The number, sealed (needed to process the element after a crash); cleared once processed. */
  phoneSealed: bytea('phone_sealed'),
  contentSealed: bytea('content_sealed'),
  keyId: text('key_id').notNull(),
  sentAt: timestamptz('sent_at'),
  status: text('status', { enum: SMS_UPLINK_STATUSES }).notNull().default('pending'),
  receivedAt: timestamptz('received_at').notNull().defaultNow(),
  processedAt: timestamptz('processed_at'),
}, (t) => [
  uniqueIndex('sms_uplinks_dedupe_key_key').on(t.dedupeKey),
  uniqueIndex('sms_uplinks_content_key_key').on(t.contentKey),
  index('sms_uplinks_phone_blind_sent_at_idx').on(t.phoneBlind, t.sentAt),
  index('sms_uplinks_status_received_at_idx').on(t.status, t.receivedAt),
  check('sms_uplinks_status_check', sql`status in (${inList(SMS_UPLINK_STATUSES)})`),
]);
