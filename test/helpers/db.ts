import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { migrateDatabase, openDatabase, type Database } from '../../src/store/db.js';
import { TEST_PG_URL } from './env.js';

/** A migrated database for one test file, and how to get rid of it. */
export interface TestDatabase {
  database: Database;
  /** Connection URL (real PostgreSQL) or `memory://` (PGlite). */
  url: string;
  drop(): Promise<void>;
}

async function admin<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_PG_URL });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/** A FRESH database on the real test server (random name), migrated; `drop()` closes and drops it. */
export async function testDatabase(options: { poolSize?: number } = {}): Promise<TestDatabase> {
  const name = `br_test_${randomUUID().replaceAll('-', '').slice(0, 20)}`;
  await admin((c) => c.query(`CREATE DATABASE "${name}"`));
  const target = new URL(TEST_PG_URL);
  target.pathname = `/${name}`;
  const url = target.toString();
  const database = await openDatabase({ databaseUrl: url, dataDir: 'memory://', poolSize: options.poolSize ?? 12 });
  await migrateDatabase(database);
  return {
    database,
    url,
    async drop() {
      await database.close();
      await admin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}

/** An in-memory PGlite, migrated. Start-up takes ~4 s: open one per test file and reuse it. */
export async function testPglite(): Promise<TestDatabase> {
  const database = await openDatabase({ dataDir: 'memory://' });
  await migrateDatabase(database);
  return { database, url: 'memory://', drop: () => database.close() };
}

/** Both backends, for `describe.each(BACKENDS)('… on $name', ({ open }) => …)`. */
export const BACKENDS = [
  { name: 'postgres', open: testDatabase },
  { name: 'pglite', open: testPglite },
] as const satisfies readonly { name: string; open: () => Promise<TestDatabase> }[];
