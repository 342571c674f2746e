import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { and, eq, sql } from 'drizzle-orm';
import { executeRows } from '../../src/store/db.js';
import { vaultValues } from '../../src/store/schema.js';
import { BACKENDS, type TestDatabase } from '../helpers/db.js';
import { RETENTION_DAYS, newTrip, randomIdNumber, randomPhone, randomPlate, storeParts } from './fixture.js';

describe.each(BACKENDS)('trips on $name', ({ open }) => {
  let t: TestDatabase;
  let parts: ReturnType<typeof storeParts>;
  beforeAll(async () => {
    t = await open();
    parts = storeParts(t.database.db);
  });
  afterAll(async () => { await t.drop(); });

  it('when a trip is created, then it gets a 6-digit code and byCode/byId return the non-sensitive view', async () => {
    const input = newTrip();
    const trip = await parts.trips.create(input);
    expect(trip.code).toMatch(/^[1-9]\d{5}$/);
    expect(trip).toMatchObject({
      plate: input.plate, declaredCount: 30, registrantIsDriver: true, tripNumber: 'K1234', status: 'open',
      beijingBound: true, destinationCity: '110100', createdBy: 'creator-user-key', qr: null, purgedAt: null,
    });
    expect(trip.departureAt.toISOString()).toBe('2030-05-01T00:30:00.000Z');
    expect(await parts.trips.byCode(trip.code)).toEqual(trip);
    expect(await parts.trips.byId(trip.id)).toEqual(trip);
    expect(JSON.stringify(trip)).not.toContain(input.driver.phone);
    expect(await parts.trips.byCode('000000')).toBeNull();
    expect(await parts.trips.byCode('abc')).toBeNull();
  });

  it('when details are asked, then driver, registrant and crew come back opened', async () => {
    const crewId = randomIdNumber();
    const input = newTrip({
      registrant: { name: '李登记', phone: randomPhone() },
      crew: { name: 'John Smith', phone: randomPhone(), idType: 7, idNumber: crewId },
    });
    const trip = await parts.trips.create(input);
    const details = await parts.trips.details(trip.id);
    expect(details?.driver).toEqual(input.driver);
    expect(details?.registrant).toEqual(input.registrant);
    expect(details?.crew).toEqual({ name: 'John Smith', phone: input.crew?.phone, idType: 7, idNumber: crewId });
    expect(details?.registrantIsDriver).toBe(false);
  });

  it('when a trip is created, then its vault values are owned by it and purge after departure + retention days', async () => {
    const input = newTrip({ crew: { name: '赵六', phone: randomPhone(), idType: 1, idNumber: randomIdNumber() } });
    const trip = await parts.trips.create(input);
    const rows = await t.database.db.select({ kind: vaultValues.kind, purgeAfter: vaultValues.purgeAfter }).from(vaultValues)
      .where(and(eq(vaultValues.ownerType, 'trip'), eq(vaultValues.ownerId, trip.id)));
    expect(rows.map((r) => r.kind).sort()).toEqual(['id_number', 'name', 'name', 'phone', 'phone']);
    const expected = input.departureAt.getTime() + RETENTION_DAYS * 86_400_000;
    for (const r of rows) expect(r.purgeAfter.getTime()).toBe(expected);
  });

  it('when a plate has several trips, then lastByPlate gives the latest one with details', async () => {
    const plate = randomPlate();
    await parts.trips.create(newTrip({ plate, driver: { name: '老司机', phone: randomPhone() } }));
    await new Promise((r) => setTimeout(r, 5));
    const second = await parts.trips.create(newTrip({ plate, driver: { name: '新司机', phone: randomPhone() } }));
    const last = await parts.trips.lastByPlate(plate);
    expect(last?.id).toBe(second.id);
    expect(last?.driver.name).toBe('新司机');
    expect(await parts.trips.lastByPlate(randomPlate())).toBeNull();
  });

  it('when many trips are created, then every code is distinct', async () => {
    const created = await Promise.all(Array.from({ length: 20 }, () => parts.trips.create(newTrip())));
    expect(new Set(created.map((c) => c.code)).size).toBe(20);
  });

  it('when a QR ticket is set, then the trip carries it', async () => {
    const trip = await parts.trips.create(newTrip());
    const expiresAt = new Date('2030-06-01T00:00:00Z');
    expect(await parts.trips.setQr(trip.id, { ticket: 'gQH47joAAAAAAAAAASxodHRw', url: 'http://weixin.qq.com/q/abc', expiresAt })).toBe(true);
    expect((await parts.trips.byId(trip.id))?.qr).toEqual({ ticket: 'gQH47joAAAAAAAAAASxodHRw', url: 'http://weixin.qq.com/q/abc', expiresAt });
    expect(await parts.trips.setStatus(trip.id, 'departed')).toBe(true);
    expect((await parts.trips.byId(trip.id))?.status).toBe('departed');
  });

  it('when trips are listed by departure window, city, plate or trip number, then only matching ones come back', async () => {
    const plate = randomPlate();
    const departureAt = new Date('2031-03-03T10:00:00+08:00');
    const a = await parts.trips.create(newTrip({ plate, departureAt, reportingCity: '990100', tripNumber: 'Z9' }));
    await parts.trips.create(newTrip({ departureAt: new Date('2031-03-04T10:00:00+08:00'), reportingCity: '990100' }));
    const range = { from: new Date('2031-03-03T00:00:00+08:00'), to: new Date('2031-03-04T00:00:00+08:00') };
    expect((await parts.trips.listDeparting({ ...range, reportingCity: '990100' })).map((x) => x.id)).toEqual([a.id]);
    expect((await parts.trips.listByPlate(plate, range)).map((x) => x.id)).toEqual([a.id]);
    expect((await parts.trips.listByTripNumber('Z9', range)).map((x) => x.id)).toEqual([a.id]);
  });

  it('when the declared count is out of range, then create refuses before writing anything', async () => {
    const before = await executeRows<{ n: number }>(t.database.db, sql`select count(*)::int as n from sensitive.vault_values`);
    await expect(parts.trips.create(newTrip({ declaredCount: 0 }))).rejects.toMatchObject({ code: 'TRIP_DECLARED_COUNT_INVALID' });
    const after = await executeRows<{ n: number }>(t.database.db, sql`select count(*)::int as n from sensitive.vault_values`);
    expect(after[0]?.n).toBe(before[0]?.n);
  });
});
