/**
 * `npm run faults`: retries, crashes and hostile input, each under load, against the real service (a child
 * process) on 127.0.0.1. Prints `key: value` lines (keys fixed by DESIGN.md) and notes on stderr.
 *
 * (a) retries: every message delivered 3 times (two at once, a third after the first reply), many passengers at
 *     once → retries.deliveries, retries.duplicates (extra passenger rows beyond one per confirmed rider).
 * (b) Redis crash + restart (a PRIVATE redis-server on 127.0.0.1:6391, append-only, fsync always) mid-run; the
 *     driver retries like WeChat (same MsgId) → redis_restart.lost (riders told "registered" but not stored).
 * (c) PostgreSQL stop + start (a PRIVATE cluster on 127.0.0.1:5441) mid-run → 5xx while down, retries after →
 *     postgres_restart.lost (lost + half-written: rows without their sealed values, or sealed values without rows).
 * (d) a worker process SIGKILLed during a QR job (the WeChat API stand-in answers slowly) → a second worker takes
 *     the stalled job over → worker_kill.duplicates (QR images sent beyond one).
 * (e) fuzz: the corpus plus FAULTS_FUZZ_INPUTS (default 100,000) fast-check inputs over HTTP → fuzz.inputs,
 *     fuzz.crashes (service exits, or it stops answering /healthz), fuzz.rows_stored, fuzz.server_errors.
 * The shared Redis (6379) and PostgreSQL (5432) are only used through fresh databases and private key prefixes.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { pino } from 'pino';
import { Agent, request } from 'node:http';
import { loadConfig } from '../src/config.js';
import { openServices } from '../src/services.js';
import { jobId, type OutboundJob } from '../src/contracts/jobs.js';
import { startWechatApiStub } from '../test/helpers/wechat-api-stub.js';
import { acceptableStatus, corpus, fuzzRequest, uplinkRequest, type FuzzRequest } from '../test/fuzz/inputs.js';
import {
  AES_KEY, APPID, APPSECRET, countRows, dropRedisPrefix, figure, freshDatabase, newPassenger, nextMsgId, note, postTurn,
  registrationTurns, serviceEnv, SHARED_PG_URL, SHARED_REDIS_URL, startPrivatePostgres, startPrivateRedis, startServer,
  TOKEN, type Passenger, type ServerChild,
} from './harness.js';

const PRIVATE_REDIS_PORT = Number(process.env['FAULTS_REDIS_PORT'] ?? 6391);
const PRIVATE_PG_PORT = Number(process.env['FAULTS_PG_PORT'] ?? 5441);
const FUZZ_INPUTS = Number(process.env['FAULTS_FUZZ_INPUTS'] ?? 100_000);
const RIDERS = Number(process.env['FAULTS_RIDERS'] ?? 120);
const ALREADY_REGISTERED = '已经登记过';
const FUZZ_UPLINK_TOKEN = 'faultsuplinktoken123';

interface RiderOutcome { passenger: Passenger; confirmed: boolean; deliveries: number; serverErrors: number; mismatch: string | null }

/**
 * One rider through a whole registration, delivering like WeChat: a 5xx, a dropped connection or an empty
 * answer makes it deliver the SAME message again (same MsgId / CreateTime) after a pause. `copies` > 1 sends
 * that many deliveries of each message: all but one at once, the last after the first reply.
 */
