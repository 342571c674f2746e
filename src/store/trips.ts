import { randomInt, randomUUID } from 'node:crypto';
import { and, desc, eq, gte, isNull, lt, type SQL } from 'drizzle-orm';
import { ConflictError, InputError } from '../errors.js';
import type { Db } from './db.js';
import { trips, type TripStatus } from './schema.js';
import { addDays } from './time.js';
import type { Vault, VaultPut } from './vault.js';

export interface Person { name: string; phone: string }
export interface CrewMember extends Person { idType: number; idNumber: string }

/** A trip without personal data: safe to log (ids only), cache and show. */
export interface Trip {
  id: string;
  code: string;
  plate: string;
  plateCity: string | null;
  declaredCount: number;
  registrantIsDriver: boolean;
  tripNumber: string | null;
  departureAt: Date;
  originText: string;
  originCity: string | null;
  destinationText: string;
  destinationCity: string | null;
  beijingBound: boolean;
  reportingCity: string | null;
  status: TripStatus;
  /** User key of the creator (never a raw openid or phone number). */
  createdBy: string | null;
  createdAt: Date;
  qr: TripQr | null;
  purgedAt: Date | null;
}

export interface TripQr { ticket: string; url: string; expiresAt: Date | null }

export interface NewTrip {
  plate: string;
  plateCity?: string | null | undefined;
  declaredCount: number;
  driver: Person;
  /** null: the registrant is the driver. */
  registrant: Person | null;
  crew: CrewMember | null;
  tripNumber: string | null;
  departureAt: Date;
  originText: string;
  originCity?: string | null | undefined;
  destinationText: string;
  destinationCity?: string | null | undefined;
  beijingBound: boolean;
  reportingCity?: string | null | undefined;
  createdBy: string | null;
}

/** A trip with its persons opened (callers mask them before output). */
export interface TripDetails extends Trip {
  driver: Person;
  registrant: Person | null;
  crew: CrewMember | null;
}

export interface TripRepositoryOptions {
  db: Db;
  vault: Vault;
  /** Sensitive values are purged this many days after departure. */
  retentionDays: number;
}

export interface DepartureRange { from: Date; to: Date }

const CODE_ATTEMPTS = 20;
type TripRow = typeof trips.$inferSelect;

export function toTrip(r: TripRow): Trip {
  return {
    id: r.id,
    code: r.code,
    plate: r.plate,
    plateCity: r.plateCity,
    declaredCount: r.declaredCount,
    registrantIsDriver: r.registrantIsDriver,
    tripNumber: r.tripNumber,
    departureAt: r.departureAt,
    originText: r.originText,
    originCity: r.originCity,
    destinationText: r.destinationText,
    destinationCity: r.destinationCity,
    beijingBound: r.beijingBound,
    reportingCity: r.reportingCity,
    status: r.status,
    createdBy: r.createdBy,
    createdAt: r.createdAt,
    qr: r.qrTicket !== null && r.qrUrl !== null ? { ticket: r.qrTicket, url: r.qrUrl, expiresAt: r.qrExpiresAt } : null,
    purgedAt: r.purgedAt,
  };
}

/** A random 6-digit trip code without a leading zero (100000–999999). */
export function randomTripCode(): string {
  return String(randomInt(100_000, 1_000_000));
}

