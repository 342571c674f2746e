import { sql } from 'drizzle-orm';
import {
  check, index, jsonb, pgTable, text, uniqueIndex, uuid,
} from 'drizzle-orm/pg-core';
import { trips } from './schema-core.js';
import { inList, timestamptz } from './columns.js';

/**
 * Oversight tables (issue 5): validation findings (`alerts`), the health watch list (blind indexes only) and the
 * per-trip contact the validation worker notifies (the creator's OA openid, sealed in the vault; here only its ref).
 */

export const ALERT_KINDS = ['over_capacity', 'duplicate_trip', 'missing_at_departure', 'watchlist'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

/** One finding of the validation worker; unique per (trip, kind, subject) so a re-run never repeats it. */
export const alerts = pgTable('alerts', {
  id: uuid('id').primaryKey().defaultRandom(),
  tripId: uuid('trip_id').notNull().references(() => trips.id),
  /** The trip's reporting city when the finding was made (API scope). */
  city: text('city'),
  kind: text('kind', { enum: ALERT_KINDS }).notNull(),
  /** 'trip' for trip-level findings, else the passenger id (never personal data). */
  subject: text('subject').notNull(),
  /** Counts and ids only. */
  details: jsonb('details').$type<Record<string, unknown>>(),
  createdAt: timestamptz('created_at').notNull().defaultNow(),
  /** When the notification to the trip's contact was queued (null: not yet, or nobody to tell). */
  notifiedAt: timestamptz('notified_at'),
}, (t) => [
  uniqueIndex('alerts_trip_kind_subject_key').on(t.tripId, t.kind, t.subject),
  index('alerts_city_created_at_idx').on(t.city, t.createdAt),
  check('alerts_kind_check', sql`kind in (${inList(ALERT_KINDS)})`),
]);

/** Identity numbers uploaded by the health role, kept only as keyed blind indexes. */
export const watchlist = pgTable('watchlist', {
  idBlind: text('id_blind').primaryKey(),
  /** `key:<api key id>` of the uploader. */
  addedBy: text('added_by').notNull(),
  city: text('city'),
  addedAt: timestamptz('added_at').notNull().defaultNow(),
});

/** Who to tell about a trip's findings: the OA user who created it (openid sealed in the vault, kind 'openid'). */
export const tripContacts = pgTable('trip_contacts', {
  tripId: uuid('trip_id').primaryKey().references(() => trips.id),
  channel: text('channel').notNull(),
  openidRef: uuid('openid_ref'),
  locale: text('locale').notNull().default('zh-CN'),
  createdAt: timestamptz('created_at').notNull().defaultNow(),
});
