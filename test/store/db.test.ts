import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { executeRows, migrateDatabase, openDatabase } from '../../src/store/db.js';
import { BACKENDS, testDatabase, type TestDatabase } from '../helpers/db.js';

describe.each(BACKENDS)('database on $name', ({ name, open }) => {
  let t: TestDatabase;
  beforeAll(async () => { t = await open(); });
  afterAll(async () => { await t.drop(); });

  it('when migrations run again, then nothing changes and every migration is recorded once', async () => {
    await migrateDatabase(t.database);
    await migrateDatabase(t.database);
    const applied = await executeRows<{ n: number }>(t.database.db, sql`select count(*)::int as n from drizzle.__drizzle_migrations`);
    const files = (await readdir(new URL('../../src/store/migrations/', import.meta.url))).filter((f) => f.endsWith('.sql'));
    expect(applied[0]?.n).toBe(files.length);
    expect(t.database.kind).toBe(name === 'postgres' ? 'pg' : 'pglite');
    await expect(t.database.ping()).resolves.toBeUndefined();
  });

  it('when the schema is inspected, then sensitive values live in their own schema', async () => {
    const rows = await executeRows<{ table_name: string }>(t.database.db, sql`
      select table_name from information_schema.tables where table_schema = 'sensitive' order by table_name`);
    expect(rows.map((r) => r.table_name)).toEqual(['data_keys', 'key_check', 'key_wraps', 'vault_values']);
  });
});

describe('database on postgres, started by several processes at once', () => {
  it('when three openers migrate one fresh database together, then all succeed', async () => {
    const t = await testDatabase({ poolSize: 2 });
    try {
      const others = await Promise.all([1, 2].map(() => openDatabase({ databaseUrl: t.url, dataDir: 'memory://', poolSize: 2 })));
      await Promise.all([t.database, ...others].map((d) => migrateDatabase(d)));
      await Promise.all(others.map((d) => d.close()));
    } finally {
      await t.drop();
    }
  });

  it('when the server does not answer, then openDatabase fails with STORE_UNAVAILABLE', async () => {
    await expect(openDatabase({ databaseUrl: 'postgres://postgres@127.0.0.1:1/none', dataDir: 'memory://' }))
      .rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
  });
});

describe('embedded PGlite in DATA_DIR', () => {
  let dir: string;
  beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'boardroll-pglite-')); });
  afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

  it('when opened on a folder, then data lives in pgdata, survives a reopen, and a second opener is refused', async () => {
    const first = await openDatabase({ dataDir: dir });
    await migrateDatabase(first);
    await first.db.execute(sql`insert into audit_log (actor, action) values ('system', 'persist-check')`);
    expect((await stat(join(dir, 'pgdata'))).isDirectory()).toBe(true);
    await expect(openDatabase({ dataDir: dir })).rejects.toMatchObject({ code: 'STORE_DATA_DIR_LOCKED' });
    await first.close();

    const second = await openDatabase({ dataDir: dir });
    await migrateDatabase(second);
    const rows = await executeRows<{ action: string }>(second.db, sql`select action from audit_log`);
    expect(rows).toEqual([{ action: 'persist-check' }]);
    await second.close();
  });
});
