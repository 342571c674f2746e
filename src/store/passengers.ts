import { randomUUID } from 'node:crypto';
import { and, asc, count, desc, eq, gte, inArray, isNull, lt, sql, type SQL } from 'drizzle-orm';
import { ConflictError, InputError, NotFoundError } from '../errors.js';
import { blindIndex, normalizeIndexValue } from '../security/cipher.js';
import type { DerivedKeys } from '../security/keys.js';
import type { Db } from './db.js';
import { passengers, trips, type MaskedPassenger, type PassengerChannel, type RegisteredBy } from './schema.js';
import { maskAddress, maskIdNumber, maskName, maskPhone } from '../security/mask.js';
import { addDays } from './time.js';
import type { Vault, VaultPut } from './vault.js';

/** A person's registration details (the personal part): what a returning rider is offered to confirm. */
export interface Profile {
  name: string;
  /** Document type 1-7 as in the conversation menu. */
  idType: number;
  idNumber: string;
  phone: string | null;
  addressBefore: string | null;
  addressBeijing: string | null;
}

/** How and by whom a passenger was registered. */
interface RegistrationSource {
  channel: PassengerChannel;
  registeredBy: RegisteredBy;
  staffId: string | null;
}

export interface NewPassenger extends Profile, RegistrationSource {
  tripId: string;
  /** User key of the registering channel user (HMAC, see security/keys.ts userKey). */
  userKey: string | null;
}

/** A passenger with personal data opened (or masked, from maskedRoster): callers mask opened values before output. */
export interface RosterEntry extends Profile, RegistrationSource {
  id: string;
  tripId: string;
  arrivedAt: Date | null;
  createdAt: Date;
}

/** A passenger without personal data (trace results, before opening the roster). */
export interface PassengerRecord {
  id: string;
  tripId: string;
  idType: number;
  channel: PassengerChannel;
  registeredBy: RegisteredBy;
  staffId: string | null;
  arrivedAt: Date | null;
  createdAt: Date;
  tripDepartureAt: Date;
}

export interface PassengerRepositoryOptions {
  db: Db;
  vault: Vault;
  keys: DerivedKeys;
  /** Sensitive values are purged this many days after the trip's departure. */
  retentionDays: number;
}

export interface DepartureWindow { from?: Date | undefined; to?: Date | undefined }

type PassengerRow = typeof passengers.$inferSelect;

export function idNumberBlindIndex(keys: Pick<DerivedKeys, 'blindIndex'>, idNumber: string): string {
  return blindIndex(keys.blindIndex, 'id_number', normalizeIndexValue('id_number', idNumber));
}

export function phoneBlindIndex(keys: Pick<DerivedKeys, 'blindIndex'>, phone: string): string {
  return blindIndex(keys.blindIndex, 'phone', normalizeIndexValue('phone', phone));
}

function refsOf(r: PassengerRow): string[] {
  return [r.nameRef, r.idNumberRef, r.phoneRef, r.addrBeforeRef, r.addrBeijingRef].filter((id): id is string => id !== null);
}

/** The forms a masked roster shows, kept on the row so masked reads never open the vault. */
export function maskedForms(name: string, idNumber: string, phone: string | null, addressBefore: string | null, addressBeijing: string | null): MaskedPassenger {
  const address = (v: string | null) => (v === null || v.trim() === '' ? null : maskAddress(v.trim()));
  return { name: maskName(name.trim()), idNumber: maskIdNumber(idNumber), phone: phone === null ? null : maskPhone(phone), addressBefore: address(addressBefore), addressBeijing: address(addressBeijing) };
}

