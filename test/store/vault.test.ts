import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { KeyMismatchError, DecryptionError } from '../../src/security/errors.js';
import { deriveKeys, generateMasterKey } from '../../src/security/keys.js';
import { executeRows } from '../../src/store/db.js';
import { createVault } from '../../src/store/vault.js';
import { BACKENDS, type TestDatabase } from '../helpers/db.js';
import { testKeys } from './fixture.js';

describe.each(BACKENDS)('vault on $name', ({ open }) => {
  let t: TestDatabase;
  beforeAll(async () => { t = await open(); });
  afterAll(async () => { await t.drop(); });

  it('when values are put, then get opens them by id and the stored bytes are not the plaintext', async () => {
    const { db } = t.database;
    const vault = createVault(db, testKeys());
    const purgeAfter = new Date('2031-01-01T00:00:00Z');
    const ids = await db.transaction((tx) => vault.putMany(tx, [
      { kind: 'name', value: '李四', ownerType: 'trip', purgeAfter },
      { kind: 'phone', value: '13912345678', ownerType: 'trip', purgeAfter },
    ]));
    const values = await vault.get([...ids, randomUUID()]);
    expect([...values.values()]).toEqual(['李四', '13912345678']);
    expect(values.size).toBe(2);
    const raw = await executeRows<{ ciphertext: Uint8Array }>(db, sql`select ciphertext from sensitive.vault_values where id = ${ids[1]}`);
    const bytes = Buffer.from(raw[0]?.ciphertext ?? []);
    expect(bytes.includes(Buffer.from('13912345678'))).toBe(false);
    expect(bytes.length).toBe(12 + 16 + 11);
  });

  it('when a ciphertext is moved onto another row, then opening it fails (bound to id and kind)', async () => {
    const { db } = t.database;
    const vault = createVault(db, testKeys());
    const purgeAfter = new Date('2031-01-01T00:00:00Z');
    const [a, b] = await db.transaction((tx) => vault.putMany(tx, [
      { kind: 'phone', value: '13900000001', ownerType: 'trip', purgeAfter },
      { kind: 'phone', value: '13900000002', ownerType: 'trip', purgeAfter },
    ]));
    await db.execute(sql`update sensitive.vault_values set ciphertext = (select ciphertext from sensitive.vault_values where id = ${a}) where id = ${b}`);
    await expect(vault.get([b as string])).rejects.toBeInstanceOf(DecryptionError);
  });

  it('when the vault starts the first time, then checkKey writes the check row and accepts the same key again', async () => {
    const { db } = t.database;
    await db.execute(sql`delete from sensitive.key_check`);
    const master = generateMasterKey();
    await createVault(db, deriveKeys(master)).checkKey();
    await createVault(db, deriveKeys(master)).checkKey();
    const rows = await executeRows<{ key_id: string }>(db, sql`select key_id from sensitive.key_check`);
    expect(rows).toEqual([{ key_id: deriveKeys(master).keyId }]);
  });

  it('when the master key is wrong, then checkKey throws KeyMismatchError naming both key ids', async () => {
    const { db } = t.database;
    await db.execute(sql`delete from sensitive.key_check`);
    const right = deriveKeys(generateMasterKey());
    const wrong = deriveKeys(generateMasterKey());
    await createVault(db, right).checkKey();
    const error = await createVault(db, wrong).checkKey().then(() => null, (err: unknown) => err);
    expect(error).toBeInstanceOf(KeyMismatchError);
    expect((error as KeyMismatchError).code).toBe('STORE_KEY_MISMATCH');
    expect((error as Error).message).toContain(wrong.keyId);
    expect((error as Error).message).toContain(right.keyId);
  });

  it('when the key is rotated with the old one as previous key, then old values still open and the check row moves', async () => {
    const { db } = t.database;
    await db.execute(sql`delete from sensitive.key_check`);
    const oldKeys = deriveKeys(generateMasterKey());
    const newKeys = deriveKeys(generateMasterKey());
    const oldVault = createVault(db, oldKeys);
    await oldVault.checkKey();
    const id = await db.transaction((tx) => oldVault.put(tx, { kind: 'name', value: '王五', ownerType: 'trip', purgeAfter: new Date('2031-01-01Z') }));
    const rotated = createVault(db, newKeys, { previousKeys: [oldKeys] });
    await rotated.checkKey();
    expect((await rotated.get([id])).get(id)).toBe('王五');
    await createVault(db, newKeys).checkKey();
    await expect(createVault(db, newKeys).get([id])).rejects.toBeInstanceOf(KeyMismatchError);
  });
});
