import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { and, eq, sql } from 'drizzle-orm';
import { executeRows } from '../../src/store/db.js';
import { createPassengerRepository, type NewPassenger } from '../../src/store/passengers.js';
import { passengers as passengersTable, vaultValues } from '../../src/store/schema.js';
import type { Trip } from '../../src/store/trips.js';
import { BACKENDS, type TestDatabase } from '../helpers/db.js';
import { RETENTION_DAYS, newTrip, randomIdNumber, randomPhone, storeParts } from './fixture.js';

describe.each(BACKENDS)('passengers on $name', ({ open }) => {
  let t: TestDatabase;
  let parts: ReturnType<typeof storeParts>;
  let repo: ReturnType<typeof createPassengerRepository>;
  beforeAll(async () => {
    t = await open();
    parts = storeParts(t.database.db);
    repo = createPassengerRepository({ db: t.database.db, vault: parts.vault, keys: parts.keys, retentionDays: RETENTION_DAYS });
  });
  afterAll(async () => { await t.drop(); });

  const person = (trip: Trip, overrides: Partial<NewPassenger> = {}): NewPassenger => ({
    tripId: trip.id, name: '王小明', idType: 1, idNumber: randomIdNumber(), phone: randomPhone(),
    addressBefore: '辽宁省沈阳市和平区南京街1号', addressBeijing: '北京市朝阳区建国路2号', channel: 'wechat',
    registeredBy: 'self', staffId: null, userKey: null, ...overrides,
  });
  const vaultRowsOf = async (passengerId: string) => t.database.db.select({ id: vaultValues.id }).from(vaultValues)
    .where(and(eq(vaultValues.ownerType, 'passenger'), eq(vaultValues.ownerId, passengerId)));

  it('when a passenger registers, then the roster opens every field and counts go up', async () => {
    const trip = await parts.trips.create(newTrip());
    const input = person(trip);
    const result = await repo.register(input);
    expect(result.duplicate).toBe(false);
    const roster = await repo.roster(trip.id);
    expect(roster).toHaveLength(1);
    expect(roster[0]).toMatchObject({
      id: result.id, tripId: trip.id, name: '王小明', idType: 1, idNumber: input.idNumber, phone: input.phone,
      addressBefore: input.addressBefore, addressBeijing: input.addressBeijing, channel: 'wechat', registeredBy: 'self', arrivedAt: null,
    });
    expect(await repo.counts(trip.id)).toEqual({ registered: 1, arrived: 0 });
    const vaultRows = await t.database.db.select({ purgeAfter: vaultValues.purgeAfter }).from(vaultValues)
      .where(and(eq(vaultValues.ownerType, 'passenger'), eq(vaultValues.ownerId, result.id)));
    expect(vaultRows).toHaveLength(5);
    for (const r of vaultRows) expect(r.purgeAfter.getTime()).toBe(trip.departureAt.getTime() + RETENTION_DAYS * 86_400_000);
  });

  it('when the same person registers again (lower-case x, other channel), then it is a duplicate and nothing new is stored', async () => {
    const trip = await parts.trips.create(newTrip());
    const idNumber = `${randomIdNumber().slice(0, 17)}X`;
    const first = await repo.register(person(trip, { idNumber }));
    const again = await repo.register(person(trip, { idNumber: ` ${idNumber.toLowerCase()} `, channel: 'sms', name: '别名' }));
    expect(again).toEqual({ id: first.id, duplicate: true });
    expect(await repo.counts(trip.id)).toEqual({ registered: 1, arrived: 0 });
    expect(await vaultRowsOf(first.id)).toHaveLength(5);
    expect((await repo.roster(trip.id))[0]?.name).toBe('王小明');
  });

  it('when 10 identical registrations arrive at once, then exactly one row exists and no vault row is orphaned', async () => {
    const trip = await parts.trips.create(newTrip());
    const input = person(trip);
    const results = await Promise.all(Array.from({ length: 10 }, () => repo.register(input)));
    const ids = new Set(results.map((r) => r.id));
    expect(ids.size).toBe(1);
    expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
    const rows = await t.database.db.select({ id: passengersTable.id }).from(passengersTable).where(eq(passengersTable.tripId, trip.id));
    expect(rows).toHaveLength(1);
    const orphans = await executeRows<{ n: number }>(t.database.db, sql`
      select count(*)::int as n from sensitive.vault_values v
      where v.owner_type = 'passenger' and not exists (select 1 from passengers p where p.id = v.owner_id)`);
    expect(orphans[0]?.n).toBe(0);
    expect(await vaultRowsOf(rows[0]?.id ?? '')).toHaveLength(5);
  });

  it('when a rider has no phone and no addresses, then those stay null', async () => {
    const trip = await parts.trips.create(newTrip({ beijingBound: false }));
    const { id } = await repo.register(person(trip, { phone: null, addressBefore: null, addressBeijing: null, registeredBy: 'crew' }));
    const [entry] = await repo.roster(trip.id);
    expect(entry).toMatchObject({ id, phone: null, addressBefore: null, addressBeijing: null, registeredBy: 'crew' });
    expect(await vaultRowsOf(id)).toHaveLength(2);
  });

  it('when arrivals are marked by id and then all, then counts follow and re-marking changes nothing', async () => {
    const trip = await parts.trips.create(newTrip());
    const a = await repo.register(person(trip));
    await repo.register(person(trip));
    await repo.register(person(trip));
    const at = new Date('2030-05-01T12:00:00Z');
    expect(await repo.markArrived(trip.id, [a.id], at)).toBe(1);
    expect(await repo.markArrived(trip.id, [a.id], at)).toBe(0);
    expect(await repo.counts(trip.id)).toEqual({ registered: 3, arrived: 1 });
    expect(await repo.markArrived(trip.id, 'all', at)).toBe(2);
    expect(await repo.counts(trip.id)).toEqual({ registered: 3, arrived: 3 });
    expect((await repo.roster(trip.id)).every((e) => e.arrivedAt?.getTime() === at.getTime())).toBe(true);
  });

  it('when ids of another trip are passed to markArrived, then nothing changes', async () => {
    const tripA = await parts.trips.create(newTrip());
    const tripB = await parts.trips.create(newTrip());
    const b = await repo.register(person(tripB));
    expect(await repo.markArrived(tripA.id, [b.id], new Date())).toBe(0);
  });

  it('when a user registered before, then latestProfileForUser gives their most recent details', async () => {
    const userKey = `uk-${randomIdNumber()}`;
    const trip1 = await parts.trips.create(newTrip());
    const trip2 = await parts.trips.create(newTrip());
    await repo.register(person(trip1, { userKey, name: '旧名字' }));
    await new Promise((r) => setTimeout(r, 5));
    const latest = person(trip2, { userKey, name: '新名字', idType: 4, addressBeijing: null });
    await repo.register(latest);
    expect(await repo.latestProfileForUser(userKey)).toEqual({
      name: '新名字', idType: 4, idNumber: latest.idNumber, phone: latest.phone, addressBefore: latest.addressBefore, addressBeijing: null,
    });
    expect(await repo.latestProfileForUser('nobody')).toBeNull();
  });

  it('when searching by identity number or phone, then the blind index finds every registration in the window', async () => {
    const idNumber = randomIdNumber();
    const phone = randomPhone();
    const early = await parts.trips.create(newTrip({ departureAt: new Date('2030-01-10T08:00:00Z') }));
    const late = await parts.trips.create(newTrip({ departureAt: new Date('2030-02-10T08:00:00Z') }));
    await repo.register(person(early, { idNumber, phone }));
    await repo.register(person(late, { idNumber, phone: null }));
    expect((await repo.findByIdNumber(idNumber)).map((r) => r.tripId)).toEqual([early.id, late.id]);
    expect((await repo.findByIdNumber(idNumber, { from: new Date('2030-02-01Z') })).map((r) => r.tripId)).toEqual([late.id]);
    expect((await repo.findByPhone(`+86 ${phone}`)).map((r) => r.tripId)).toEqual([early.id]);
    expect(await repo.findByPhone(randomPhone())).toEqual([]);
    expect(await repo.isRegistered(early.id, idNumber.toLowerCase())).toBe(true);
  });

  it('when the trip does not exist or the document type is out of range, then register refuses', async () => {
    const trip = await parts.trips.create(newTrip());
    await expect(repo.register(person({ ...trip, id: '00000000-0000-4000-8000-000000000000' }))).rejects.toMatchObject({ code: 'TRIP_NOT_FOUND' });
    await expect(repo.register(person(trip, { idType: 8 }))).rejects.toMatchObject({ code: 'REG_ID_TYPE_INVALID' });
  });

  it('when registering inside a caller transaction that rolls back, then nothing remains', async () => {
    const trip = await parts.trips.create(newTrip());
    const input = person(trip);
    await expect(t.database.db.transaction(async (tx) => {
      await repo.register(input, tx);
      throw new Error('caller failed');
    })).rejects.toThrow('caller failed');
    expect(await repo.counts(trip.id)).toEqual({ registered: 0, arrived: 0 });
    expect(await repo.findByIdNumber(input.idNumber)).toEqual([]);
  });
});
