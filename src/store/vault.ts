import { randomUUID } from 'node:crypto';
import { and, eq, inArray, lte, ne, or, sql } from 'drizzle-orm';
import { open, seal } from '../security/cipher.js';
import { DecryptionError, KeyMismatchError } from '../security/errors.js';
import type { DerivedKeys } from '../security/keys.js';
import { executeRows, type Db } from './db.js';
import type { KeyRing } from './key-ring.js';
import { dataKeys } from './schema-protection.js';
import { keyCheck, vaultValues, type VaultKind, type VaultOwnerType } from './schema.js';

/**
 * The sensitive vault: the ONLY module that reads or writes sealed values in the `sensitive` schema (the key ring's
 * tables belong to src/store/key-ring.ts). Each value is sealed with AES-256-GCM under the current vault key, bound
 * (associated data) to its row id and kind, and tagged with the key id.
 *
 * Two modes: with `ring` (the service, the CLIs) keys come from the key ring and survive master-key rotations; without
 * it (unit tests of the store) one set of keys derived from a master key is used as is.
 */
export interface VaultPut {
  kind: VaultKind;
  value: string;
  ownerType: VaultOwnerType;
  ownerId?: string | null | undefined;
  /** After this instant the retention purge deletes the value. */
  purgeAfter: Date;
  /** A pre-allocated id (so the owning row can be written first); a random one otherwise. */
  id?: string | undefined;
}

export interface VaultOwner { ownerType: VaultOwnerType; ownerId: string }

export interface Vault {
  /** Seals and stores one value inside the caller's transaction; returns its id. */
  put(tx: Db, item: VaultPut): Promise<string>;
  /** Seals and stores several values in one statement; ids come back in input order. */
  putMany(tx: Db, items: readonly VaultPut[]): Promise<string[]>;
  /** Opens the values with these ids. Ids that do not exist (or were purged) are absent from the map. */
  get(ids: readonly string[], tx?: Db): Promise<Map<string, string>>;
  /** Start-up check: the configured master key opens the key_check row (written on first start). */
  checkKey(): Promise<void>;
  /** Retention: deletes every value whose purge_after ≤ asOf; returns the owners that lost values. */
  purgeExpired(tx: Db, asOf: Date, options?: PurgeOptions): Promise<{ deleted: number; owners: VaultOwner[] }>;
  /** Deletes every value of these owners (e.g. a cancelled pre-registration). */
  deleteByOwner(tx: Db, owner: VaultOwner): Promise<number>;
  /** Key rotation: values not yet sealed under the current vault key. */
  countStale(): Promise<number>;
  /** Key rotation: re-seals up to `limit` stale values under the current vault key, in one transaction. */
  reencryptBatch(limit: number): Promise<number>;
}

/** Retention by trip date: values of owners whose trip left on or before `tripCutoff` go too (RETENTION_DAYS now). */
export interface PurgeOptions { tripCutoff?: Date | undefined }

export interface VaultOptions {
  /** Keys of earlier master keys (BOARDROLL_PREVIOUS_MASTER_KEY): values sealed with them can still be opened. */
  previousKeys?: readonly DerivedKeys[] | undefined;
  /** The key ring (src/store/key-ring.ts): current and retiring vault keys, refreshed when a rotation moves on. */
  ring?: KeyRing | undefined;
}

const KEY_CHECK_PLAINTEXT = 'boardroll key check v1';
const KEY_CHECK_AAD = 'key_check:1';
const READ_CHUNK = 5000;

function aadFor(id: string, kind: VaultKind): string {
  return `${id}:${kind}`;
}

