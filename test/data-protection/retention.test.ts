import { QueueEvents, Queue } from 'bullmq';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUES } from '../../src/contracts/jobs.js';
import { bullConnection, bullPrefix } from '../../src/services.js';
import { executeRows } from '../../src/store/db.js';
import { RETENTION_SCHEDULER } from '../../workers/processors/retention.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { apiKey, dumpDatabase, get, leaks, newPerson, registerPassenger, registerTrip, run, uniqueName, uniquePhone, type Person } from './helpers.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const chinaDate = (d: Date) => new Date(d.getTime() + 8 * 3_600_000).toISOString().slice(0, 10);

/**
 * The retention purge (daily BullMQ job and `npm run purge -- --as-of`): sensitive values of trips older than
 * RETENTION_DAYS go from the database (plaintext and ciphertext), the counts stay, the roster says purged, audited.
 */
describe('retention purge on postgres', () => {
  let t: TestApp;
  let code: string;
  let tripId: string;
  const driver = { name: uniqueName(), phone: uniquePhone() };
  const riders: Person[] = [newPerson(), newPerson(), newPerson()];
  let ciphertexts: string[] = [];
  let authority: { id: string; key: string };

  beforeAll(async () => {
    t = await startTestApp();
    await t.startWorkers();
    code = await registerTrip(t, { plate: '辽A9P300', origin: '沈阳北站', destination: '北京', driver });
    for (const p of riders) await registerPassenger(t, code, p, true);
    tripId = (await t.services.repos.trips.byCode(code))?.id ?? '';
    const [first] = await t.services.repos.passengers.roster(tripId);
    await t.services.repos.passengers.markArrived(tripId, [first?.id ?? ''], new Date());
    authority = await apiKey(t, 'authority', '210100');
    const rows = await executeRows<{ hex: string }>(t.services.database.db, sql`
      select encode(ciphertext, 'hex') as hex from sensitive.vault_values
      where (owner_type = 'trip' and owner_id = ${tripId}) or (owner_type = 'passenger' and owner_id in (select id from passengers where trip_id = ${tripId}))`);
    ciphertexts = rows.map((r) => r.hex);
  });
  afterAll(async () => { await t.close(); });

  const secrets = () => [driver.name, driver.phone, ...riders.flatMap((p) => [p.name, p.idNumber, p.phone, p.addressBefore, p.addressBeijing])];

  it('when the workers start, then a daily retention job is scheduled at 03:30 China time and a run before the date purges nothing of ours', async () => {
    const connection = bullConnection(t.services.config);
    const queue = new Queue(QUEUES.retention, { connection, prefix: bullPrefix(t.services.config) });
    const events = new QueueEvents(QUEUES.retention, { connection: bullConnection(t.services.config), prefix: bullPrefix(t.services.config) });
    try {
      const scheduler = await queue.getJobScheduler(RETENTION_SCHEDULER);
      expect(scheduler).toMatchObject({ pattern: '30 3 * * *', tz: 'Asia/Shanghai' });
      await events.waitUntilReady();
      const job = await queue.add('purge', { kind: 'purge', asOf: new Date().toISOString() });
      const result = await job.waitUntilFinished(events, 60_000);
      expect(result).toMatchObject({ trips: 0, passengers: 0 });
      const roster = await get(t, authority.key, `/api/v1/trips/${code}/roster`);
      expect(roster.json).toMatchObject({ purged: false, registeredCount: 3 });
      const audit = await t.services.repos.audit.list({ action: 'retention.purge', limit: 5 });
      expect(audit[0]).toMatchObject({ actor: `job:${job.id}`, details: { trips: 0, passengers: 0, retentionDays: 28 } });
    } finally {
      await events.close();
      await queue.close();
      connection.disconnect();
    }
  });

  it('when `npm run purge -- --as-of` passes RETENTION_DAYS after the trip, then no plaintext or ciphertext of it is left and the counts survive', async () => {
    expect(ciphertexts.length).toBeGreaterThanOrEqual(2 + riders.length * 5);
    const trip = await t.services.repos.trips.byId(tripId);
    const asOf = chinaDate(new Date((trip?.departureAt.getTime() ?? 0) + 28 * 86_400_000));
    const bad = await run('npx', ['tsx', 'src/cli/purge.ts', '--as-of', '2030-02-30'], { cwd: ROOT, env: { ...process.env, ...t.env } }).then(() => null, (err: { code: number; stderr: string }) => err);
    expect(bad?.code).toBe(2);
    expect(bad?.stderr).toContain('--as-of');
    const { stdout } = await run('npx', ['tsx', 'src/cli/purge.ts', '--as-of', asOf], { cwd: ROOT, env: { ...process.env, ...t.env } });
    expect(stdout).toMatch(/trips=1 passengers=3/);

    const roster = await get(t, authority.key, `/api/v1/trips/${code}/roster`);
    expect(roster.status).toBe(200);
    expect(roster.json).toMatchObject({ purged: true, registeredCount: 3, arrivedCount: 1, passengers: [] });
    expect(roster.json.trip).toMatchObject({ code, plate: '辽A9P300', declaredCount: 40 });
    const unmasked = await get(t, authority.key, `/api/v1/trips/${code}/roster?unmasked=true&reason=after%20purge`);
    expect(unmasked.json).toMatchObject({ purged: true, passengers: [] });

    const dump = await dumpDatabase(t.services.database.db, t.db.url);
    expect(leaks(dump.text, secrets())).toEqual([]);
    const lower = dump.text.toLowerCase();
    expect(ciphertexts.filter((hex) => lower.includes(hex))).toEqual([]);
    const left = await executeRows<{ trips: number; passengers: number; blinds: number; refs: number }>(t.services.database.db, sql`
      select (select count(*)::int from trips where id = ${tripId}) as trips,
             (select count(*)::int from passengers where trip_id = ${tripId}) as passengers,
             (select count(*)::int from passengers where trip_id = ${tripId} and (id_blind is not null or phone_blind is not null or user_key is not null)) as blinds,
             (select count(*)::int from passengers where trip_id = ${tripId} and (name_ref is not null or id_number_ref is not null or phone_ref is not null)) as refs`);
    expect(left[0]).toEqual({ trips: 1, passengers: 3, blinds: 0, refs: 0 });
    expect(await t.services.repos.passengers.findByIdNumber(riders[0]?.idNumber ?? '')).toEqual([]);

    const audit = await t.services.repos.audit.list({ action: 'retention.purge', actor: 'cli', limit: 5 });
    expect(audit[0]?.details).toMatchObject({ trips: 1, passengers: 3 });
    expect(JSON.stringify(audit)).not.toMatch(/1[3-9]\d{9}/);
  });
});
