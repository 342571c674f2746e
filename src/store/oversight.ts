import { and, asc, desc, eq, gte, inArray, isNull, lte, ne, type SQL } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import { normalizeIndexValue } from '../security/cipher.js';
import type { DerivedKeys } from '../security/keys.js';
import type { Db } from './db.js';
import { idNumberBlindIndex } from './passengers.js';
import { passengers, trips } from './schema.js';
import { alerts, tripContacts, watchlist, type AlertKind } from './schema-oversight.js';
import { toTrip, type Trip } from './trips.js';
import type { Vault } from './vault.js';

/** A finding of the validation worker, before it is stored. */
export interface Finding {
  tripId: string;
  city: string | null;
  kind: AlertKind;
  /** 'trip' or a passenger id. */
  subject: string;
  details: Record<string, unknown>;
}

export interface Alert extends Finding { id: string; createdAt: Date; notifiedAt: Date | null }
export interface AlertWithTrip extends Alert { trip: Trip }

export interface AlertQuery {
  /** Only alerts of this city (a city-scoped key); undefined: every city. */
  city?: string | undefined;
  tripId?: string | undefined;
  kind?: AlertKind | undefined;
  since?: Date | undefined;
  limit: number;
}

const TWO_HOURS_MS = 2 * 3600_000;

function alertOf(r: typeof alerts.$inferSelect): Alert {
  return { id: r.id, tripId: r.tripId, city: r.city, kind: r.kind, subject: r.subject, details: r.details ?? {}, createdAt: r.createdAt, notifiedAt: r.notifiedAt };
}

/** Alerts (findings, deduplicated per trip + kind + subject). */
export function createAlertRepository({ db }: { db: Db }) {
  return {
    /** Stores the findings not stored before; returns only the new ones. */
    async record(findings: readonly Finding[], tx?: Db): Promise<Alert[]> {
      if (findings.length === 0) return [];
      const rows = await (tx ?? db).insert(alerts)
        .values(findings.map((f) => ({ tripId: f.tripId, city: f.city, kind: f.kind, subject: f.subject, details: f.details })))
        .onConflictDoNothing({ target: [alerts.tripId, alerts.kind, alerts.subject] })
        .returning();
      return rows.map(alertOf);
    },

    /** A trip's alerts whose notification was not queued yet, oldest first. */
    async unnotified(tripId: string, tx?: Db): Promise<Alert[]> {
      const rows = await (tx ?? db).select().from(alerts)
        .where(and(eq(alerts.tripId, tripId), isNull(alerts.notifiedAt)))
        .orderBy(asc(alerts.createdAt), asc(alerts.id));
      return rows.map(alertOf);
    },

    async markNotified(ids: readonly string[], at: Date, tx?: Db): Promise<void> {
      if (ids.length === 0) return;
      await (tx ?? db).update(alerts).set({ notifiedAt: at }).where(and(inArray(alerts.id, [...ids]), isNull(alerts.notifiedAt)));
    },

    /** Newest first, with their trips. */
    async list(query: AlertQuery, tx?: Db): Promise<AlertWithTrip[]> {
      const where: (SQL | undefined)[] = [
        query.city === undefined ? undefined : eq(alerts.city, query.city),
        query.tripId === undefined ? undefined : eq(alerts.tripId, query.tripId),
        query.kind === undefined ? undefined : eq(alerts.kind, query.kind),
        query.since === undefined ? undefined : gte(alerts.createdAt, query.since),
      ];
      const rows = await (tx ?? db).select().from(alerts).innerJoin(trips, eq(trips.id, alerts.tripId))
        .where(and(...where))
        .orderBy(desc(alerts.createdAt), desc(alerts.id))
        .limit(Math.max(1, Math.min(query.limit, 1000)));
      return rows.map((r) => ({ ...alertOf(r.alerts), trip: toTrip(r.trips) }));
    },
  };
}

