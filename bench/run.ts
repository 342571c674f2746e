/**
 * `npm run bench`: how much OA traffic one machine carries, against real Redis and PostgreSQL on 127.0.0.1.
 *
 * The service runs as a child process (bench/server.ts: buildApp(openServices(config)) on 127.0.0.1:0, info logs
 * written to /dev/null); autocannon drives it from this process. Each autocannon connection is one simulated
 * passenger going through a COMPLETE registration (scan → consent → name → ID number → phone → confirm), waiting
 * for every reply before the next answer; each request is freshly signed with a unique MsgId, and only a 200 whose
 * passive reply verifies and contains the expected text counts as a success. A wrong reply makes that connection
 * start over with a new passenger. The same loader then measures a bare Fastify hello route in the same run.
 *
 * Prints `key: value` lines (keys fixed by DESIGN.md). Environment knobs (all optional):
 * BENCH_SECONDS (default 20), BENCH_CONNECTIONS (default 64), BENCH_TRIPS (default 40), BENCH_LOG_LEVEL (info),
 * BENCH_CPU_PROF=<dir> (write a --cpu-prof profile of the service child into <dir>).
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import {
  countRows, dropRedisPrefix, figure, freshDatabase, newPassenger, note, registrationTurns, replyText, serviceEnv, SHARED_PG_URL,
  SHARED_REDIS_URL, signedTurn, startServer, TURNS_PER_REGISTRATION, type Passenger, type TripInfo,
} from './harness.js';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 20);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 64);
const TRIPS = Number(process.env['BENCH_TRIPS'] ?? 40);

interface OaFigures { messagesPerS: number; registrationsPerS: number; p50: number; p95: number; p99: number; failures: number; registrations: number; non2xx: number; errors: number }

interface PassengerContext { passenger?: Passenger; broken?: boolean; sentAt?: number }

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

/** Drives `connections` simulated passengers for `seconds` through complete registrations. */
async function driveRegistrations(port: number, trips: TripInfo[], aes: boolean, seconds: number, connections: number): Promise<OaFigures> {
  let tripCursor = 0;
  let successes = 0;
  let failures = 0;
  let registrations = 0;
  const latencies: number[] = [];
  const template = registrationTurns(newPassenger('000000'));
  const requests = template.map((turn, index) => ({
    method: 'POST' as const,
    path: '/wechat',
    headers: { 'content-type': 'text/xml' },
    setupRequest(req: autocannon.Request, ctx: object): autocannon.Request {
      const context = ctx as PassengerContext;
      if (index === 0) {
        const trip = trips[tripCursor++ % trips.length];
        if (!trip) throw new Error('no trips');
        context.passenger = newPassenger(trip.code);
        context.broken = false;
      } else if (context.broken || !context.passenger) {
        return null as unknown as autocannon.Request; // falsy: autocannon starts over (a new passenger)
      }
      const turnNow = registrationTurns(context.passenger)[index] ?? turn;
      const signed = signedTurn(context.passenger, turnNow, aes);
      context.sentAt = performance.now();
      return { ...req, path: signed.path, body: signed.body };
    },
    onResponse(status: number, body: string, ctx: object): void {
      const context = ctx as PassengerContext;
      if (context.sentAt !== undefined) latencies.push(performance.now() - context.sentAt);
      const expected = template[index]?.expect ?? '';
      const text = status === 200 ? replyText(body, aes) : null;
      if (text !== null && text.includes(expected)) {
        successes += 1;
        if (index === TURNS_PER_REGISTRATION - 1) registrations += 1;
      } else {
        failures += 1;
        context.broken = true;
      }
    },
  }));
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`, connections, pipelining: 1, duration: seconds, timeout: 10, requests,
  });
  const elapsed = result.duration || seconds;
  const sorted = Float64Array.from(latencies).sort();
  return {
    messagesPerS: successes / elapsed, registrationsPerS: registrations / elapsed,
    p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99),
    failures, registrations, non2xx: result.non2xx, errors: result.errors + result.timeouts,
  };
}

async function bareFastify(seconds: number, connections: number): Promise<number> {
  const server = await startServer('bare', {});
  try {
    await autocannon({ url: `http://127.0.0.1:${server.port}/`, connections, duration: 2 }); // warm-up
    const result = await autocannon({ url: `http://127.0.0.1:${server.port}/`, connections, pipelining: 1, duration: seconds });
    return result.requests.total / (result.duration || seconds) * ((result['2xx'] ?? 0) / Math.max(1, result.requests.total));
  } finally {
    await server.stop();
  }
}

