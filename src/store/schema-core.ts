import { sql } from 'drizzle-orm';
import {
  bigserial, boolean, char, check, date, index, jsonb, pgSchema, pgTable, smallint, text, uniqueIndex, uuid,
} from 'drizzle-orm/pg-core';
import { bytea, inList, timestamptz } from './columns.js';

/**
 * The store's tables. Sensitive values (names, phones, identity numbers, addresses) live only in the `sensitive`
 * schema, sealed with AES-256-GCM (src/store/vault.ts is the only module that touches it); every other table refers
 * to them by id (`*_ref`) and looks people up by keyed blind indexes (`*_blind`), never by plain text.
 * Change this file, then run `npx drizzle-kit generate` (drizzle.config.ts) to add a migration.
 */


/** 'openid': a trip creator's OA openid, so the validation worker can notify them (issue 5). */
export const VAULT_KINDS = ['name', 'phone', 'id_number', 'address', 'openid'] as const;
export type VaultKind = (typeof VAULT_KINDS)[number];
export const VAULT_OWNER_TYPES = ['trip', 'passenger', 'preregistration', 'staff'] as const;
export type VaultOwnerType = (typeof VAULT_OWNER_TYPES)[number];
export const TRIP_STATUSES = ['open', 'departed', 'closed'] as const;
export type TripStatus = (typeof TRIP_STATUSES)[number];
export const PASSENGER_CHANNELS = ['wechat', 'sms', 'wechaty', 'simulator', 'api'] as const;
export type PassengerChannel = (typeof PASSENGER_CHANNELS)[number];
export const REGISTERED_BY = ['self', 'crew', 'ticketing'] as const;
export type RegisteredBy = (typeof REGISTERED_BY)[number];
export const API_KEY_ROLES = ['station', 'authority', 'health', 'ticketing', 'admin'] as const;
export type ApiKeyRole = (typeof API_KEY_ROLES)[number];
export const STAFF_ROLES = ['crew', 'station', 'authority', 'health', 'admin'] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];

/** What a masked roster shows of a passenger (src/security/mask.ts forms). */
export interface MaskedPassenger { name: string; idNumber: string; phone: string | null; addressBefore: string | null; addressBeijing: string | null }

export const sensitive = pgSchema('sensitive');

/** One sealed value: ciphertext = iv ‖ tag ‖ ct, associated data = `${id}:${kind}`; key_id names the key version. */
export const vaultValues = sensitive.table('vault_values', {
  id: uuid('id').primaryKey(),
  kind: text('kind', { enum: VAULT_KINDS }).notNull(),
  ciphertext: bytea('ciphertext').notNull(),
  keyId: text('key_id').notNull(),
  ownerType: text('owner_type', { enum: VAULT_OWNER_TYPES }).notNull(),
  ownerId: uuid('owner_id'),
  purgeAfter: timestamptz('purge_after').notNull(),
  createdAt: timestamptz('created_at').notNull().defaultNow(),
}, (t) => [
  index('vault_values_owner_idx').on(t.ownerType, t.ownerId),
  index('vault_values_purge_after_idx').on(t.purgeAfter),
  check('vault_values_kind_check', sql`kind in (${inList(VAULT_KINDS)})`),
  check('vault_values_owner_type_check', sql`owner_type in (${inList(VAULT_OWNER_TYPES)})`),
]);

/** A single row sealed with the current key: a wrong BOARDROLL_MASTER_KEY is caught at start, not at first read. */
export const keyCheck = sensitive.table('key_check', {
  id: smallint('id').primaryKey().default(1),
  keyId: text('key_id').notNull(),
  ciphertext: bytea('ciphertext').notNull(),
  createdAt: timestamptz('created_at').notNull().defaultNow(),
  updatedAt: timestamptz('updated_at').notNull().defaultNow(),
}, () => [check('key_check_single_row', sql`id = 1`)]);

