/**
 * `npm run bench` report figures (called by bench/run.ts): seeds one day of registrations across N cities with bulk
 * inserts (vault values sealed here exactly as src/store/vault.ts seals them: AES-256-GCM, associated data
 * `${id}:${kind}`), then builds every city's workbook with the same streaming builder the report worker uses,
 * sampling the process RSS all along. Returns { rows, seconds, peakRssMb } (+ seeding time and the RSS before).
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { PassThrough } from 'node:stream';
import { sql } from 'drizzle-orm';
import { seal } from '../src/security/cipher.js';
import type { Services } from '../src/services.js';
import { idNumberBlindIndex, maskedForms, phoneBlindIndex } from '../src/store/passengers.js';
import { writeReportWorkbook } from '../src/reports/workbook.js';

export interface ReportBenchArgs { services: Services; registrations: number; cities: number; date?: string; concurrency?: number }
export interface ReportBenchResult { rows: number; seconds: number; peakRssMb: number; seedSeconds: number; baseRssMb: number; bytes: number; cities: number }

/** Liaoning's 14 prefecture cities, then others: real GB/T 2260 codes so city names resolve. */
const CITY_CODES = ['210100', '210200', '210300', '210400', '210500', '210600', '210700', '210800', '210900', '211000', '211100', '211200', '211300', '211400', '220100', '220200', '230100', '230200'];
const PER_TRIP = 40;
const BATCH = 5000;
const SURNAMES = ['王', '李', '张', '刘', '陈', '杨', '赵', '黄', '周', '吴'];
const GIVEN = ['伟', '芳', '娜', '秀英', '敏', '静', '丽', '强', '磊', '军', '洋', '勇'];
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

function residentId(n: number): string {
  const body = `2101021990${String(n).padStart(7, '0')}`.slice(0, 17);
  let sum = 0;
  for (let i = 0; i < 17; i += 1) sum += Number(body[i]) * (WEIGHTS[i] ?? 0);
  return body + '10X98765432'.charAt(sum % 11);
}

const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);