async function oaRun(aes: boolean, seconds: number): Promise<{ figures: OaFigures; stored: number; databaseUrl: string; drop(): Promise<void> }> {
  const db = await freshDatabase(SHARED_PG_URL);
  const prefix = `bench-${randomUUID().slice(0, 8)}`;
  const server = await startServer('service', serviceEnv({ databaseUrl: db.url, redisUrl: SHARED_REDIS_URL, prefix, aes }), TRIPS);
  try {
    await driveRegistrations(server.port, server.trips, aes, 3, CONNECTIONS); // warm-up (JIT, pools), not counted
    const figures = await driveRegistrations(server.port, server.trips, aes, seconds, CONNECTIONS);
    const stored = await countRows(db.url, 'select count(*) as n from passengers');
    return { figures, stored, databaseUrl: db.url, drop: () => db.drop() };
  } finally {
    await server.stop();
    await dropRedisPrefix(SHARED_REDIS_URL, prefix);
  }
}

/** The report workers run with a bounded heap; the benchmark measures the build the same way, in a child process. */
const REPORT_HEAP_MB = Number(process.env['BENCH_REPORT_HEAP_MB'] ?? 192);

async function reportFigures(): Promise<void> {
  const script = fileURLToPath(new URL('./report-run.ts', import.meta.url));
  const child = spawn(process.execPath, [`--max-old-space-size=${REPORT_HEAP_MB}`, '--expose-gc', '--import', 'tsx', script, String(REPORT_REGISTRATIONS), String(REPORT_CITIES)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => { out += chunk; });
  const code = await new Promise<number | null>((done) => child.on('close', done));
  const line = out.trim().split('\n').pop() ?? '';
  const r = code === 0 && line.startsWith('{') ? JSON.parse(line) as ReportBench : {};
  if (code !== 0) note(`report.*: the report benchmark exited with ${code}`);
  note(`report: ${REPORT_REGISTRATIONS} registrations in ${REPORT_CITIES} cities, heap bounded to ${REPORT_HEAP_MB} MB, seeded in ${String(r['seedSeconds'] ?? '?')} s`);
  const pick = (name: string) => (typeof r[name] === 'number' ? r[name] as number : 'n/a');
  figure('report.rows', pick('rows'));
  figure('report.seconds', pick('seconds'));
  figure('report.peak_rss_mb', pick('peakRssMb'));
}

type ReportBench = Record<string, unknown>;
const REPORT_REGISTRATIONS = Number(process.env['BENCH_REPORT_REGISTRATIONS'] ?? 1_000_000);
const REPORT_CITIES = Number(process.env['BENCH_REPORT_CITIES'] ?? 14);


async function main(): Promise<void> {
  note(`bench: ${CONNECTIONS} simulated passengers, ${SECONDS} s per run, ${TRIPS} trips, service log level ${process.env['BENCH_LOG_LEVEL'] ?? 'info'}`);
  const plain = await oaRun(false, SECONDS);
  await plain.drop();
  const f = plain.figures;
  note(`oa: ${f.registrations} registrations, ${f.failures} failed answers, ${f.non2xx} non-2xx, ${f.errors} socket errors/timeouts, ${plain.stored} passengers stored (warm-up included)`);
  figure('oa.messages_per_s', f.messagesPerS);
  figure('oa.registrations_per_s', f.registrationsPerS);
  figure('oa.p50_ms', f.p50);
  figure('oa.p95_ms', f.p95);
  figure('oa.p99_ms', f.p99);

  const safe = await oaRun(true, Math.max(5, Math.round(SECONDS / 2)));
  await safe.drop();
  note(`oa_safe: ${safe.figures.registrations} registrations, ${safe.figures.failures} failed answers`);
  figure('oa_safe.messages_per_s', safe.figures.messagesPerS);
  figure('oa_safe.p99_ms', safe.figures.p99);

  const bare = await bareFastify(Math.max(5, Math.round(SECONDS / 2)), CONNECTIONS);
  figure('fastify_bare.requests_per_s', bare);
  figure('oa.ratio_to_bare', f.messagesPerS / bare);

  await reportFigures();
}

main().then(() => process.exit(0), (err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