async function rideWithRetries(port: number, p: Passenger, opts: { copies?: number; maxAttempts?: number; pauseMs?: number } = {}): Promise<RiderOutcome> {
  const copies = opts.copies ?? 1;
  const out: RiderOutcome = { passenger: p, confirmed: false, deliveries: 0, serverErrors: 0, mismatch: null };
  const turns = registrationTurns(p);
  for (const [index, turn] of turns.entries()) {
    const msgId = nextMsgId();
    const createTime = Math.floor(Date.now() / 1000);
    const deliver = async () => {
      out.deliveries += 1;
      try {
        const res = await postTurn(port, p, turn, false, msgId, createTime);
        if (res.status >= 500) out.serverErrors += 1;
        return res;
      } catch {
        return { status: 0, text: null }; // connection refused/reset: WeChat retries
      }
    };
    let answered: string | null = null;
    for (let attempt = 0; attempt < (opts.maxAttempts ?? 80) && answered === null; attempt++) {
      const first = copies > 1 && attempt === 0 ? await Promise.all(Array.from({ length: copies - 1 }, deliver)) : [await deliver()];
      if (copies > 1 && attempt === 0) {
        const last = await deliver();
        // A retry that outwaits the first delivery (4 s) answers empty, as designed; only two different texts are wrong.
        const texts = new Set([...first, last].filter((r) => r.status === 200 && r.text).map((r) => r.text));
        if (texts.size > 1) out.mismatch = `turn ${index}: deliveries answered differently (${[...texts].map((t) => t?.slice(0, 20)).join(' | ')})`;
        first.push(last);
      }
      const good = first.find((r) => r.status === 200 && r.text !== null && r.text !== '');
      if (good?.text != null) answered = good.text;
      else await sleep(opts.pauseMs ?? 250);
    }
    if (answered === null) { out.mismatch ??= `turn ${index}: no answer after retries`; return out; }
    const ok = answered.includes(turn.expect) || (index === turns.length - 1 && answered.includes(ALREADY_REGISTERED));
    if (!ok) { out.mismatch ??= `turn ${index}: unexpected reply ${JSON.stringify(answered.slice(0, 40))}`; return out; }
  }
  out.confirmed = true;
  return out;
}

/** Riders registering in waves until `until` resolves (each rider waits for its replies), then the stragglers finish. */
async function loadUntil(port: number, server: ServerChild, until: Promise<void>, concurrency: number): Promise<RiderOutcome[]> {
  let done = false;
  void until.then(() => { done = true; });
  const outcomes: RiderOutcome[] = [];
  let cursor = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (!done) {
      const trip = server.trips[cursor++ % server.trips.length];
      if (!trip) return;
      outcomes.push(await rideWithRetries(port, newPassenger(trip.code)));
    }
  }));
  return outcomes;
}

interface StoreCheck { rows: number; duplicates: number; lost: number; halfWritten: number }

async function checkStore(databaseUrl: string, env: Record<string, string>, outcomes: RiderOutcome[]): Promise<StoreCheck> {
  // The user key depends on the store's key ring: ask the service's own code, over the same database and key.
  const services = await openServices(loadConfig(env), { logger: pino({ level: 'warn' }, pino.destination(2)) });
  const keyOf = (openid: string) => services.userKeyOf('wechat', openid);
  const expected = outcomes.filter((o) => o.confirmed).map((o) => keyOf(o.passenger.openid));
  await services.close();
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const byUser = new Map((await client.query<{ user_key: string; n: string }>('select user_key, count(*) as n from passengers group by user_key')).rows.map((r) => [r.user_key, Number(r.n)]));
    const rows = [...byUser.values()].reduce((a, b) => a + b, 0);
    const duplicates = [...byUser.values()].reduce((a, n) => a + Math.max(0, n - 1), 0);
    const lost = expected.filter((k) => !byUser.has(k)).length;
    const half = await client.query<{ n: string }>(`
      select (select count(*) from passengers p where p.name_ref is null or p.id_number_ref is null or p.phone_ref is null
                or not exists (select 1 from sensitive.vault_values v where v.id = p.name_ref)
                or not exists (select 1 from sensitive.vault_values v where v.id = p.id_number_ref)
                or not exists (select 1 from sensitive.vault_values v where v.id = p.phone_ref))
           + (select count(*) from sensitive.vault_values v where v.owner_type = 'passenger'
                and not exists (select 1 from passengers p where p.id = v.owner_id)) as n`);
    return { rows, duplicates, lost, halfWritten: Number(half.rows[0]?.n ?? 0) };
  } finally {
    await client.end();
  }
}

