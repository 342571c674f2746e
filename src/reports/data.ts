import { and, asc, eq, inArray, isNull, sql } from 'drizzle-orm';
import { executeRows, type Db } from '../store/db.js';
import { maskedForms, type RosterEntry } from '../store/passengers.js';
import { passengers } from '../store/schema.js';
import type { MaskedPassenger, PassengerChannel, RegisteredBy } from '../store/schema.js';
import type { Vault } from '../store/vault.js';

/**
 * Read side of the daily report: SQL aggregates for the summary and keyset-paged reads of trips and passengers; the
 * passengers come masked (from the row) or opened through the vault one page at a time (memory never holds more
 * than a page).
 */
export interface ReportCounts {
  trips: number;
  declared: number;
  registered: number;
  arrived: number;
  /** Registered but not marked arrived. */
  absent: number;
  /** Declared seats without a registration (per trip, never below 0), as in arrival verification. */
  missing: number;
  alerts: number;
}

export interface ReportTrip {
  id: string;
  code: string;
  plate: string;
  tripNumber: string | null;
  departureAt: Date;
  originText: string;
  destinationText: string;
  declared: number;
  registered: number;
  arrived: number;
  status: string;
}

/** A passenger as a report shows it (masked or opened, see rosterChunks). */
export type ReportPassenger = Omit<RosterEntry, 'staffId'>;

export interface DayRange { from: Date; to: Date }

/** Passengers read (and opened) per query. */
export const PASSENGER_PAGE = 2000;
const TRIP_PAGE = 500;

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v ?? 0));
const toDate = (v: unknown): Date => (v instanceof Date ? v : new Date(String(v)));

export async function reportCounts(db: Db, city: string, range: DayRange): Promise<ReportCounts> {
  const [row] = await executeRows<Record<string, unknown>>(db, sql`
    select count(*)::int as trips,
           coalesce(sum(t.declared_count), 0)::int as declared,
           coalesce(sum(c.registered), 0)::int as registered,
           coalesce(sum(c.arrived), 0)::int as arrived,
           coalesce(sum(greatest(t.declared_count - c.registered, 0)), 0)::int as missing
    from trips t
    cross join lateral (
      select count(*)::int as registered, count(p.arrived_at)::int as arrived from passengers p where p.trip_id = t.id
    ) c
    where t.reporting_city = ${city} and t.departure_at >= ${range.from.toISOString()}::timestamptz and t.departure_at < ${range.to.toISOString()}::timestamptz`);
  const registered = num(row?.['registered']);
  const arrived = num(row?.['arrived']);
  return {
    trips: num(row?.['trips']), declared: num(row?.['declared']), registered, arrived, absent: registered - arrived,
    missing: num(row?.['missing']), alerts: await alertCount(db, city, range),
  };
}

/** Findings of the validation worker for the city's trips of the day; 0 while that table does not exist. */
async function alertCount(db: Db, city: string, range: DayRange): Promise<number> {
  const [present] = await executeRows<{ present: boolean }>(db, sql`select to_regclass('public.alerts') is not null as present`);
  if (!present?.present) return 0;
  const [row] = await executeRows<{ n: number }>(db, sql`
    select count(*)::int as n from alerts a join trips t on t.id = a.trip_id
    where t.reporting_city = ${city} and t.departure_at >= ${range.from.toISOString()}::timestamptz and t.departure_at < ${range.to.toISOString()}::timestamptz`);
  return num(row?.n);
}

/** Cities with at least one trip departing that day (trips without a reporting city are in no report). */
export async function citiesWithTrips(db: Db, range: DayRange): Promise<string[]> {
  const rows = await executeRows<{ city: string }>(db, sql`
    select distinct reporting_city as city from trips
    where reporting_city is not null and departure_at >= ${range.from.toISOString()}::timestamptz and departure_at < ${range.to.toISOString()}::timestamptz
    order by 1`);
  return rows.map((r) => r.city);
}