export const trips = pgTable('trips', {
  id: uuid('id').primaryKey().defaultRandom(),
  code: char('code', { length: 6 }).notNull(),
  plate: text('plate').notNull(),
  plateCity: text('plate_city'),
  declaredCount: smallint('declared_count').notNull(),
  driverNameRef: uuid('driver_name_ref'),
  driverPhoneRef: uuid('driver_phone_ref'),
  registrantIsDriver: boolean('registrant_is_driver').notNull(),
  registrantNameRef: uuid('registrant_name_ref'),
  registrantPhoneRef: uuid('registrant_phone_ref'),
  crewNameRef: uuid('crew_name_ref'),
  crewPhoneRef: uuid('crew_phone_ref'),
  crewIdType: smallint('crew_id_type'),
  crewIdRef: uuid('crew_id_ref'),
  tripNumber: text('trip_number'),
  departureAt: timestamptz('departure_at').notNull(),
  originText: text('origin_text').notNull(),
  originCity: text('origin_city'),
  destinationText: text('destination_text').notNull(),
  destinationCity: text('destination_city'),
  beijingBound: boolean('beijing_bound').notNull().default(false),
  reportingCity: text('reporting_city'),
  status: text('status', { enum: TRIP_STATUSES }).notNull().default('open'),
  /** User key (HMAC of channel + user id) of whoever created the trip; never the raw openid or number. */
  createdBy: text('created_by'),
  createdAt: timestamptz('created_at').notNull().defaultNow(),
  qrTicket: text('qr_ticket'),
  qrUrl: text('qr_url'),
  qrExpiresAt: timestamptz('qr_expires_at'),
  purgedAt: timestamptz('purged_at'),
}, (t) => [
  uniqueIndex('trips_code_key').on(t.code),
  index('trips_plate_created_at_idx').on(t.plate, t.createdAt.desc()),
  index('trips_reporting_city_departure_at_idx').on(t.reportingCity, t.departureAt),
  index('trips_trip_number_departure_at_idx').on(t.tripNumber, t.departureAt),
  check('trips_status_check', sql`status in (${inList(TRIP_STATUSES)})`),
  check('trips_declared_count_check', sql`declared_count between 1 and 999`),
  check('trips_code_check', sql`code ~ '^[0-9]{6}$'`),
]);

export const staffMembers = pgTable('staff_members', {
  id: uuid('id').primaryKey().defaultRandom(),
  userKey: text('user_key').notNull(),
  channel: text('channel').notNull(),
  role: text('role', { enum: STAFF_ROLES }).notNull(),
  city: text('city'),
  station: text('station'),
  enrolledAt: timestamptz('enrolled_at').notNull().defaultNow(),
  revokedAt: timestamptz('revoked_at'),
  /** Vault id of the member's OA openid (enrolled over `wechat`), for report messages; purged a year after enrollment, dropped on revoke. */
  contactRef: uuid('contact_ref'),
}, (t) => [
  uniqueIndex('staff_members_user_key_key').on(t.userKey),
  check('staff_members_role_check', sql`role in (${inList(STAFF_ROLES)})`),
]);

export const passengers = pgTable('passengers', {
  id: uuid('id').primaryKey().defaultRandom(),
  tripId: uuid('trip_id').notNull().references(() => trips.id),
  nameRef: uuid('name_ref'),
  idType: smallint('id_type').notNull(),
  idNumberRef: uuid('id_number_ref'),
  /** Blind index of the normalized identity number; cleared by the retention purge. */
  idBlind: text('id_blind'),
  phoneRef: uuid('phone_ref'),
  phoneBlind: text('phone_blind'),
  addrBeforeRef: uuid('addr_before_ref'),
  addrBeijingRef: uuid('addr_beijing_ref'),
  /** The masked forms shown on rosters and in reports (not identifying; saves opening the vault); cleared by the purge. */
  masked: jsonb('masked').$type<MaskedPassenger>(),
  channel: text('channel', { enum: PASSENGER_CHANNELS }).notNull(),
  registeredBy: text('registered_by', { enum: REGISTERED_BY }).notNull(),
  staffId: uuid('staff_id').references(() => staffMembers.id),
  userKey: text('user_key'),
  arrivedAt: timestamptz('arrived_at'),
  createdAt: timestamptz('created_at').notNull().defaultNow(),
  purgedAt: timestamptz('purged_at'),
}, (t) => [
  uniqueIndex('passengers_trip_id_id_blind_key').on(t.tripId, t.idBlind),
  index('passengers_user_key_created_at_idx').on(t.userKey, t.createdAt),
  index('passengers_id_blind_idx').on(t.idBlind),
  index('passengers_phone_blind_idx').on(t.phoneBlind),
  check('passengers_id_type_check', sql`id_type between 1 and 7`),
  check('passengers_channel_check', sql`channel in (${inList(PASSENGER_CHANNELS)})`),
  check('passengers_registered_by_check', sql`registered_by in (${inList(REGISTERED_BY)})`),
]);