function summarize(name: string, outcomes: RiderOutcome[], store: StoreCheck): void {
  const confirmed = outcomes.filter((o) => o.confirmed).length;
  const mismatches = outcomes.filter((o) => o.mismatch).map((o) => o.mismatch);
  const serverErrors = outcomes.reduce((a, o) => a + o.serverErrors, 0);
  note(`${name}: ${outcomes.length} riders, ${confirmed} confirmed, ${store.rows} rows, ${serverErrors} 5xx answers seen, ${store.duplicates} duplicates, ${store.lost} lost, ${store.halfWritten} half-written`);
  if (mismatches.length > 0) note(`${name}: ${mismatches.length} riders did not finish, e.g. ${mismatches.slice(0, 3).join('; ')}`);
}

async function withService<T>(args: { name: string; adminUrl: string; redisUrl: string; trips?: number }, run: (server: ServerChild, ctx: { databaseUrl: string; env: Record<string, string> }) => Promise<T>): Promise<T> {
  const db = await freshDatabase(args.adminUrl);
  const prefix = `faults-${randomUUID().slice(0, 8)}`;
  const env = { ...serviceEnv({ databaseUrl: db.url, redisUrl: args.redisUrl, prefix, aes: true, logLevel: 'warn' }), SMS_UPLINK_TOKEN: FUZZ_UPLINK_TOKEN };
  const server = await startServer('service', env, args.trips ?? 20);
  let crashed = false;
  const onExit = (code: number | null, signal: string | null) => { crashed = true; note(`${args.name}: the service process EXITED during the run (code ${code}, signal ${signal})`); };
  server.child.once('exit', onExit);
  try {
    const result = await run(server, { databaseUrl: db.url, env });
    server.child.off('exit', onExit);
    figure(`${args.name}.service_crashes`, crashed ? 1 : 0);
    return result;
  } finally {
    await server.stop();
    await dropRedisPrefix(args.redisUrl, prefix).catch((err: unknown) => note(`redis cleanup: ${String(err)}`));
    await db.drop().catch((err: unknown) => note(`database cleanup: ${String(err)}`));
  }
}

// ─── (a) retries ────────────────────────────────────────────────────────────────────────────────────────────
async function retries(): Promise<void> {
  await withService({ name: 'retries', adminUrl: SHARED_PG_URL, redisUrl: SHARED_REDIS_URL }, async (server, ctx) => {
    const outcomes = await Promise.all(Array.from({ length: RIDERS }, (_, i) => rideWithRetries(server.port, newPassenger(server.trips[i % server.trips.length]?.code ?? ''), { copies: 3 })));
    const store = await checkStore(ctx.databaseUrl, ctx.env, outcomes);
    summarize('retries', outcomes, store);
    figure('retries.deliveries', outcomes.reduce((a, o) => a + o.deliveries, 0));
    figure('retries.duplicates', store.duplicates + Math.max(0, store.rows - outcomes.filter((o) => o.confirmed).length));
  });
}

// ─── (b) Redis restart ──────────────────────────────────────────────────────────────────────────────────────
async function redisRestart(): Promise<void> {
  let redis;
  try {
    redis = await startPrivateRedis(PRIVATE_REDIS_PORT);
  } catch (err) {
    note(`redis_restart: cannot start a private redis-server: ${err instanceof Error ? err.message : String(err)}`);
    figure('redis_restart.lost', 'n/a');
    return;
  }
  try {
    const r = redis;
    await withService({ name: 'redis_restart', adminUrl: SHARED_PG_URL, redisUrl: r.url }, async (server, ctx) => {
      const crash = (async () => { await sleep(2500); note('redis_restart: killing redis-server (SIGKILL) and starting it again'); await r.restart(1000); await sleep(4000); })();
      const outcomes = await loadUntil(server.port, server, crash, 40);
      const store = await checkStore(ctx.databaseUrl, ctx.env, outcomes);
      summarize('redis_restart', outcomes, store);
      figure('redis_restart.lost', store.lost);
    });
  } finally {
    await redis.stop();
  }
}