/** The city's trips of the day in departure order, with their counts, a page at a time (keyset on departure, id). */
export async function* tripPages(db: Db, city: string, range: DayRange, pageSize = TRIP_PAGE): AsyncGenerator<ReportTrip[]> {
  let after: { key: string; id: string } | null = null;
  for (;;) {
    const rows: Record<string, unknown>[] = await executeRows<Record<string, unknown>>(db, sql`
      select t.id, t.code, t.plate, t.trip_number, t.departure_at, t.departure_at::text as dep_key, t.origin_text,
             t.destination_text, t.declared_count, t.status, c.registered, c.arrived
      from trips t
      cross join lateral (
        select count(*)::int as registered, count(p.arrived_at)::int as arrived from passengers p where p.trip_id = t.id
      ) c
      where t.reporting_city = ${city} and t.departure_at >= ${range.from.toISOString()}::timestamptz
        and t.departure_at < ${range.to.toISOString()}::timestamptz
        ${after === null ? sql`` : sql`and (t.departure_at, t.id) > (${after.key}::timestamptz, ${after.id}::uuid)`}
      order by t.departure_at, t.id
      limit ${pageSize}`);
    if (rows.length === 0) return;
    yield rows.map((r) => ({
      id: String(r['id']), code: String(r['code']), plate: String(r['plate']),
      tripNumber: r['trip_number'] === null ? null : String(r['trip_number']), departureAt: toDate(r['departure_at']),
      originText: String(r['origin_text']), destinationText: String(r['destination_text']), declared: num(r['declared_count']),
      registered: num(r['registered']), arrived: num(r['arrived']), status: String(r['status']),
    }));
    const last = rows[rows.length - 1];
    after = { key: String(last?.['dep_key']), id: String(last?.['id']) };
    if (rows.length < pageSize) return;
  }
}

const passengerColumns = {
  id: passengers.id, tripId: passengers.tripId, nameRef: passengers.nameRef, idType: passengers.idType,
  idNumberRef: passengers.idNumberRef, phoneRef: passengers.phoneRef, addrBeforeRef: passengers.addrBeforeRef,
  addrBeijingRef: passengers.addrBeijingRef, channel: passengers.channel, registeredBy: passengers.registeredBy,
  arrivedAt: passengers.arrivedAt, createdAt: passengers.createdAt, createdKey: sql<string>`${passengers.createdAt}::text`,
  masked: passengers.masked,
};
interface PassengerRow {
  id: string; tripId: string; nameRef: string | null; idType: number; idNumberRef: string | null; phoneRef: string | null;
  addrBeforeRef: string | null; addrBeijingRef: string | null; channel: PassengerChannel; registeredBy: RegisteredBy;
  arrivedAt: Date | null; createdAt: Date; createdKey: string; masked: MaskedPassenger | null;
}

/**
 * The page's personal data as the reader may see it. Masked: the masked forms kept on each row (no vault read at all,
 * which is what keeps a day's report fast); a row from before those existed is opened and masked. Unmasked: opened
 * through the vault.
 */
async function openPage(vault: Vault, rows: readonly PassengerRow[], masked: boolean): Promise<ReportPassenger[]> {
  const toOpen = masked ? rows.filter((r) => r.masked === null) : rows;
  const refs: string[] = [];
  for (const r of toOpen) for (const ref of [r.nameRef, r.idNumberRef, r.phoneRef, r.addrBeforeRef, r.addrBeijingRef]) if (ref !== null) refs.push(ref);
  const values = refs.length === 0 ? new Map<string, string>() : await vault.get(refs);
  const opt = (ref: string | null): string | null => (ref === null ? null : values.get(ref) ?? null);
  const out: ReportPassenger[] = [];
  for (const r of rows) {
    const common = { id: r.id, tripId: r.tripId, idType: r.idType, channel: r.channel, registeredBy: r.registeredBy, arrivedAt: r.arrivedAt, createdAt: r.createdAt };
    if (masked && r.masked !== null) {
      out.push({ ...common, ...r.masked });
      continue;
    }
    const name = opt(r.nameRef);
    const idNumber = opt(r.idNumberRef);
    if (name === null || idNumber === null) continue; // purged meanwhile
    const opened = { name, idNumber, phone: opt(r.phoneRef), addressBefore: opt(r.addrBeforeRef), addressBeijing: opt(r.addrBeijingRef) };
    out.push({ ...common, ...(masked ? maskedForms(opened.name, opened.idNumber, opened.phone, opened.addressBefore, opened.addressBeijing) : opened) });
  }
  return out;
}

