import { spawn, spawnSync } from 'node:child_process';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { loadOrCreateMasterKeyFile } from './security/keys.js';

/**
 * Start-up chores for the zero-configuration embedded mode: development secrets in DATA_DIR (owner-only) and a
 * local redis-server when none is running. Only entry points call these.
 */
export async function ensureDevSecrets(env: Record<string, string | undefined>, log: Logger): Promise<Record<string, string | undefined>> {
  if (env['DATABASE_URL']) {
    if (!env['BOARDROLL_MASTER_KEY']) throw new Error('BOARDROLL_MASTER_KEY is required when DATABASE_URL is set (base64 of 32 random bytes: `openssl rand -base64 32`)');
    return env;
  }
  const dataDir = resolve(env['DATA_DIR'] ?? './data');
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const out = { ...env };
  if (!out['BOARDROLL_MASTER_KEY']) {
    out['BOARDROLL_MASTER_KEY'] = await loadOrCreateMasterKeyFile(dataDir);
    log.info({ file: join(dataDir, 'master.key') }, 'development master key in use (embedded store)');
  }
  for (const [variable, name, what] of [['WECHAT_TOKEN', 'wechat-token', 'WeChat token'], ['SMS_UPLINK_TOKEN', 'sms-uplink-token', 'SMS uplink token']] as const) {
    if (out[variable]) continue;
    const file = join(dataDir, name);
    out[variable] = await readOrCreateSecret(file);
    log.info({ file }, `development ${what} in use (embedded store)`);
  }
  return out;
}

async function readOrCreateSecret(file: string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    const token = randomBytes(16).toString('hex');
    await writeFile(file, `${token}\n`, { mode: 0o600 });
    await chmod(file, 0o600);
    return token;
  }
}

function portOpen(host: string, port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = createConnection({ host, port });
    socket.setTimeout(500);
    socket.once('connect', () => { socket.destroy(); done(true); });
    socket.once('error', () => done(false));
    socket.once('timeout', () => { socket.destroy(); done(false); });
  });
}

/** With no REDIS_URL and nothing on 127.0.0.1:6379, start an installed redis-server as a child (data under DATA_DIR). */
export async function ensureRedis(env: Record<string, string | undefined>, log: Logger): Promise<{ stop(): void } | null> {
  if (env['REDIS_URL']) return null;
  if (await portOpen('127.0.0.1', 6379)) return null;
  const which = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  const binary = which.stdout.trim();
  if (which.status !== 0 || binary === '') {
    throw new Error('No Redis on 127.0.0.1:6379 and no redis-server installed. Install it (Debian: apt-get install -y redis-server) or set REDIS_URL.');
  }
  const dir = resolve(env['DATA_DIR'] ?? './data', 'redis');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const child = spawn(binary, ['--bind', '127.0.0.1', '--port', '6379', '--dir', dir, '--appendonly', 'yes', '--save', ''], { stdio: 'ignore' });
  for (let i = 0; i < 50 && !(await portOpen('127.0.0.1', 6379)); i += 1) await new Promise((r) => setTimeout(r, 100));
  log.info({ dir }, 'started a local redis-server');
  return { stop: () => child.kill('SIGTERM') };
}
