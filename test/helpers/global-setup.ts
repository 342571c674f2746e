import { Redis } from 'ioredis';
import pg from 'pg';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { TEST_PG_URL, TEST_REDIS_URL } from './env.js';

const LOG_DIR = join(import.meta.dirname, '../../.tmp/test-logs');
/** An 18-character identity number or an 11-digit mainland mobile standing alone. */
const PERSONAL = [/(?<![0-9A-Za-z])[1-9]\d{16}[0-9Xx](?![0-9A-Za-z])/, /(?<![0-9])1[3-9]\d{9}(?![0-9])/];

/** After the whole suite: no service log line may hold an identity number or a phone number (issue 3). */
async function scanLogsForPersonalData(): Promise<void> {
  const files = await readdir(LOG_DIR).catch(() => [] as string[]);
  let hits = 0;
  const where: string[] = [];
  for (const file of files) {
    const lines = (await readFile(join(LOG_DIR, file), 'utf8')).split('\n');
    for (const [index, line] of lines.entries()) {
      if (PERSONAL.some((re) => re.test(line))) { hits += 1; if (where.length < 5) where.push(`${file}:${index + 1}: ${line.replace(/\d/g, '#').slice(0, 200)}`); }
    }
  }
  if (hits > 0) throw new Error(`service logs of the test suite hold ${hits} line(s) with an identity number or phone number:\n${where.join('\n')}`);
}

/** The suite needs a real Redis and a real PostgreSQL: fail at once with a clear message when either is missing. */
export default async function setup(): Promise<() => Promise<void>> {
  await rm(LOG_DIR, { recursive: true, force: true });
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
  return scanLogsForPersonalData;
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
