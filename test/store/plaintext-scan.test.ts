import { execFile } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { userKey } from '../../src/security/keys.js';
import { executeRows } from '../../src/store/db.js';
import { createAuditRepository } from '../../src/store/audit.js';
import { createPassengerRepository } from '../../src/store/passengers.js';
import { createPreregistrationRepository } from '../../src/store/preregistrations.js';
import { BACKENDS, type TestDatabase } from '../helpers/db.js';
import { RETENTION_DAYS, newTrip, randomIdNumber, randomPhone, storeParts } from './fixture.js';

const run = promisify(execFile);

async function pgDumpAvailable(): Promise<boolean> {
  return run('pg_dump', ['--version']).then(() => true, () => false);
}

/** Every value a registration stores, as the plaintext that must never show up outside the vault's ciphertext. */
function secrets() {
  const tag = String(randomInt(100_000, 999_999));
  return {
    idNumbers: [randomIdNumber(), `${randomIdNumber().slice(0, 17)}X`, `E${tag}99`],
    phones: [randomPhone(), randomPhone(), randomPhone()],
    names: [`欧阳${tag}`, `Zed${tag} Quill`],
    addresses: [`辽宁省沈阳市皇姑区秘密路${tag}号`, `北京市海淀区隐私街${tag}号`],
    openid: `oOpenId_${tag}_xyz`,
  };
}

describe.each(BACKENDS)('what a database dump shows on $name', ({ name, open }) => {
  let t: TestDatabase;
  const s = secrets();
  beforeAll(async () => {
    t = await open();
    const { db } = t.database;
    const { keys, vault, trips } = storeParts(db);
    const passengers = createPassengerRepository({ db, vault, keys, retentionDays: RETENTION_DAYS });
    const prereg = createPreregistrationRepository({ db, vault, keys, retentionDays: RETENTION_DAYS });
    const trip = await trips.create(newTrip({
      driver: { name: s.names[0] ?? '', phone: s.phones[0] ?? '' },
      crew: { name: s.names[1] ?? '', phone: s.phones[1] ?? '', idType: 7, idNumber: s.idNumbers[2] ?? '' },
      createdBy: userKey(keys, 'wechat', s.openid),
    }));
    await vault.checkKey();
    for (const idNumber of s.idNumbers.slice(0, 2)) {
      await passengers.register({
        tripId: trip.id, name: s.names[0] ?? '', idType: 1, idNumber, phone: s.phones[2] ?? null,
        addressBefore: s.addresses[0] ?? null, addressBeijing: s.addresses[1] ?? null, channel: 'wechat', registeredBy: 'self',
        staffId: null, userKey: userKey(keys, 'wechat', s.openid),
      });
    }
    await prereg.upsert({
      ticketId: `T${s.phones[0]}`.slice(0, 6), tripNumber: 'K1', departureDate: '2030-05-01', originText: '沈阳',
      name: s.names[1] ?? '', idType: 1, idNumber: s.idNumbers[0] ?? '', phone: s.phones[0] ?? null,
    });
    await createAuditRepository({ db }).append({
      actor: 'system', action: 'trace', reason: `phone ${s.phones[0]} id ${s.idNumbers[0]}`, details: { query: s.phones[1] },
    });
  });
  afterAll(async () => { await t.drop(); });

  const plaintexts = () => [...s.idNumbers, ...s.phones, ...s.names, ...s.addresses, s.openid];

  it('when every row of every table is read as text, then no identity number, phone, name, address or openid appears', async () => {
    const tables = await executeRows<{ schema: string; table: string }>(t.database.db, sql`
      select table_schema as schema, table_name as table from information_schema.tables
      where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema')`);
    expect(tables.map((r) => `${r.schema}.${r.table}`)).toEqual(expect.arrayContaining(['sensitive.vault_values', 'public.passengers', 'public.audit_log']));
    let dump = '';
    for (const { schema, table } of tables) {
      const rows = await executeRows<{ row: string }>(
        t.database.db,
        sql`select row_to_json(x)::text as row from ${sql.identifier(schema)}.${sql.identifier(table)} x`,
      );
      dump += rows.map((r) => r.row).join('\n');
    }
    expect(dump).toContain('\\\\x'); // the bytea ciphertexts are in there, hex encoded
    for (const secret of plaintexts()) {
      expect(dump).not.toContain(secret);
      expect(dump.toLowerCase()).not.toContain(Buffer.from(secret, 'utf8').toString('hex'));
      expect(dump).not.toContain(Buffer.from(secret, 'utf8').toString('base64'));
    }
  });

  it.runIf(name === 'postgres')('when pg_dump dumps the whole database, then no plaintext appears', async ({ skip }) => {
    if (!(await pgDumpAvailable())) skip('pg_dump is not installed');
    const { stdout } = await run('pg_dump', ['--no-owner', '--dbname', t.url], { maxBuffer: 64 * 1024 * 1024 });
    expect(stdout).toContain('COPY sensitive.vault_values');
    for (const secret of plaintexts()) {
      expect(stdout).not.toContain(secret);
      expect(stdout.toLowerCase()).not.toContain(Buffer.from(secret, 'utf8').toString('hex'));
    }
  });
});