export function createVault(db: Db, keys: DerivedKeys, options: VaultOptions = {}): Vault {
  const { ring } = options;
  const keyring = new Map<string, Buffer>([[keys.keyId, keys.encryption]]);
  for (const previous of options.previousKeys ?? []) if (!keyring.has(previous.keyId)) keyring.set(previous.keyId, previous.encryption);

  const current = (): { id: string; key: Buffer } => ring?.current() ?? { id: keys.keyId, key: keys.encryption };

  /** The key a value was sealed with; with a ring, an unknown id re-reads the ring once (a rotation moved on). */
  async function keyFor(keyId: string): Promise<Buffer> {
    let key = ring ? ring.dataKey(keyId) : keyring.get(keyId);
    if (!key && ring) {
      await ring.refresh();
      key = ring.dataKey(keyId);
    }
    if (!key) {
      throw new KeyMismatchError(
        `a sensitive value was sealed with key ${keyId}, which is neither the current key (${current().id}) nor a configured previous key`,
      );
    }
    return key;
  }

  function row(item: VaultPut, key: { id: string; key: Buffer }) {
    const id = item.id ?? randomUUID();
    return {
      id,
      kind: item.kind,
      ciphertext: seal(key.key, item.value, aadFor(id, item.kind)),
      keyId: key.id,
      ownerType: item.ownerType,
      ownerId: item.ownerId ?? null,
      purgeAfter: item.purgeAfter,
    };
  }

  /**
   * Key-ring mode: the insert only happens while the key is still the current one (a rotation may have retired it
   * a moment ago); 0 rows → re-read the ring and seal again under the new key. No extra round trip on the hot path.
   */
  async function guardedInsert(tx: Db, rows: ReturnType<typeof row>[], keyId: string): Promise<boolean> {
    const values = sql.join(rows.map((r) => sql`(${r.id}::uuid, ${r.kind}::text, ${r.ciphertext}::bytea, ${r.keyId}::text, ${r.ownerType}::text, ${r.ownerId}::uuid, ${r.purgeAfter.toISOString()}::timestamptz)`), sql`, `);
    const inserted = await executeRows<{ id: string }>(tx, sql`
      insert into sensitive.vault_values (id, kind, ciphertext, key_id, owner_type, owner_id, purge_after)
      select v.id, v.kind, v.ciphertext, v.key_id, v.owner_type, v.owner_id, v.purge_after
      from (values ${values}) as v(id, kind, ciphertext, key_id, owner_type, owner_id, purge_after)
      where not exists (select 1 from ${dataKeys} k where k.id = ${keyId} and k.state <> 'current')
      returning id`);
    return inserted.length === rows.length;
  }

  async function putMany(tx: Db, items: readonly VaultPut[]): Promise<string[]> {
    if (items.length === 0) return [];
    const withIds = items.map((item) => ({ ...item, id: item.id ?? randomUUID() }));
    if (!ring) {
      const rows = withIds.map((item) => row(item, current()));
      await tx.insert(vaultValues).values(rows);
      return rows.map((r) => r.id);
    }
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const key = current();
      const rows = withIds.map((item) => row(item, key));
      if (await guardedInsert(tx, rows, key.id)) return rows.map((r) => r.id);
      await ring.refresh();
    }
    throw new KeyMismatchError('the vault key was retired by a master-key rotation and this process cannot open the new one: restart it with the new BOARDROLL_MASTER_KEY');
  }

  return {
    async put(tx, item) {
      const [id] = await putMany(tx, [item]);
      if (id === undefined) throw new Error('vault put returned no id');
      return id;
    },

    putMany,

    async get(ids, tx) {
      const out = new Map<string, string>();
      const unique = [...new Set(ids)];
      for (let i = 0; i < unique.length; i += READ_CHUNK) {
        const chunk = unique.slice(i, i + READ_CHUNK);
        const rows = await (tx ?? db)
          .select({ id: vaultValues.id, kind: vaultValues.kind, keyId: vaultValues.keyId, ciphertext: vaultValues.ciphertext })
          .from(vaultValues)
          .where(inArray(vaultValues.id, chunk));
        for (const r of rows) out.set(r.id, open(await keyFor(r.keyId), r.ciphertext, aadFor(r.id, r.kind)));
      }
      return out;
    },

    async checkKey() {
      if (ring) {
        // openKeyRing already refused a wrong master key; re-reading proves the ring still opens.
        await ring.refresh();
        return;
      }
      const [ringRow] = await db.select({ id: dataKeys.id }).from(dataKeys).limit(1);
      if (ringRow) {
        throw new KeyMismatchError('this database keeps its keys in a key ring: open it with openKeyRing (src/store/key-ring.ts) and pass the ring to createVault');
      }
      await db.insert(keyCheck)
        .values({ id: 1, keyId: keys.keyId, ciphertext: seal(keys.encryption, KEY_CHECK_PLAINTEXT, KEY_CHECK_AAD) })
        .onConflictDoNothing({ target: keyCheck.id });
      const [stored] = await db.select().from(keyCheck).where(eq(keyCheck.id, 1));
      if (!stored) throw new KeyMismatchError('the key_check row is missing after it was written');
      if (opens(keys.encryption, stored.ciphertext)) return;
      const previous = keyring.get(stored.keyId);
      if (previous && previous !== keys.encryption && opens(previous, stored.ciphertext)) {
        // Key rotation: the previous key is configured, so move the check row to the new key.
        await db.update(keyCheck)
          .set({ keyId: keys.keyId, ciphertext: seal(keys.encryption, KEY_CHECK_PLAINTEXT, KEY_CHECK_AAD), updatedAt: new Date() })
          .where(eq(keyCheck.id, 1));
        return;
      }
      throw new KeyMismatchError(
        `BOARDROLL_MASTER_KEY (key id ${keys.keyId}) cannot open this database's data, which was written with key id ${stored.keyId}. `
          + 'Start with the original master key (or set it as BOARDROLL_PREVIOUS_MASTER_KEY while rotating).',
        { details: { configuredKeyId: keys.keyId, storedKeyId: stored.keyId } },
      );
    },

    async purgeExpired(tx, asOf, purgeOptions = {}) {
      const cutoff = purgeOptions.tripCutoff?.toISOString();
      const byTrip = cutoff === undefined
        ? undefined
        : or(
            and(eq(vaultValues.ownerType, 'trip'), sql`${vaultValues.ownerId} in (select id from trips where departure_at <= ${cutoff}::timestamptz)`),
            and(eq(vaultValues.ownerType, 'passenger'), sql`${vaultValues.ownerId} in (select p.id from passengers p join trips t on t.id = p.trip_id where t.departure_at <= ${cutoff}::timestamptz)`),
            and(eq(vaultValues.ownerType, 'preregistration'), sql`${vaultValues.ownerId} in (select id from preregistrations where departure_date <= (${cutoff}::timestamptz at time zone 'Asia/Shanghai')::date)`),
          );
      const rows = await tx.delete(vaultValues)
        .where(byTrip === undefined ? lte(vaultValues.purgeAfter, asOf) : or(lte(vaultValues.purgeAfter, asOf), byTrip))
        .returning({ ownerType: vaultValues.ownerType, ownerId: vaultValues.ownerId });
      const seen = new Set<string>();
      const owners: VaultOwner[] = [];
      for (const r of rows) {
        if (r.ownerId === null) continue;
        const key = `${r.ownerType}:${r.ownerId}`;
        if (seen.has(key)) continue;
        seen.add(key);
        owners.push({ ownerType: r.ownerType, ownerId: r.ownerId });
      }
      return { deleted: rows.length, owners };
    },

    async deleteByOwner(tx, owner) {
      const rows = await tx.delete(vaultValues)
        .where(and(eq(vaultValues.ownerType, owner.ownerType), eq(vaultValues.ownerId, owner.ownerId)))
        .returning({ id: vaultValues.id });
      return rows.length;
    },

    async countStale() {
      const [r] = await db.select({ n: sql<number>`count(*)::int` }).from(vaultValues).where(ne(vaultValues.keyId, current().id));
      return r?.n ?? 0;
    },

    async reencryptBatch(limit) {
      const key = current();
      return db.transaction(async (tx) => {
        const rows = await tx.select({ id: vaultValues.id, kind: vaultValues.kind, keyId: vaultValues.keyId, ciphertext: vaultValues.ciphertext })
          .from(vaultValues)
          .where(ne(vaultValues.keyId, key.id))
          .limit(limit)
          .for('update', { skipLocked: true });
        if (rows.length === 0) return 0;
        const resealed: { id: string; ciphertext: Buffer }[] = [];
        for (const r of rows) {
          const aad = aadFor(r.id, r.kind);
          resealed.push({ id: r.id, ciphertext: seal(key.key, open(await keyFor(r.keyId), r.ciphertext, aad), aad) });
        }
        const values = sql.join(resealed.map((r) => sql`(${r.id}::uuid, ${r.ciphertext}::bytea)`), sql`, `);
        await tx.execute(sql`
          update sensitive.vault_values v set ciphertext = x.ciphertext, key_id = ${key.id}
          from (values ${values}) as x(id, ciphertext) where v.id = x.id`);
        return rows.length;
      });
    },
  };

  function opens(key: Buffer, sealed: Buffer): boolean {
    try {
      return open(key, sealed, KEY_CHECK_AAD) === KEY_CHECK_PLAINTEXT;
    } catch (err) {
      if (err instanceof DecryptionError) return false;
      throw err;
    }
  }
}

/** Number of sealed values (tests and metrics); no plaintext involved. */
export async function countVaultValues(db: Db, owner?: VaultOwner): Promise<number> {
  const where = owner ? and(eq(vaultValues.ownerType, owner.ownerType), eq(vaultValues.ownerId, owner.ownerId)) : undefined;
  const [r] = await db.select({ n: sql<number>`count(*)::int` }).from(vaultValues).where(where);
  return r?.n ?? 0;
}