export function createTripRepository({ db, vault, retentionDays }: TripRepositoryOptions) {
  async function details(row: TripRow, tx?: Db): Promise<TripDetails | null> {
    if (row.purgedAt !== null) return null;
    const refs = [row.driverNameRef, row.driverPhoneRef, row.registrantNameRef, row.registrantPhoneRef, row.crewNameRef, row.crewPhoneRef, row.crewIdRef]
      .filter((id): id is string => id !== null);
    const values = await vault.get(refs, tx);
    const need = (ref: string | null, what: string): string => {
      const value = ref === null ? undefined : values.get(ref);
      if (value === undefined) throw new Error(`trip ${row.id}: ${what} is missing from the vault`);
      return value;
    };
    return {
      ...toTrip(row),
      driver: { name: need(row.driverNameRef, 'driver name'), phone: need(row.driverPhoneRef, 'driver phone') },
      registrant: row.registrantIsDriver
        ? null
        : { name: need(row.registrantNameRef, 'registrant name'), phone: need(row.registrantPhoneRef, 'registrant phone') },
      crew: row.crewNameRef === null
        ? null
        : {
          name: need(row.crewNameRef, 'crew name'),
          phone: need(row.crewPhoneRef, 'crew phone'),
          idType: row.crewIdType ?? 0,
          idNumber: need(row.crewIdRef, 'crew identity number'),
        },
    };
  }

  async function list(where: SQL | undefined, tx?: Db): Promise<Trip[]> {
    const rows = await (tx ?? db).select().from(trips).where(where).orderBy(trips.departureAt, trips.id);
    return rows.map(toTrip);
  }

  return {
    /** Creates the trip with a fresh unique code; its persons go to the vault in the same transaction. */
    async create(input: NewTrip, tx?: Db): Promise<Trip> {
      if (!Number.isInteger(input.declaredCount) || input.declaredCount < 1 || input.declaredCount > 999) {
        throw new InputError('TRIP_DECLARED_COUNT_INVALID', `declaredCount: expected an integer 1-999, got ${input.declaredCount}`);
      }
      if (input.crew && (!Number.isInteger(input.crew.idType) || input.crew.idType < 1 || input.crew.idType > 7)) {
        throw new InputError('TRIP_CREW_ID_TYPE_INVALID', `crew.idType: expected 1-7, got ${input.crew.idType}`);
      }
      return (tx ?? db).transaction(async (t) => {
        const id = randomUUID();
        const purgeAfter = addDays(input.departureAt, retentionDays);
        const item = (kind: VaultPut['kind'], value: string): VaultPut => ({ kind, value, ownerType: 'trip', ownerId: id, purgeAfter });
        const [driverName, driverPhone] = await vault.putMany(t, [item('name', input.driver.name), item('phone', input.driver.phone)]);
        const registrant = input.registrant
          ? await vault.putMany(t, [item('name', input.registrant.name), item('phone', input.registrant.phone)])
          : [];
        const crew = input.crew
          ? await vault.putMany(t, [item('name', input.crew.name), item('phone', input.crew.phone), item('id_number', input.crew.idNumber)])
          : [];
        const values = {
          id,
          plate: input.plate,
          plateCity: input.plateCity ?? null,
          declaredCount: input.declaredCount,
          driverNameRef: driverName ?? null,
          driverPhoneRef: driverPhone ?? null,
          registrantIsDriver: input.registrant === null,
          registrantNameRef: registrant[0] ?? null,
          registrantPhoneRef: registrant[1] ?? null,
          crewNameRef: crew[0] ?? null,
          crewPhoneRef: crew[1] ?? null,
          crewIdType: input.crew?.idType ?? null,
          crewIdRef: crew[2] ?? null,
          tripNumber: input.tripNumber,
          departureAt: input.departureAt,
          originText: input.originText,
          originCity: input.originCity ?? null,
          destinationText: input.destinationText,
          destinationCity: input.destinationCity ?? null,
          beijingBound: input.beijingBound,
          reportingCity: input.reportingCity ?? null,
          createdBy: input.createdBy,
        };
        for (let attempt = 0; attempt < CODE_ATTEMPTS; attempt += 1) {
          const [row] = await t.insert(trips).values({ ...values, code: randomTripCode() })
            .onConflictDoNothing({ target: trips.code })
            .returning();
          if (row) return toTrip(row);
        }
        throw new ConflictError('TRIP_CODE_EXHAUSTED', `no free trip code found after ${CODE_ATTEMPTS} attempts`);
      });
    },

    async byCode(code: string, tx?: Db): Promise<Trip | null> {
      if (!/^\d{6}$/.test(code)) return null;
      const [row] = await (tx ?? db).select().from(trips).where(eq(trips.code, code));
      return row ? toTrip(row) : null;
    },

    async byId(id: string, tx?: Db): Promise<Trip | null> {
      const [row] = await (tx ?? db).select().from(trips).where(eq(trips.id, id));
      return row ? toTrip(row) : null;
    },

    /** The trip with its persons opened; null when there is no such trip or its personal data was purged. */
    async details(id: string, tx?: Db): Promise<TripDetails | null> {
      const [row] = await (tx ?? db).select().from(trips).where(eq(trips.id, id));
      return row ? details(row, tx) : null;
    },

    /** The most recently created (not purged) trip of a plate, for `再发一班`/`repeat`. */
    async lastByPlate(plate: string, tx?: Db): Promise<TripDetails | null> {
      const [row] = await (tx ?? db).select().from(trips)
        .where(and(eq(trips.plate, plate), isNull(trips.purgedAt)))
        .orderBy(desc(trips.createdAt), desc(trips.id))
        .limit(1);
      return row ? details(row, tx) : null;
    },

    /** The latest trip a channel user registered (repeat without a plate, SMS invitations after a trip). */
    async lastByCreator(userKey: string, tx?: Db): Promise<TripDetails | null> {
      const [row] = await (tx ?? db).select().from(trips)
        .where(and(eq(trips.createdBy, userKey), isNull(trips.purgedAt)))
        .orderBy(desc(trips.createdAt), desc(trips.id))
        .limit(1);
      return row ? details(row, tx) : null;
    },

    async setQr(id: string, qr: { ticket: string; url: string; expiresAt: Date | null }, tx?: Db): Promise<boolean> {
      const rows = await (tx ?? db).update(trips)
        .set({ qrTicket: qr.ticket, qrUrl: qr.url, qrExpiresAt: qr.expiresAt })
        .where(eq(trips.id, id))
        .returning({ id: trips.id });
      return rows.length > 0;
    },

    async setStatus(id: string, status: TripStatus, tx?: Db): Promise<boolean> {
      const rows = await (tx ?? db).update(trips).set({ status }).where(eq(trips.id, id)).returning({ id: trips.id });
      return rows.length > 0;
    },

    /** Trips departing in [from, to), optionally of one reporting city (daily reports). */
    async listDeparting(range: DepartureRange & { reportingCity?: string | undefined }, tx?: Db): Promise<Trip[]> {
      return list(and(
        gte(trips.departureAt, range.from),
        lt(trips.departureAt, range.to),
        range.reportingCity === undefined ? undefined : eq(trips.reportingCity, range.reportingCity),
      ), tx);
    },

    /** Trips of a plate departing in [from, to) (trace by vehicle). */
    async listByPlate(plate: string, range: DepartureRange, tx?: Db): Promise<Trip[]> {
      return list(and(eq(trips.plate, plate), gte(trips.departureAt, range.from), lt(trips.departureAt, range.to)), tx);
    },

    /** Trips with this trip number departing in [from, to) (binding ticketing pre-registrations). */
    async listByTripNumber(tripNumber: string, range: DepartureRange, tx?: Db): Promise<Trip[]> {
      return list(and(eq(trips.tripNumber, tripNumber), gte(trips.departureAt, range.from), lt(trips.departureAt, range.to)), tx);
    },
  };
}

export type TripRepository = ReturnType<typeof createTripRepository>;