/** One trip's passengers in registration order, opened a page at a time (keyset on created_at, id). */
async function* tripPassengerPages(db: Db, vault: Vault, tripId: string, pageSize: number, masked: boolean): AsyncGenerator<ReportPassenger[]> {
  let after: { key: string; id: string } | null = null;
  for (;;) {
    const rows: PassengerRow[] = await db.select(passengerColumns).from(passengers)
      .where(and(
        eq(passengers.tripId, tripId), isNull(passengers.purgedAt),
        after === null ? undefined : sql`(${passengers.createdAt}, ${passengers.id}) > (${after.key}::timestamptz, ${after.id}::uuid)`,
      ))
      .orderBy(asc(passengers.createdAt), asc(passengers.id))
      .limit(pageSize);
    if (rows.length === 0) return;
    yield await openPage(vault, rows, masked);
    const last = rows[rows.length - 1];
    if (!last || rows.length < pageSize) return;
    after = { key: last.createdKey, id: last.id };
  }
}

/**
 * Passengers of consecutive trips, grouped per trip in the trips' order and registration order. Trips are read
 * together while their counts fit a page; a trip larger than a page (or a batch that grew meanwhile) is paged alone.
 * The next batch is read and opened while the caller writes the current one (at most two pages in memory).
 */
export async function* rosterChunks(db: Db, vault: Vault, trips: readonly ReportTrip[], options: { masked: boolean; pageSize?: number }): AsyncGenerator<{ trip: ReportTrip; passengers: ReportPassenger[]; first: boolean; last: boolean }> {
  const { masked, pageSize = PASSENGER_PAGE } = options;
  const batches: ReportTrip[][] = [];
  let batch: ReportTrip[] = [];
  let sum = 0;
  for (const trip of trips) {
    if (batch.length > 0 && sum + trip.registered > pageSize) {
      batches.push(batch);
      batch = [];
      sum = 0;
    }
    batch.push(trip);
    sum += trip.registered;
  }
  if (batch.length > 0) batches.push(batch);

  /** The batch's passengers opened, or null when they do not fit one page (then each trip is paged alone). */
  const load = async (group: readonly ReportTrip[]): Promise<ReportPassenger[] | null> => {
    if (group.reduce((n, t) => n + t.registered, 0) > pageSize) return null;
    const rows: PassengerRow[] = await db.select(passengerColumns).from(passengers)
      .where(and(inArray(passengers.tripId, group.map((t) => t.id)), isNull(passengers.purgedAt)))
      .orderBy(asc(passengers.createdAt), asc(passengers.id))
      .limit(pageSize + 1);
    return rows.length > pageSize ? null : openPage(vault, rows, masked);
  };
  const prefetch = (group: readonly ReportTrip[] | undefined) => {
    if (group === undefined) return null;
    const promise = load(group);
    promise.catch(() => undefined); // awaited below; a failure surfaces there
    return promise;
  };

  let next = prefetch(batches[0]);
  for (let i = 0; i < batches.length; i += 1) {
    const group = batches[i] ?? [];
    const opened = await next;
    next = prefetch(batches[i + 1]);
    if (opened) {
      const byTrip = new Map<string, ReportPassenger[]>(group.map((t) => [t.id, []]));
      for (const p of opened) byTrip.get(p.tripId)?.push(p);
      for (const trip of group) yield { trip, passengers: byTrip.get(trip.id) ?? [], first: true, last: true };
      continue;
    }
    for (const trip of group) {
      let first = true;
      let pending: ReportPassenger[] | null = null;
      for await (const page of tripPassengerPages(db, vault, trip.id, pageSize, masked)) {
        if (pending !== null) {
          yield { trip, passengers: pending, first, last: false };
          first = false;
        }
        pending = page;
      }
      yield { trip, passengers: pending ?? [], first, last: true };
    }
  }
}