async function seedDay(services: Services, date: string, registrations: number, cities: string[]): Promise<void> {
  const db = services.database.db;
  const key = services.keys.encryption;
  const purgeAfter = new Date(Date.parse(`${date}T00:00:00+08:00`) + 60 * 86_400_000).toISOString();
  const tripCount = Math.max(1, Math.ceil(registrations / PER_TRIP));
  const tripIds: string[] = [];
  const dayStart = Date.parse(`${date}T00:00:00+08:00`);
  for (let start = 0; start < tripCount; start += BATCH) {
    const n = Math.min(BATCH, tripCount - start);
    const ids: string[] = []; const codes: string[] = []; const plates: string[] = []; const deps: string[] = []; const citiesCol: string[] = []; const declared: number[] = [];
    for (let i = 0; i < n; i += 1) {
      const k = start + i;
      ids.push(randomUUID());
      codes.push(String(100_000 + k));
      plates.push(`辽A${String(10_000 + (k % 90_000)).padStart(5, '0')}`);
      deps.push(new Date(dayStart + ((k * 37) % 1440) * 60_000).toISOString());
      citiesCol.push(cities[k % cities.length] ?? '210100');
      declared.push(PER_TRIP + 5);
    }
    await db.execute(sql`
      insert into trips (id, code, plate, declared_count, registrant_is_driver, trip_number, departure_at, origin_text, destination_text, beijing_bound, reporting_city, origin_city)
      select id, code, plate, declared, true, 'K1234', dep, '沈阳北站', '北京', true, city, city
      from unnest(${sql.param(ids)}::uuid[], ${sql.param(codes)}::text[], ${sql.param(plates)}::text[], ${sql.param(deps)}::timestamptz[], ${sql.param(citiesCol)}::text[], ${sql.param(declared)}::int[])
        as u(id, code, plate, dep, city, declared)`);
    tripIds.push(...ids);
  }
  for (let start = 0; start < registrations; start += BATCH) {
    const n = Math.min(BATCH, registrations - start);
    const p = { id: [] as string[], trip: [] as string[], name: [] as string[], idRef: [] as string[], phone: [] as string[], idBlind: [] as string[], phoneBlind: [] as string[], arrived: [] as (string | null)[], masked: [] as string[] };
    const v = { id: [] as string[], kind: [] as string[], ct: [] as string[], owner: [] as string[] };
    for (let i = 0; i < n; i += 1) {
      const k = start + i;
      const id = randomUUID();
      const idNumber = residentId(k);
      const phone = `139${String(k).padStart(8, '0')}`;
      const name = `${SURNAMES[k % SURNAMES.length] ?? '王'}${GIVEN[k % GIVEN.length] ?? '伟'}${k % 3 === 0 ? '明' : ''}`;
      const refs = { name: randomUUID(), id_number: randomUUID(), phone: randomUUID() };
      for (const [kind, value] of [['name', name], ['id_number', idNumber], ['phone', phone]] as const) {
        v.id.push(refs[kind]); v.kind.push(kind); v.owner.push(id);
        v.ct.push(`\\x${seal(key, value, `${refs[kind]}:${kind}`).toString('hex')}`);
      }
      p.id.push(id); p.trip.push(tripIds[Math.floor(k / PER_TRIP)] ?? tripIds[0] ?? ''); p.name.push(refs.name); p.idRef.push(refs.id_number); p.phone.push(refs.phone);
      p.idBlind.push(idNumberBlindIndex(services.keys, idNumber)); p.phoneBlind.push(phoneBlindIndex(services.keys, phone));
      p.masked.push(JSON.stringify(maskedForms(name, idNumber, phone, null, null)));
      p.arrived.push(k % 4 === 0 ? null : new Date(dayStart + 86_000_000).toISOString());
    }
    await db.execute(sql`
      insert into sensitive.vault_values (id, kind, ciphertext, key_id, owner_type, owner_id, purge_after)
      select id, kind, ct, ${services.keys.keyId}, 'passenger', owner, ${purgeAfter}::timestamptz
      from unnest(${sql.param(v.id)}::uuid[], ${sql.param(v.kind)}::text[], ${sql.param(v.ct)}::bytea[], ${sql.param(v.owner)}::uuid[]) as u(id, kind, ct, owner)`);
    await db.execute(sql`
      insert into passengers (id, trip_id, name_ref, id_type, id_number_ref, id_blind, phone_ref, phone_blind, masked, channel, registered_by, arrived_at)
      select id, trip, name_ref, 1, id_ref, id_blind, phone_ref, phone_blind, masked, 'wechat', 'self', arrived
      from unnest(${sql.param(p.id)}::uuid[], ${sql.param(p.trip)}::uuid[], ${sql.param(p.name)}::uuid[], ${sql.param(p.idRef)}::uuid[],
                  ${sql.param(p.idBlind)}::text[], ${sql.param(p.phone)}::uuid[], ${sql.param(p.phoneBlind)}::text[], ${sql.param(p.arrived)}::timestamptz[],
                  ${sql.param(p.masked)}::jsonb[])
        as u(id, trip, name_ref, id_ref, id_blind, phone_ref, phone_blind, arrived, masked)`);
  }
  await db.execute(sql`analyze trips`);
  await db.execute(sql`analyze passengers`);
  await db.execute(sql`analyze sensitive.vault_values`);
}

export async function benchReports(args: ReportBenchArgs): Promise<ReportBenchResult> {
  const { services, registrations } = args;
  const date = args.date ?? '2030-01-15';
  const cities = CITY_CODES.slice(0, Math.max(1, Math.min(args.cities, CITY_CODES.length)));
  const seedStart = performance.now();
  await seedDay(services, date, registrations, cities);
  const seedSeconds = (performance.now() - seedStart) / 1000;

  const dir = await mkdtemp(join(tmpdir(), 'boardroll-report-bench-'));
  global.gc?.();
  const baseRss = process.memoryUsage().rss;
  let peak = baseRss;
  const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 50);
  const started = performance.now();
  let rows = 0;
  let bytes = 0;
  try {
    const queue = [...cities];
    const concurrency = Math.max(1, args.concurrency ?? 2); // as the report worker (concurrency 2)
    await Promise.all(Array.from({ length: concurrency }, async () => {
      for (let city = queue.shift(); city !== undefined; city = queue.shift()) {
        const file = join(dir, `${city}.xlsx`);
        const out = new PassThrough();
        const written = pipeline(out, createWriteStream(file));
        const result = await writeReportWorkbook(
          { db: services.database.db, vault: services.vault, translator: services.translator },
          { city, date, masked: true, locale: services.config.defaultLocale },
          out,
        );
        await written;
        rows += result.rows;
        bytes += (await stat(file)).size;
        await rm(file);
      }
    }));
  } finally {
    clearInterval(sampler);
    await rm(dir, { recursive: true, force: true });
  }
  const seconds = (performance.now() - started) / 1000;
  peak = Math.max(peak, process.memoryUsage().rss);
  return { rows, seconds, peakRssMb: mb(peak), seedSeconds, baseRssMb: mb(baseRss), bytes, cities: cities.length };
}