export function createPassengerRepository({ db, vault, keys, retentionDays }: PassengerRepositoryOptions) {
  async function open(rows: PassengerRow[], tx?: Db): Promise<RosterEntry[]> {
    const values = await vault.get(rows.flatMap(refsOf), tx);
    const opt = (ref: string | null): string | null => (ref === null ? null : values.get(ref) ?? null);
    const entries: RosterEntry[] = [];
    for (const r of rows) {
      const name = opt(r.nameRef);
      const idNumber = opt(r.idNumberRef);
      if (name === null || idNumber === null) continue; // purged
      entries.push({
        id: r.id, tripId: r.tripId, name, idType: r.idType, idNumber, phone: opt(r.phoneRef),
        addressBefore: opt(r.addrBeforeRef), addressBeijing: opt(r.addrBeijingRef), channel: r.channel,
        registeredBy: r.registeredBy, staffId: r.staffId, arrivedAt: r.arrivedAt, createdAt: r.createdAt,
      });
    }
    return entries;
  }

  async function find(where: SQL, window: DepartureWindow, tx?: Db): Promise<PassengerRecord[]> {
    return (tx ?? db)
      .select({
        id: passengers.id, tripId: passengers.tripId, idType: passengers.idType, channel: passengers.channel,
        registeredBy: passengers.registeredBy, staffId: passengers.staffId, arrivedAt: passengers.arrivedAt,
        createdAt: passengers.createdAt, tripDepartureAt: trips.departureAt,
      })
      .from(passengers)
      .innerJoin(trips, eq(trips.id, passengers.tripId))
      .where(and(
        where,
        isNull(passengers.purgedAt),
        window.from === undefined ? undefined : gte(trips.departureAt, window.from),
        window.to === undefined ? undefined : lt(trips.departureAt, window.to),
      ))
      .orderBy(asc(trips.departureAt), asc(passengers.createdAt));
  }

  async function rosters(tripIds: readonly string[], tx?: Db): Promise<Map<string, RosterEntry[]>> {
    const out = new Map<string, RosterEntry[]>(tripIds.map((id) => [id, []]));
    if (tripIds.length === 0) return out;
    const rows = await (tx ?? db).select().from(passengers)
      .where(and(inArray(passengers.tripId, [...tripIds]), isNull(passengers.purgedAt)))
      .orderBy(asc(passengers.createdAt), asc(passengers.id));
    for (const entry of await open(rows, tx)) out.get(entry.tripId)?.push(entry);
    return out;
  }

  return {
    /**
     * Registers a person on a trip exactly once: a second call with the same identity number (any channel,
     * concurrent or not) returns the first registration's id with `duplicate: true` and writes nothing.
     */
    async register(input: NewPassenger, tx?: Db): Promise<{ id: string; duplicate: boolean }> {
      if (!Number.isInteger(input.idType) || input.idType < 1 || input.idType > 7) {
        throw new InputError('REG_ID_TYPE_INVALID', `idType: expected 1-7, got ${input.idType}`);
      }
      const idNumber = normalizeIndexValue('id_number', input.idNumber);
      if (idNumber === '') throw new InputError('REG_ID_NUMBER_EMPTY', 'idNumber: expected a document number, got an empty text');
      if (input.name.trim() === '') throw new InputError('REG_NAME_EMPTY', 'name: expected a name, got an empty text');
      const phone = input.phone === null || input.phone.trim() === '' ? null : input.phone.trim();
      const idBlind = blindIndex(keys.blindIndex, 'id_number', idNumber);
      const phoneBlind = phone === null ? null : phoneBlindIndex(keys, phone);

      return (tx ?? db).transaction(async (t) => {
        const [trip] = await t.select({ departureAt: trips.departureAt, status: trips.status }).from(trips).where(eq(trips.id, input.tripId));
        if (!trip) throw new NotFoundError('TRIP_NOT_FOUND', 'no trip with this id');
        if (trip.status !== 'open') throw new ConflictError('TRIP_CLOSED', 'registration for this trip is closed');
        const id = randomUUID();
        const purgeAfter = addDays(trip.departureAt, retentionDays);
        const items: VaultPut[] = [];
        const slot = (kind: VaultPut['kind'], value: string | null): string | null => {
          if (value === null || value.trim() === '') return null;
          const ref = randomUUID();
          items.push({ id: ref, kind, value: value.trim(), ownerType: 'passenger', ownerId: id, purgeAfter });
          return ref;
        };
        const refs = {
          nameRef: slot('name', input.name),
          idNumberRef: slot('id_number', idNumber),
          phoneRef: slot('phone', phone),
          addrBeforeRef: slot('address', input.addressBefore),
          addrBeijingRef: slot('address', input.addressBeijing),
        };
        // The row first: on a duplicate nothing is sealed at all, so no vault row can be orphaned.
        const [inserted] = await t.insert(passengers)
          .values({
            id, tripId: input.tripId, idType: input.idType, idBlind, phoneBlind, ...refs, masked: maskedForms(input.name, idNumber, phone, input.addressBefore, input.addressBeijing), channel: input.channel,
            registeredBy: input.registeredBy, staffId: input.staffId, userKey: input.userKey,
          })
          .onConflictDoNothing({ target: [passengers.tripId, passengers.idBlind] })
          .returning({ id: passengers.id });
        if (!inserted) {
          const [existing] = await t.select({ id: passengers.id }).from(passengers)
            .where(and(eq(passengers.tripId, input.tripId), eq(passengers.idBlind, idBlind)));
          if (!existing) throw new Error('registration conflicted but the existing row is not visible');
          return { id: existing.id, duplicate: true };
        }
        await vault.putMany(t, items);
        return { id, duplicate: false };
      });
    },

    /** Passengers of a trip in registration order, personal data opened (mask before output). */
    async roster(tripId: string, tx?: Db): Promise<RosterEntry[]> {
      return (await rosters([tripId], tx)).get(tripId) ?? [];
    },

    /**
     * The roster as masked readers see it, from the masked forms on the rows: no vault read. A row registered before
     * those forms existed is opened and masked.
     */
    async maskedRoster(tripId: string, tx?: Db): Promise<RosterEntry[]> {
      const rows = await (tx ?? db).select().from(passengers)
        .where(and(eq(passengers.tripId, tripId), isNull(passengers.purgedAt)))
        .orderBy(asc(passengers.createdAt), asc(passengers.id));
      const legacy = new Map((await open(rows.filter((r) => r.masked === null), tx)).map((e) => [e.id, e] as const));
      return rows.flatMap((r): RosterEntry[] => {
        const forms = r.masked ?? (() => {
          const e = legacy.get(r.id);
          return e ? maskedForms(e.name, e.idNumber, e.phone, e.addressBefore, e.addressBeijing) : null;
        })();
        if (!forms) return [];
        return [{
          id: r.id, tripId: r.tripId, idType: r.idType, channel: r.channel, registeredBy: r.registeredBy, staffId: r.staffId,
          arrivedAt: r.arrivedAt, createdAt: r.createdAt, ...forms,
        }];
      });
    },

    /** Rosters of several trips at once (reports). */
    rosters,

    async counts(tripId: string, tx?: Db): Promise<{ registered: number; arrived: number }> {
      const [r] = await (tx ?? db)
        .select({ registered: count(), arrived: count(passengers.arrivedAt) })
        .from(passengers)
        .where(eq(passengers.tripId, tripId));
      return { registered: r?.registered ?? 0, arrived: r?.arrived ?? 0 };
    },

    /** Marks passengers of this trip as arrived (those not yet marked); returns how many changed. */
    async markArrived(tripId: string, passengerIds: readonly string[] | 'all', at: Date, tx?: Db): Promise<number> {
      if (passengerIds !== 'all' && passengerIds.length === 0) return 0;
      const rows = await (tx ?? db).update(passengers)
        .set({ arrivedAt: at })
        .where(and(
          eq(passengers.tripId, tripId),
          isNull(passengers.arrivedAt),
          passengerIds === 'all' ? undefined : inArray(passengers.id, [...passengerIds]),
        ))
        .returning({ id: passengers.id });
      return rows.length;
    },

    /** The personal details of this user's most recent (not purged) registration, for a two-reply repeat. */
    async latestProfileForUser(userKey: string, tx?: Db): Promise<Profile | null> {
      const [row] = await (tx ?? db).select().from(passengers)
        .where(and(eq(passengers.userKey, userKey), isNull(passengers.purgedAt)))
        .orderBy(desc(passengers.createdAt), desc(passengers.id))
        .limit(1);
      if (!row) return null;
      const [entry] = await open([row], tx);
      if (!entry) return null;
      return {
        name: entry.name, idType: entry.idType, idNumber: entry.idNumber, phone: entry.phone,
        addressBefore: entry.addressBefore, addressBeijing: entry.addressBeijing,
      };
    },

    /** Registrations of an identity number (blind index match), optionally within a departure window. */
    async findByIdNumber(idNumber: string, window: DepartureWindow = {}, tx?: Db): Promise<PassengerRecord[]> {
      return find(eq(passengers.idBlind, idNumberBlindIndex(keys, idNumber)), window, tx);
    },

    /** Registrations that gave this phone (blind index match), optionally within a departure window. */
    async findByPhone(phone: string, window: DepartureWindow = {}, tx?: Db): Promise<PassengerRecord[]> {
      return find(eq(passengers.phoneBlind, phoneBlindIndex(keys, phone)), window, tx);
    },

    /** Whether this identity number is already registered on the trip (no decryption). */
    async isRegistered(tripId: string, idNumber: string, tx?: Db): Promise<boolean> {
      const [r] = await (tx ?? db).select({ one: sql<number>`1` }).from(passengers)
        .where(and(eq(passengers.tripId, tripId), eq(passengers.idBlind, idNumberBlindIndex(keys, idNumber))))
        .limit(1);
      return r !== undefined;
    },
  };
}

export type PassengerRepository = ReturnType<typeof createPassengerRepository>;
