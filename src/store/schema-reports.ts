import { sql } from 'drizzle-orm';
import {
  bigint, boolean, check, date, index, integer, jsonb, pgTable, text, uniqueIndex, uuid,
} from 'drizzle-orm/pg-core';
import { inList, timestamptz } from './columns.js';

/**
 * Daily reports (issue 6): who receives each city's report, and one row per city and day that makes delivery
 * exactly-once (UNIQUE(city, date): the row is claimed before building, marked `sent` only after the SMTP server
 * accepted). No personal data here: e-mail addresses of the receiving departments only, file metadata and counts.
 */

/** pending: claimed / being built; built: kept, nothing to deliver (no SMTP_URL or no recipients); sent; failed: delivery failed (retried). */
export const REPORT_STATUSES = ['pending', 'built', 'sent', 'failed'] as const;
export type ReportStatus = (typeof REPORT_STATUSES)[number];

export const cityRecipients = pgTable('city_recipients', {
  /** 6-digit GB/T 2260 city code (`210100`), as in trips.reporting_city. */
  city: text('city').primaryKey(),
  emails: text('emails').array().notNull().default(sql`'{}'::text[]`),
  /** Attach the (masked) workbook to the e-mail, besides the signed link. */
  attach: boolean('attach').notNull().default(false),
  updatedAt: timestamptz('updated_at').notNull().defaultNow(),
});

export const reportRuns = pgTable('report_runs', {
  id: uuid('id').primaryKey().defaultRandom(),
  city: text('city').notNull(),
  /** The report day (departure date in Asia/Shanghai). */
  date: date('date', { mode: 'string' }).notNull(),
  status: text('status', { enum: REPORT_STATUSES }).notNull().default('pending'),
  /** Delivery attempts made (each SMTP try counts, success or not). */
  attempts: integer('attempts').notNull().default(0),
  lastError: text('last_error'),
  /** The masked workbook kept under DATA_DIR/reports. */
  filePath: text('file_path'),
  fileSize: bigint('file_size', { mode: 'number' }),
  fileSha256: text('file_sha256'),
  /** Summary counts: trips, declared, registered, arrived, absent, missing, alerts. */
  counts: jsonb('counts').$type<Record<string, number>>(),
  /** Who holds the run right now (`job:<id>` or `cli:<pid>`) and until when; a crashed holder's lease expires. */
  leaseHolder: text('lease_holder'),
  leaseUntil: timestamptz('lease_until'),
  /** The Message-ID of the accepted e-mail (stable per city and day, so receivers can drop a repeat). */
  messageId: text('message_id'),
  recipientsCount: integer('recipients_count'),
  /** WeChat delivery outcome: 'sent', 'skipped: …' (why), or null when not tried. */
  wechat: text('wechat'),
  sentAt: timestamptz('sent_at'),
  createdAt: timestamptz('created_at').notNull().defaultNow(),
  updatedAt: timestamptz('updated_at').notNull().defaultNow(),
}, (t) => [
  uniqueIndex('report_runs_city_date_key').on(t.city, t.date),
  index('report_runs_date_idx').on(t.date),
  check('report_runs_status_check', sql`status in (${inList(REPORT_STATUSES)})`),
]);
