import { sql } from 'drizzle-orm';
import {
  check, primaryKey, text, uniqueIndex,
} from 'drizzle-orm/pg-core';
import { sensitive } from './schema-core.js';
import { bytea, inList, timestamptz } from './columns.js';

/**
 * Data protection (issue 3): the key ring. The service's working keys are random data keys, generated once and kept
 * here only WRAPPED (AES-256-GCM) by a key derived from BOARDROLL_MASTER_KEY, so rotating the master key re-wraps them:
 * - one `stable` key set (blind-index, session and API-key-pepper keys): never changes, so lookups by identity
 *   number or phone, user keys, sessions, API keys and enrollment codes survive a rotation;
 * - `vault` keys (AES-256-GCM for `sensitive.vault_values`): a rotation makes a new one `current`, re-encrypts every
 *   value under it in batches, then retires the old one (its wrapped copies are deleted).
 * Only src/store/key-ring.ts and src/store/vault.ts read or write these tables.
 */

export const DATA_KEY_PURPOSES = ['stable', 'vault'] as const;
export type DataKeyPurpose = (typeof DATA_KEY_PURPOSES)[number];
/** current: used for new values · retiring: still opens values a rotation has not rewritten yet · retired: destroyed. */
export const DATA_KEY_STATES = ['current', 'retiring', 'retired'] as const;
export type DataKeyState = (typeof DATA_KEY_STATES)[number];

export const dataKeys = sensitive.table('data_keys', {
  /** The key id stored with every value sealed under it (`vault_values.key_id`). */
  id: text('id').primaryKey(),
  purpose: text('purpose', { enum: DATA_KEY_PURPOSES }).notNull(),
  state: text('state', { enum: DATA_KEY_STATES }).notNull(),
  /** Fingerprint of the master key this data key was made for (a rotation's target); never the key. */
  masterId: text('master_id').notNull(),
  createdAt: timestamptz('created_at').notNull().defaultNow(),
  retiredAt: timestamptz('retired_at'),
}, (t) => [
  uniqueIndex('data_keys_one_current_key').on(t.purpose).where(sql`state = 'current'`),
  check('data_keys_purpose_check', sql`purpose in (${inList(DATA_KEY_PURPOSES)})`),
  check('data_keys_state_check', sql`state in (${inList(DATA_KEY_STATES)})`),
]);

/** A data key sealed by one master key (associated data binds it to the key id and the master id). */
export const keyWraps = sensitive.table('key_wraps', {
  keyId: text('key_id').notNull().references(() => dataKeys.id, { onDelete: 'cascade' }),
  masterId: text('master_id').notNull(),
  wrapped: bytea('wrapped').notNull(),
  createdAt: timestamptz('created_at').notNull().defaultNow(),
}, (t) => [primaryKey({ columns: [t.keyId, t.masterId] })]);