// ─── (c) PostgreSQL restart ─────────────────────────────────────────────────────────────────────────────────
async function postgresRestart(): Promise<void> {
  let cluster;
  try {
    cluster = await startPrivatePostgres(PRIVATE_PG_PORT);
  } catch (err) {
    note(`postgres_restart: cannot start a private PostgreSQL cluster: ${err instanceof Error ? err.message : String(err)}`);
    figure('postgres_restart.lost', 'n/a');
    return;
  }
  try {
    const c = cluster;
    await withService({ name: 'postgres_restart', adminUrl: c.adminUrl, redisUrl: SHARED_REDIS_URL }, async (server, ctx) => {
      const outage = (async () => {
        await sleep(2500);
        note('postgres_restart: stopping PostgreSQL (fast shutdown) for 2 s');
        await c.stopServer();
        await sleep(2000);
        await c.startServer();
        await sleep(4000);
      })();
      const outcomes = await loadUntil(server.port, server, outage, 40);
      const store = await checkStore(ctx.databaseUrl, ctx.env, outcomes);
      summarize('postgres_restart', outcomes, store);
      figure('postgres_restart.lost', store.lost + store.halfWritten);
    });
  } finally {
    await cluster.destroy();
  }
}

// ─── (d) worker killed mid-job ──────────────────────────────────────────────────────────────────────────────
async function workerKill(): Promise<void> {
  const stub = await startWechatApiStub({ appId: APPID, appSecret: APPSECRET });
  const db = await freshDatabase(SHARED_PG_URL);
  const prefix = `faults-${randomUUID().slice(0, 8)}`;
  const env = serviceEnv({ databaseUrl: db.url, redisUrl: SHARED_REDIS_URL, prefix, aes: false, apiBase: stub.baseUrl, logLevel: 'warn' });
  const services = await openServices(loadConfig(env), { logger: pino({ level: 'warn' }, pino.destination(2)) });
  const workers: ServerChild[] = [];
  try {
    const trip = await services.repos.trips.create({
      plate: '辽A99999', declaredCount: 40, driver: { name: '张建国', phone: '13812345678' }, registrant: null, crew: null, tripNumber: null,
      departureAt: new Date(Date.now() + 86_400_000), originText: '沈阳', destinationText: '大连', beijingBound: false, createdBy: null,
    });
    const openid = `o${randomUUID().replaceAll('-', '').slice(0, 27)}`;
    stub.state.latencyMs = 1500;
    const job: OutboundJob = { kind: 'wechat-trip-qr', tripId: trip.id, openid, reqId: 'faults' };
    const added = await services.queues.outbound.add(job.kind, job, { jobId: jobId('qr', trip.id), attempts: 5, backoff: { type: 'exponential', delay: 2000 } });
    workers.push(await startServer('worker', env));
    const deadline = Date.now() + 20_000;
    while (!stub.calls.some((c) => c.path.includes('qrcode/create') || c.path.includes('media/upload')) && Date.now() < deadline) await sleep(50);
    note(`worker_kill: SIGKILL to the worker during the job (WeChat API calls so far: ${stub.calls.map((c) => c.path.split('/').pop()).join(', ')})`);
    workers[0]?.child.kill('SIGKILL');
    stub.state.latencyMs = 50;
    workers.push(await startServer('worker', env));
    const finish = Date.now() + 120_000;
    let state = await added.getState();
    while (state !== 'completed' && state !== 'failed' && Date.now() < finish) {
      await sleep(500);
      state = await services.queues.outbound.getJobState(added.id ?? '');
    }
    const images = stub.messagesTo(openid).filter((m) => m.body['msgtype'] === 'image').length;
    note(`worker_kill: job ${state}; ${images} QR image(s) sent to the driver`);
    figure('worker_kill.duplicates', state === 'completed' ? Math.max(0, images - 1) : 'n/a');
    if (state !== 'completed') note('worker_kill: the job did not complete within 120 s');
  } finally {
    for (const w of workers) await w.stop();
    await services.close();
    await stub.close();
    await dropRedisPrefix(SHARED_REDIS_URL, prefix);
    await db.drop();
  }
}