/** Passengers sent in advance by a ticketing system; bound to a passenger once the rider confirms. */
export const preregistrations = pgTable('preregistrations', {
  id: uuid('id').primaryKey().defaultRandom(),
  ticketId: text('ticket_id').notNull(),
  tripNumber: text('trip_number').notNull(),
  departureDate: date('departure_date', { mode: 'string' }).notNull(),
  originText: text('origin_text'),
  nameRef: uuid('name_ref'),
  idType: smallint('id_type').notNull(),
  idNumberRef: uuid('id_number_ref'),
  idBlind: text('id_blind'),
  phoneRef: uuid('phone_ref'),
  phoneBlind: text('phone_blind'),
  createdAt: timestamptz('created_at').notNull().defaultNow(),
  claimedPassengerId: uuid('claimed_passenger_id').references(() => passengers.id),
  purgedAt: timestamptz('purged_at'),
}, (t) => [
  uniqueIndex('preregistrations_ticket_id_key').on(t.ticketId),
  index('preregistrations_trip_number_departure_date_idx').on(t.tripNumber, t.departureDate),
  index('preregistrations_id_blind_idx').on(t.idBlind),
  index('preregistrations_phone_blind_idx').on(t.phoneBlind),
  check('preregistrations_id_type_check', sql`id_type between 1 and 7`),
]);

export const apiKeys = pgTable('api_keys', {
  id: uuid('id').primaryKey().defaultRandom(),
  /** The first characters of the key (`br_` + 8), for lookup; the rest is only ever stored hashed. */
  keyPrefix: text('key_prefix').notNull(),
  /** HMAC-SHA256 (keyed with the API-key pepper) of the whole key, hex. */
  keyHash: text('key_hash').notNull(),
  role: text('role', { enum: API_KEY_ROLES }).notNull(),
  city: text('city'),
  station: text('station'),
  label: text('label'),
  createdAt: timestamptz('created_at').notNull().defaultNow(),
  expiresAt: timestamptz('expires_at'),
  revokedAt: timestamptz('revoked_at'),
}, (t) => [
  index('api_keys_key_prefix_idx').on(t.keyPrefix),
  uniqueIndex('api_keys_key_hash_key').on(t.keyHash),
  check('api_keys_role_check', sql`role in (${inList(API_KEY_ROLES)})`),
]);

export const enrollmentCodes = pgTable('enrollment_codes', {
  /** HMAC-SHA256 (keyed) of the code, hex: the code itself is shown once and never stored. */
  codeHash: text('code_hash').primaryKey(),
  role: text('role', { enum: STAFF_ROLES }).notNull(),
  city: text('city'),
  station: text('station'),
  createdAt: timestamptz('created_at').notNull().defaultNow(),
  expiresAt: timestamptz('expires_at').notNull(),
  usedAt: timestamptz('used_at'),
  /** User key of the staff member who used the code. */
  usedBy: text('used_by'),
}, () => [check('enrollment_codes_role_check', sql`role in (${inList(STAFF_ROLES)})`)]);

/** Append-only (a trigger refuses UPDATE, DELETE and TRUNCATE). details never hold plain-text personal data. */
export const auditLog = pgTable('audit_log', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  at: timestamptz('at').notNull().defaultNow(),
  actor: text('actor').notNull(),
  action: text('action').notNull(),
  subject: text('subject'),
  reason: text('reason'),
  details: jsonb('details').$type<Record<string, unknown>>(),
}, (t) => [
  index('audit_log_at_idx').on(t.at),
  index('audit_log_actor_at_idx').on(t.actor, t.at),
]);