/** The health watch list: keyed blind indexes of identity numbers, never the numbers. */
export function createWatchlistRepository({ db, keys }: { db: Db; keys: Pick<DerivedKeys, 'blindIndex'> }) {
  return {
    /** Adds identity numbers (as blind indexes); returns how many were new. */
    async add(idNumbers: readonly string[], by: { addedBy: string; city: string | null }, tx?: Db): Promise<{ added: number; blinds: string[] }> {
      const blinds = [...new Set(idNumbers.map((n) => idNumberBlindIndex(keys, normalizeIndexValue('id_number', n))))];
      if (blinds.length === 0) return { added: 0, blinds };
      const rows = await (tx ?? db).insert(watchlist)
        .values(blinds.map((idBlind) => ({ idBlind, addedBy: by.addedBy, city: by.city })))
        .onConflictDoNothing({ target: watchlist.idBlind })
        .returning({ idBlind: watchlist.idBlind });
      return { added: rows.length, blinds };
    },

    /** Passengers of this trip whose identity number is on the watch list (ids only). */
    async hitsOnTrip(tripId: string, tx?: Db): Promise<string[]> {
      const rows = await (tx ?? db).select({ id: passengers.id }).from(passengers)
        .innerJoin(watchlist, eq(watchlist.idBlind, passengers.idBlind))
        .where(and(eq(passengers.tripId, tripId), isNull(passengers.purgedAt)))
        .orderBy(asc(passengers.createdAt));
      return rows.map((r) => r.id);
    },

    /** Trips departing after `from` that carry a passenger with one of these blind indexes (re-check after an upload). */
    async tripsCarrying(blinds: readonly string[], from: Date, tx?: Db): Promise<string[]> {
      if (blinds.length === 0) return [];
      const rows = await (tx ?? db).selectDistinct({ tripId: passengers.tripId }).from(passengers)
        .innerJoin(trips, eq(trips.id, passengers.tripId))
        .where(and(inArray(passengers.idBlind, [...blinds]), isNull(passengers.purgedAt), gte(trips.departureAt, from)));
      return rows.map((r) => r.tripId);
    },
  };
}

/** The same person (identity blind index) on another trip departing within 2 hours of this one. */
export async function overlappingTrips(db: Db, trip: Pick<Trip, 'id' | 'departureAt'>): Promise<{ passengerId: string; otherTripId: string; otherTripCode: string }[]> {
  const other = alias(passengers, 'other');
  const rows = await db.select({ passengerId: passengers.id, otherTripId: trips.id, otherTripCode: trips.code })
    .from(passengers)
    .innerJoin(other, and(eq(other.idBlind, passengers.idBlind), ne(other.tripId, passengers.tripId), isNull(other.purgedAt)))
    .innerJoin(trips, eq(trips.id, other.tripId))
    .where(and(
      eq(passengers.tripId, trip.id),
      isNull(passengers.purgedAt),
      gte(trips.departureAt, new Date(trip.departureAt.getTime() - TWO_HOURS_MS)),
      lte(trips.departureAt, new Date(trip.departureAt.getTime() + TWO_HOURS_MS)),
    ))
    .orderBy(asc(passengers.createdAt), asc(trips.departureAt));
  return rows;
}

/** Whom to notify about a trip: the OA openid of its creator, sealed in the vault with the trip's retention. */
export function createTripContactRepository({ db, vault }: { db: Db; vault: Vault }) {
  return {
    async remember(tripId: string, contact: { channel: string; openid: string; locale: string; purgeAfter: Date }, tx?: Db): Promise<void> {
      await (tx ?? db).transaction(async (t) => {
        const [existing] = await t.select({ tripId: tripContacts.tripId }).from(tripContacts).where(eq(tripContacts.tripId, tripId));
        if (existing) return;
        const ref = await vault.put(t, { kind: 'openid', value: contact.openid, ownerType: 'trip', ownerId: tripId, purgeAfter: contact.purgeAfter });
        await t.insert(tripContacts).values({ tripId, channel: contact.channel, openidRef: ref, locale: contact.locale }).onConflictDoNothing();
      });
    },

    /** The contact, or null when there is none or its openid was purged. */
    async resolve(tripId: string, tx?: Db): Promise<{ channel: string; openid: string; locale: 'zh-CN' | 'en' } | null> {
      const [row] = await (tx ?? db).select().from(tripContacts).where(eq(tripContacts.tripId, tripId));
      if (!row || row.openidRef === null) return null;
      const openid = (await vault.get([row.openidRef], tx)).get(row.openidRef);
      if (openid === undefined) return null;
      return { channel: row.channel, openid, locale: row.locale === 'en' ? 'en' : 'zh-CN' };
    },
  };
}

export type AlertRepository = ReturnType<typeof createAlertRepository>;
export type WatchlistRepository = ReturnType<typeof createWatchlistRepository>;
export type TripContactRepository = ReturnType<typeof createTripContactRepository>;