// ─── (e) fuzz ───────────────────────────────────────────────────────────────────────────────────────────────
async function fuzz(): Promise<void> {
  await withService({ name: 'fuzz', adminUrl: SHARED_PG_URL, redisUrl: SHARED_REDIS_URL, trips: 0 }, async (server, ctx) => {
    const keys = { token: TOKEN, aesKey: AES_KEY, appId: APPID };
    const agent = new Agent({ keepAlive: true, maxSockets: 32 });
    const base = `http://127.0.0.1:${server.port}`;
    const post = (req: FuzzRequest) => new Promise<number>((resolve, reject) => {
      const r = request({ host: '127.0.0.1', port: server.port, method: req.method, path: req.url, headers: { ...req.headers, 'content-length': String(req.method === 'POST' ? req.body.length : 0) }, agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      });
      r.on('error', reject);
      r.end(req.method === 'POST' ? req.body : undefined);
    });
    let inputs = 0;
    let serverErrors = 0;
    let unexpected = 0;
    let socketErrors = 0;
    const examples: string[] = [];
    const send = async (req: FuzzRequest) => {
      inputs += 1;
      try {
        const status = await post(req);
        if (status >= 500) serverErrors += 1;
        if (!acceptableStatus(req, status)) { unexpected += 1; if (examples.length < 5) examples.push(`${req.kind} → ${status}`); }
      } catch {
        socketErrors += 1; // e.g. the server answered 413 and closed while a 10 MB body was still being sent
      }
    };
    for (const req of corpus(keys)) await send(req);
    // The SMS uplink joins the mix when this tree has it (SMS_UPLINK_TOKEN is set for the fuzz service).
    const hasUplink = await post({ kind: 'probe', method: 'POST', url: '/sms/aliyun/uplink?token=probe', headers: { 'content-type': 'application/json' }, body: Buffer.from('[]'), signedAndWellFormed: false }).then((s) => s !== 404, () => false);
    const arbitrary = hasUplink ? fc.oneof({ arbitrary: fuzzRequest(keys), weight: 4 }, { arbitrary: uplinkRequest(FUZZ_UPLINK_TOKEN), weight: 1 }) : fuzzRequest(keys);
    note(`fuzz: /wechat${hasUplink ? ' and /sms/aliyun/uplink' : ' only (no SMS uplink route in this tree)'}`);
    const batch = 2000;
    for (let sent = 0; sent < FUZZ_INPUTS; sent += batch) {
      const reqs = fc.sample(arbitrary, Math.min(batch, FUZZ_INPUTS - sent));
      let i = 0;
      await Promise.all(Array.from({ length: 32 }, async () => { while (i < reqs.length) { const r = reqs[i++]; if (r) await send(r); } }));
    }
    agent.destroy();
    const alive = server.child.exitCode === null && server.child.signalCode === null;
    const health = alive ? await fetch(`${base}/healthz`).then((r) => r.status, () => 0) : 0;
    const crashes = (alive ? 0 : 1) + (health === 200 ? 0 : 1);
    const rows = await countRows(ctx.databaseUrl, `select (select count(*) from passengers) + (select count(*) from trips) + (select count(*) from sensitive.vault_values) as n`);
    note(`fuzz: ${inputs} inputs, ${serverErrors} 5xx, ${unexpected} unexpected statuses${examples.length ? ` (${examples.join(', ')})` : ''}, ${socketErrors} socket errors, service ${alive ? 'alive' : 'DEAD'}, /healthz ${health}`);
    figure('fuzz.inputs', inputs);
    figure('fuzz.crashes', crashes);
    figure('fuzz.rows_stored', rows);
    figure('fuzz.server_errors', serverErrors);
  });
}

async function main(): Promise<void> {
  const only = process.env['FAULTS_ONLY']?.split(',');
  const parts: [string, () => Promise<void>][] = [['retries', retries], ['redis', redisRestart], ['postgres', postgresRestart], ['worker', workerKill], ['fuzz', fuzz]];
  for (const [name, run] of parts) {
    if (only && !only.includes(name)) continue;
    const started = Date.now();
    await run();
    note(`(${name} took ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  }
}

main().then(() => process.exit(0), (err: unknown) => {
  process.stderr.write(`faults failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
