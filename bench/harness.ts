/**
 * Shared by `npm run bench` and `npm run faults`: fresh databases on a PostgreSQL server, the service as a child
 * process (bench/server.ts, so the loader never shares its event loop), simulated passengers that sign every
 * request like WeChat does, and helpers to start PRIVATE redis-server / PostgreSQL instances for fault runs.
 * Everything listens on 127.0.0.1 only.
 */
import { spawn, fork, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, chmodSync, readdirSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { Redis } from 'ioredis';
import { migrateDatabase, openDatabase } from '../src/store/db.js';
import { eventXml, openReply, signRequest, textXml } from '../test/helpers/wechat-client.js';

export const TOKEN = 'benchtoken0123456789';
export const APPID = 'wx0123456789abcdef';
export const APPSECRET = 'benchsecret0123456789';
export const AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
export const SHARED_PG_URL = process.env['BENCH_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const SHARED_REDIS_URL = process.env['BENCH_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const SERVER_SCRIPT = fileURLToPath(new URL('./server.ts', import.meta.url));

/** Prints one figure as the contract wants it: `key: value`. */
export function figure(key: string, value: number | string): void {
  const text = typeof value === 'number' ? (Number.isInteger(value) ? String(value) : value.toFixed(value >= 100 ? 0 : 2)) : value;
  process.stdout.write(`${key}: ${text}\n`);
}

export function note(text: string): void {
  process.stderr.write(`${text}\n`);
}

// ─── databases ──────────────────────────────────────────────────────────────────────────────────────────────

async function admin<T>(url: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

export interface FreshDatabase { url: string; drop(): Promise<void> }

/** A fresh, migrated database on the server `adminUrl` points at (like test/helpers/db.ts). */
export async function freshDatabase(adminUrl: string = SHARED_PG_URL): Promise<FreshDatabase> {
  const name = `br_bench_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  await admin(adminUrl, (c) => c.query(`CREATE DATABASE "${name}"`));
  const target = new URL(adminUrl);
  target.pathname = `/${name}`;
  const url = target.toString();
  const database = await openDatabase({ databaseUrl: url, dataDir: 'memory://' });
  await migrateDatabase(database);
  await database.close();
  return { url, drop: () => admin(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined) };
}

export async function countRows(url: string, sql: string, params: unknown[] = []): Promise<number> {
  return admin(url, async (c) => Number((await c.query<{ n: string }>(sql, params)).rows[0]?.n ?? 0));
}

/** Deletes every key under a prefix (never FLUSHALL: the shared Redis is shared). */
export async function dropRedisPrefix(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

// ─── the service under test, as a child process ─────────────────────────────────────────────────────────────

export function serviceEnv(args: { databaseUrl: string; redisUrl: string; prefix: string; aes: boolean; apiBase?: string; logLevel?: string }): Record<string, string> {
  return {
    DATABASE_URL: args.databaseUrl, REDIS_URL: args.redisUrl, REDIS_PREFIX: args.prefix,
    BOARDROLL_MASTER_KEY: randomBytes(32).toString('base64'),
    WECHAT_TOKEN: TOKEN, WECHAT_APPID: APPID, WECHAT_APPSECRET: APPSECRET, ...(args.aes ? { WECHAT_AES_KEY: AES_KEY } : {}),
    ...(args.apiBase ? { WECHAT_API_BASE: args.apiBase } : {}),
    LOG_LEVEL: args.logLevel ?? process.env['BENCH_LOG_LEVEL'] ?? 'info', LOG_PRETTY: 'false', HOST: '127.0.0.1', PORT: '0',
  };
}

export interface TripInfo { id: string; code: string }
export interface ServerChild { port: number; trips: TripInfo[]; child: ChildProcess; stop(): Promise<void> }

/**
 * Starts bench/server.ts: `mode` 'service' = buildApp(openServices(config)) over `env` with `trips` fresh trips;
 * 'bare' = a bare Fastify hello route. The child's own logs go to /dev/null (they are still produced).
 */
export async function startServer(mode: 'service' | 'bare' | 'worker', env: Record<string, string>, trips = 0, extraArgs: string[] = []): Promise<ServerChild> {
  const child = fork(SERVER_SCRIPT, [mode, String(trips), ...extraArgs], {
    execArgv: ['--import', 'tsx', ...(process.env['BENCH_CPU_PROF'] ? ['--cpu-prof', `--cpu-prof-dir=${process.env['BENCH_CPU_PROF']}`] : [])],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const ready = await new Promise<{ port: number; trips: TripInfo[] }>((resolve, reject) => {
    child.once('message', (m) => resolve(m as { port: number; trips: TripInfo[] }));
    child.once('exit', (code) => reject(new Error(`bench server (${mode}) exited with ${code} before listening`)));
  });
  return {
    port: ready.port, trips: ready.trips, child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

// ─── simulated passengers ───────────────────────────────────────────────────────────────────────────────────

const SURNAMES = ['王', '李', '张', '刘', '陈', '杨', '赵', '黄', '周', '吴', '徐', '孙', '马', '胡', '朱', '郭'];
const GIVEN = ['小明', '建国', '秀英', '丽', '伟', '芳', '娜', '敏', '静', '强', '磊', '洋', '艳', '勇', '军', '杰'];
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK = '10X98765432';

/** A valid 18-character resident ID (checksum per GB 11643), unique for each `serial`. */
export function residentId(serial: number): string {
  const day = serial % 28 + 1;
  const month = Math.floor(serial / 28) % 12 + 1;
  const year = 1950 + Math.floor(serial / 336) % 50;
  const seq = Math.floor(serial / 16800) % 1000;
  const body = `210102${year}${String(month).padStart(2, '0')}${String(day).padStart(2, '0')}${String(seq).padStart(3, '0')}`;
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(body[i]) * (WEIGHTS[i] ?? 0);
  return body + CHECK[sum % 11];
}

export interface Passenger { openid: string; name: string; idNumber: string; phone: string; tripCode: string }

let serialCounter = randomInt(0, 1_000_000);
export function newPassenger(tripCode: string): Passenger {
  serialCounter += 1;
  const s = serialCounter;
  return {
    openid: `o${randomUUID().replaceAll('-', '').slice(0, 27)}`,
    name: `${SURNAMES[s % SURNAMES.length]}${GIVEN[Math.floor(s / SURNAMES.length) % GIVEN.length]}`,
    idNumber: residentId(s),
    phone: `139${String(s % 100_000_000).padStart(8, '0')}`,
    tripCode,
  };
}

/** One registration, message by message, with the text each reply must contain (non-Beijing trip, zh-CN). */
export interface Turn { kind: 'scan' | 'text'; text: string; expect: string }
export function registrationTurns(p: Passenger): Turn[] {
  return [
    { kind: 'scan', text: `trip-${p.tripCode}`, expect: '回复 1 同意' },
    { kind: 'text', text: '1', expect: '姓名' },
    { kind: 'text', text: p.name, expect: '证件类型' },
    { kind: 'text', text: p.idNumber, expect: '手机号' },
    { kind: 'text', text: p.phone, expect: '请核对' },
    { kind: 'text', text: '1', expect: '登记完成' },
  ];
}
export const TURNS_PER_REGISTRATION = 6;

let msgCounter = BigInt(Date.now()) * 1000n + BigInt(randomInt(0, 1000));
export function nextMsgId(): string {
  msgCounter += 1n;
  return (6_000_000_000_000_000_000n + msgCounter).toString();
}

/** The signed request WeChat would send for this turn: fresh timestamp, nonce and signature every time. */
export function signedTurn(p: Passenger, turn: Turn, aes: boolean, msgId: string = nextMsgId(), createTime = Math.floor(Date.now() / 1000)): { path: string; body: string } {
  const xml = turn.kind === 'scan'
    ? eventXml({ from: p.openid, event: 'subscribe', eventKey: `qrscene_${turn.text}`, createTime })
    : textXml({ from: p.openid, content: turn.text, msgId });
  const signed = signRequest({ token: TOKEN, body: xml, ...(aes ? { aesKey: AES_KEY, appId: APPID } : {}) });
  return { path: `/wechat?${new URLSearchParams(signed.query).toString()}`, body: signed.body };
}

/** The reply text of a 200 answer, or null when it is not a valid passive reply (wrong signature, not XML…). */
export function replyText(body: string, aes: boolean): string | null {
  try {
    return openReply(body, { token: TOKEN, ...(aes ? { aesKey: AES_KEY, appId: APPID } : {}) })?.content ?? '';
  } catch {
    return null;
  }
}

/** Posts one signed turn with fetch (used outside autocannon: faults, warm-up). */
export async function postTurn(port: number, p: Passenger, turn: Turn, aes: boolean, msgId?: string, createTime?: number): Promise<{ status: number; text: string | null }> {
  const req = signedTurn(p, turn, aes, msgId, createTime);
  const res = await fetch(`http://127.0.0.1:${port}${req.path}`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: req.body });
  const body = await res.text();
  return { status: res.status, text: res.status === 200 ? replyText(body, aes) : null };
}

// ─── private servers for fault runs ─────────────────────────────────────────────────────────────────────────

export async function waitForPort(port: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port }, () => { socket.end(); resolve(true); });
      socket.on('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
}

function which(binary: string): string | null {
  try {
    return execFileSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

export interface PrivateRedis { url: string; restart(downMs?: number): Promise<void>; stop(): Promise<void> }

/** A private redis-server on 127.0.0.1:`port` with appendonly (fsync always) in a temp dir; never the shared one. */
export async function startPrivateRedis(port: number): Promise<PrivateRedis> {
  const bin = which('redis-server');
  if (!bin) throw new Error('redis-server is not installed');
  const dir = mkdtempSync(join(tmpdir(), 'br-faults-redis-'));
  let child: ChildProcess | null = null;
  const launch = async () => {
    child = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--protected-mode', 'no'], { stdio: 'ignore' });
    await waitForPort(port);
  };
  const halt = async (signal: NodeJS.Signals) => {
    const c = child as ChildProcess | null;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill(signal);
    await exited;
  };
  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    /** A crash (SIGKILL) and a restart on the same append-only file. */
    async restart(downMs = 1000) { await halt('SIGKILL'); await sleep(downMs); await launch(); },
    async stop() { await halt('SIGTERM'); rmSync(dir, { recursive: true, force: true }); },
  };
}

export interface PrivatePostgres { adminUrl: string; stopServer(): Promise<void>; startServer(): Promise<void>; destroy(): Promise<void> }

/** A private PostgreSQL cluster (initdb into a temp dir as the postgres user) on 127.0.0.1:`port`; never the shared one. */
export async function startPrivatePostgres(port: number): Promise<PrivatePostgres> {
  const bindir = which('pg_config') ? execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim() : findPgBindir();
  if (!bindir || !existsSync(join(bindir, 'initdb'))) throw new Error('PostgreSQL server binaries (initdb, pg_ctl) are not installed');
  const asPostgres = process.getuid?.() === 0;
  const run = (cmd: string, args: string[]) => (asPostgres
    ? execFileSync('runuser', ['-u', 'postgres', '--', join(bindir, cmd), ...args], { stdio: 'pipe' })
    : execFileSync(join(bindir, cmd), args, { stdio: 'pipe' }));
  const dir = mkdtempSync(join(tmpdir(), 'br-faults-pg-'));
  chmodSync(dir, 0o777);
  if (asPostgres) execFileSync('chown', ['postgres', dir]);
  const data = join(dir, 'data');
  run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8']);
  const start = async () => {
    run('pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-w', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`, 'start']);
    await waitForPort(port);
  };
  const stop = async () => { run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']); };
  await start();
  return {
    adminUrl: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stopServer: stop,
    startServer: start,
    async destroy() {
      await stop().catch((err: unknown) => note(`private PostgreSQL did not stop cleanly: ${err instanceof Error ? err.message : String(err)}`));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function findPgBindir(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], 'bin') : null;
}
