import { and, inArray, isNull } from 'drizzle-orm';
import type { AuditRepository } from './audit.js';
import type { Db } from './db.js';
import { passengers, preregistrations, trips, type VaultOwnerType } from './schema.js';
import type { Vault } from './vault.js';

export interface PurgeResult {
  /** Sealed values deleted. */
  values: number;
  trips: number;
  passengers: number;
  preregistrations: number;
}

const CHUNK = 5000;

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

export interface RetentionOptions {
  db: Db;
  vault: Vault;
  /** RETENTION_DAYS: values of trips that left this many days before `asOf` go too, whatever purge_after says. */
  retentionDays?: number | undefined;
  /** Each run is written to the audit log (counts only). */
  audit?: AuditRepository | undefined;
}

const DAY_MS = 86_400_000;

/**
 * The retention purge (`npm run purge`, the daily retention job): deletes every sealed value whose purge_after has
 * passed (or whose trip left RETENTION_DAYS before `asOf`), and marks its owners purged, clearing their references,
 * blind indexes and user keys. Trip and passenger rows, counts and arrival flags stay (statistics). One transaction,
 * audited with the counts.
 */
export function createRetention({ db, vault, retentionDays, audit }: RetentionOptions) {
  return {
    async purge(asOf: Date, options: { actor?: string } = {}): Promise<PurgeResult> {
      return db.transaction(async (tx) => {
        const tripCutoff = retentionDays === undefined ? undefined : new Date(asOf.getTime() - retentionDays * DAY_MS);
        const { deleted, owners } = await vault.purgeExpired(tx, asOf, { tripCutoff });
        const ids = (type: VaultOwnerType) => owners.filter((o) => o.ownerType === type).map((o) => o.ownerId);
        const result: PurgeResult = { values: deleted, trips: 0, passengers: 0, preregistrations: 0 };
        for (const chunk of chunks(ids('trip'))) {
          const rows = await tx.update(trips).set({
            purgedAt: asOf, driverNameRef: null, driverPhoneRef: null, registrantNameRef: null, registrantPhoneRef: null,
            crewNameRef: null, crewPhoneRef: null, crewIdRef: null, createdBy: null, qrTicket: null, qrUrl: null,
          }).where(and(inArray(trips.id, chunk), isNull(trips.purgedAt))).returning({ id: trips.id });
          result.trips += rows.length;
        }
        for (const chunk of chunks(ids('passenger'))) {
          const rows = await tx.update(passengers).set({
            purgedAt: asOf, nameRef: null, idNumberRef: null, idBlind: null, phoneRef: null, phoneBlind: null,
            addrBeforeRef: null, addrBeijingRef: null, userKey: null, masked: null,
          }).where(and(inArray(passengers.id, chunk), isNull(passengers.purgedAt))).returning({ id: passengers.id });
          result.passengers += rows.length;
        }
        for (const chunk of chunks(ids('preregistration'))) {
          const rows = await tx.update(preregistrations).set({
            purgedAt: asOf, nameRef: null, idNumberRef: null, idBlind: null, phoneRef: null, phoneBlind: null,
          }).where(and(inArray(preregistrations.id, chunk), isNull(preregistrations.purgedAt))).returning({ id: preregistrations.id });
          result.preregistrations += rows.length;
        }
        await audit?.append({
          actor: options.actor ?? 'system', action: 'retention.purge', subject: asOf.toISOString(),
          details: { ...result, retentionDays: retentionDays ?? null },
        }, tx);
        return result;
      });
    },
  };
}

export type Retention = ReturnType<typeof createRetention>;
