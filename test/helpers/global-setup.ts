import { Redis } from 'ioredis';
import pg from 'pg';
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { TEST_PG_URL, TEST_REDIS_URL } from './env.js';

const LOG_DIR = join(import.meta.dirname, '../../.tmp/test-logs');

/** Logs of earlier runs go; a run going on at the same time (another terminal) keeps its files. */
async function removeOldLogs(): Promise<void> {
  const cutoff = Date.now() - 2 * 3600_000;
  for (const file of await readdir(LOG_DIR).catch(() => [] as string[])) {
    const path = join(LOG_DIR, file);
    if ((await stat(path)).mtimeMs < cutoff) await rm(path, { force: true });
  }
}

/** The suite needs a real Redis and a real PostgreSQL: fail at once with a clear message when either is missing. */
export default async function setup(): Promise<() => Promise<void>> {
  await removeOldLogs();
  const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    throw new Error(`tests need Redis at ${TEST_REDIS_URL} (run the README's test command, which starts it)`, { cause: err });
  } finally {
    redis.disconnect();
  }
  await ensureDatabase(TEST_PG_URL);
  const client = new pg.Client({ connectionString: TEST_PG_URL });
  try {
    await client.connect();
    await client.query('select 1');
  } catch (err) {
    throw new Error(`tests need PostgreSQL at ${TEST_PG_URL} (run the README's test command, which starts it)`, { cause: err });
  } finally {
    await client.end().catch(() => undefined);
  }
  return async () => undefined;
}

/** Creates the test database when the server has none of that name (a fresh private cluster). */
async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = target.pathname.replace(/^\//, '');
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  try {
    await client.connect();
    const found = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (found.rowCount === 0) await client.query(`create database "${name.replace(/"/g, '')}"`);
  } catch (err) {
    throw new Error(`tests need PostgreSQL at ${admin.host} (run the README's test command, which starts it)`, { cause: err });
  } finally {
    await client.end().catch(() => undefined);
  }
}
