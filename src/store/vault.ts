import { randomUUID } from 'node:crypto';
import { and, eq, inArray, lte, sql } from 'drizzle-orm';
import { open, seal } from '../security/cipher.js';
import { DecryptionError, KeyMismatchError } from '../security/errors.js';
import type { DerivedKeys } from '../security/keys.js';
import type { Db } from './db.js';
import { keyCheck, vaultValues, type VaultKind, type VaultOwnerType } from './schema.js';

/**
 * The sensitive vault: the ONLY module that reads or writes the `sensitive` schema. Each value is sealed with
 * AES-256-GCM under the vault key, bound (associated data) to its row id and kind, and tagged with the key id.
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
  purgeExpired(tx: Db, asOf: Date): Promise<{ deleted: number; owners: VaultOwner[] }>;
  /** Deletes every value of these owners (e.g. a cancelled pre-registration). */
  deleteByOwner(tx: Db, owner: VaultOwner): Promise<number>;
}

export interface VaultOptions {
  /** Keys of earlier master keys (BOARDROLL_PREVIOUS_MASTER_KEY): values sealed with them can still be opened. */
  previousKeys?: readonly DerivedKeys[] | undefined;
}

const KEY_CHECK_PLAINTEXT = 'boardroll key check v1';
const KEY_CHECK_AAD = 'key_check:1';
const READ_CHUNK = 5000;

function aadFor(id: string, kind: VaultKind): string {
  return `${id}:${kind}`;
}

export function createVault(db: Db, keys: DerivedKeys, options: VaultOptions = {}): Vault {
  const keyring = new Map<string, Buffer>([[keys.keyId, keys.encryption]]);
  for (const previous of options.previousKeys ?? []) if (!keyring.has(previous.keyId)) keyring.set(previous.keyId, previous.encryption);

  function row(item: VaultPut) {
    const id = item.id ?? randomUUID();
    return {
      id,
      kind: item.kind,
      ciphertext: seal(keys.encryption, item.value, aadFor(id, item.kind)),
      keyId: keys.keyId,
      ownerType: item.ownerType,
      ownerId: item.ownerId ?? null,
      purgeAfter: item.purgeAfter,
    };
  }

  async function putMany(tx: Db, items: readonly VaultPut[]): Promise<string[]> {
    if (items.length === 0) return [];
    const rows = items.map(row);
    await tx.insert(vaultValues).values(rows);
    return rows.map((r) => r.id);
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
        for (const r of rows) {
          const key = keyring.get(r.keyId);
          if (!key) {
            throw new KeyMismatchError(
              `a sensitive value was sealed with key ${r.keyId}, which is neither BOARDROLL_MASTER_KEY (${keys.keyId}) nor a configured previous key`,
            );
          }
          out.set(r.id, open(key, r.ciphertext, aadFor(r.id, r.kind)));
        }
      }
      return out;
    },

    async checkKey() {
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

    async purgeExpired(tx, asOf) {
      const rows = await tx.delete(vaultValues)
        .where(lte(vaultValues.purgeAfter, asOf))
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
