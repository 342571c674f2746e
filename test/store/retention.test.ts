import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { and, eq, sql } from 'drizzle-orm';
import { executeRows } from '../../src/store/db.js';
import { createPassengerRepository } from '../../src/store/passengers.js';
import { createPreregistrationRepository } from '../../src/store/preregistrations.js';
import { createRetention } from '../../src/store/retention.js';
import { passengers, vaultValues } from '../../src/store/schema.js';
import { BACKENDS, type TestDatabase } from '../helpers/db.js';
import { RETENTION_DAYS, newTrip, randomIdNumber, randomPhone, storeParts } from './fixture.js';

describe.each(BACKENDS)('pre-registrations and the retention purge on $name', ({ open }) => {
  let t: TestDatabase;
  let parts: ReturnType<typeof storeParts>;
  let pax: ReturnType<typeof createPassengerRepository>;
  let prereg: ReturnType<typeof createPreregistrationRepository>;
  beforeAll(async () => {
    t = await open();
    const { db } = t.database;
    parts = storeParts(db);
    pax = createPassengerRepository({ db, vault: parts.vault, keys: parts.keys, retentionDays: RETENTION_DAYS });
    prereg = createPreregistrationRepository({ db, vault: parts.vault, keys: parts.keys, retentionDays: RETENTION_DAYS });
  });
  afterAll(async () => { await t.drop(); });

  it('when a ticketing system sends the same ticket twice, then it is stored once and found by the rider\'s number', async () => {
    const idNumber = randomIdNumber();
    const phone = randomPhone();
    const input = { ticketId: `tk-${idNumber}`, tripNumber: 'G88', departureDate: '2030-07-01', originText: '沈阳', name: '孙七', idType: 1, idNumber, phone };
    const first = await prereg.upsert(input);
    expect(await prereg.upsert({ ...input, name: '改名' })).toEqual({ id: first.id, duplicate: true });
    const found = await prereg.findForRider({ tripNumber: 'G88', departureDate: '2030-07-01', phone });
    expect(found).toMatchObject({ id: first.id, name: '孙七', idNumber, phone, claimedPassengerId: null });
    expect(await prereg.findForRider({ tripNumber: 'G88', departureDate: '2030-07-02', idNumber })).toBeNull();
    expect((await prereg.byTicketId(input.ticketId))?.id).toBe(first.id);

    const trip = await parts.trips.create(newTrip({ tripNumber: 'G88' }));
    const passenger = await pax.register({
      tripId: trip.id, name: '孙七', idType: 1, idNumber, phone, addressBefore: null, addressBeijing: null,
      channel: 'api', registeredBy: 'ticketing', staffId: null, userKey: null,
    });
    expect(await prereg.claim(first.id, passenger.id)).toBe(true);
    expect(await prereg.claim(first.id, passenger.id)).toBe(false);
    expect(await prereg.findForRider({ tripNumber: 'G88', departureDate: '2030-07-01', idNumber })).toBeNull();
  });

  it('when the purge runs past the retention date, then sealed values go and owners are marked purged', async () => {
    const departureAt = new Date('2029-01-10T08:00:00Z');
    const trip = await parts.trips.create(newTrip({ departureAt }));
    const keep = await parts.trips.create(newTrip({ departureAt: new Date('2035-01-10T08:00:00Z') }));
    const idNumber = randomIdNumber();
    const { id } = await pax.register({
      tripId: trip.id, name: '周八', idType: 1, idNumber, phone: randomPhone(), addressBefore: null, addressBeijing: null,
      channel: 'sms', registeredBy: 'self', staffId: null, userKey: 'uk-purge',
    });
    const retention = createRetention({ db: t.database.db, vault: parts.vault });

    const early = await retention.purge(new Date(departureAt.getTime() + (RETENTION_DAYS - 1) * 86_400_000));
    expect(early.trips + early.passengers).toBe(0);

    const asOf = new Date(departureAt.getTime() + RETENTION_DAYS * 86_400_000);
    const result = await retention.purge(asOf);
    expect(result.trips).toBeGreaterThanOrEqual(1);
    expect(result.passengers).toBeGreaterThanOrEqual(1);
    const left = await t.database.db.select({ id: vaultValues.id }).from(vaultValues)
      .where(and(eq(vaultValues.ownerType, 'passenger'), eq(vaultValues.ownerId, id)));
    expect(left).toEqual([]);
    const [row] = await t.database.db.select().from(passengers).where(eq(passengers.id, id));
    expect(row).toMatchObject({ purgedAt: asOf, idBlind: null, phoneBlind: null, nameRef: null, userKey: null });
    expect(await parts.trips.details(trip.id)).toBeNull();
    expect((await parts.trips.byId(trip.id))?.purgedAt).toEqual(asOf);
    expect(await pax.roster(trip.id)).toEqual([]);
    expect(await pax.findByIdNumber(idNumber)).toEqual([]);
    expect(await pax.latestProfileForUser('uk-purge')).toBeNull();
    expect((await parts.trips.details(keep.id))?.driver.name).toBe('张三丰');

    const again = await retention.purge(asOf);
    expect(again).toEqual({ values: 0, trips: 0, passengers: 0, preregistrations: 0 });
    const orphans = await executeRows<{ n: number }>(t.database.db, sql`select count(*)::int as n from sensitive.vault_values where purge_after <= ${asOf}`);
    expect(orphans[0]?.n).toBe(0);
  });
});
