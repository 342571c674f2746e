import { randomBytes } from 'node:crypto';
import { and, eq, inArray, ne, sql } from 'drizzle-orm';
import { open, openBytes, seal } from '../security/cipher.js';
import { DecryptionError, KeyMismatchError } from '../security/errors.js';
import { deriveKeys, masterKeyOf, type DerivedKeys, type MasterKey } from '../security/keys.js';
import { executeRows, type Db } from './db.js';
import { keyCheck } from './schema-core.js';
import { dataKeys, keyWraps, type DataKeyPurpose } from './schema-protection.js';

/**
 * The key ring (envelope encryption, src/store/schema-protection.ts). BOARDROLL_MASTER_KEY only wraps random data
 * keys: one stable set (blind index, session, API-key pepper) and the vault encryption keys. A master-key rotation
 * (`npm run keys -- rotate-master`) re-wraps the stable set (lookups, sessions and API keys keep working), makes a new
 * vault key current, re-encrypts the vault in batches (the vault's `reencryptBatch`) and retires the old vault key.
 * While it runs, processes started with either the old or the new master key (or new + BOARDROLL_PREVIOUS_MASTER_KEY)
 * keep reading and writing: every live data key is wrapped under both masters until the rotation finishes.
 */
export interface KeyRing {
  /** The working keys as of opening: stable keys plus the vault key that was current then (`keyId`, `encryption`). */
  readonly keys: DerivedKeys;
  /** Fingerprints of the master keys this process holds (configured first). */
  readonly masterIds: readonly string[];
  /** The vault key new values are sealed with. */
  current(): { id: string; key: Buffer };
  /** A live vault key by id (current or retiring); undefined when unknown to this process. */
  dataKey(id: string): Buffer | undefined;
  /** Re-reads the ring (after a rotation changed the current key); throws KeyMismatchError when it cannot be opened. */
  refresh(): Promise<void>;
}

export interface OpenKeyRingOptions {
  /** BOARDROLL_MASTER_KEY (base64). */
  masterKey: string;
  /** BOARDROLL_PREVIOUS_MASTER_KEY (base64) while a rotation is under way. */
  previousMasterKey?: string | undefined;
}

const STABLE_ID = 'stable';
const STABLE_BYTES = 96;
const RING_LOCK_ID = 0x62_72_6b_72; // 'brkr': one writer of the ring at a time (first start, rotation steps)
/** The check row of stores created before the key ring (sealed with the master-derived vault key). */
const LEGACY_CHECK_PLAINTEXT = 'boardroll key check v1';
const LEGACY_CHECK_AAD = 'key_check:1';

const wrapAad = (purpose: DataKeyPurpose, keyId: string, masterId: string) => `boardroll/key-wrap/v1:${purpose}:${keyId}:${masterId}`;

interface Stable { blindIndex: Buffer; session: Buffer; apiKeyPepper: Buffer }
interface LiveKey { id: string; purpose: DataKeyPurpose; state: 'current' | 'retiring'; masterId: string; material: Buffer; wrappedBy: Set<string> }
interface Loaded { stable: Stable; vault: Map<string, LiveKey>; currentId: string; live: LiveKey[] }

function stableOf(material: Buffer): Stable {
  if (material.length !== STABLE_BYTES) throw new KeyMismatchError('the stable key set in the key ring has the wrong length');
  return { blindIndex: material.subarray(0, 32), session: material.subarray(32, 64), apiKeyPepper: material.subarray(64, 96) };
}

function mismatch(masters: readonly MasterKey[], storedIds: readonly string[]): KeyMismatchError {
  const [main, ...rest] = masters;
  const previous = rest.length > 0 ? ` (nor BOARDROLL_PREVIOUS_MASTER_KEY, key id ${rest.map((m) => m.id).join(', ')})` : '';
  return new KeyMismatchError(
    `BOARDROLL_MASTER_KEY (key id ${main?.id ?? '?'})${previous} cannot open this database's keys, which are wrapped by key id ${storedIds.join(', ') || 'none'}. `
      + 'Start with the original master key (or, while rotating, the new key with the old one as BOARDROLL_PREVIOUS_MASTER_KEY).',
    { details: { configuredKeyId: main?.id, storedKeyIds: storedIds } },
  );
}

function wrap(master: MasterKey, key: Pick<LiveKey, 'id' | 'purpose' | 'material'>) {
  return { keyId: key.id, masterId: master.id, wrapped: seal(master.kek, key.material, wrapAad(key.purpose, key.id, master.id)) };
}

/** Reads and unwraps every live data key; null when the ring is empty (a store that never started with a ring). */
async function load(db: Db, masters: readonly MasterKey[]): Promise<Loaded | null> {
  const rows = await db.select({
    id: dataKeys.id, purpose: dataKeys.purpose, state: dataKeys.state, keyMasterId: dataKeys.masterId,
    wrappedBy: keyWraps.masterId, wrapped: keyWraps.wrapped,
  }).from(dataKeys).leftJoin(keyWraps, eq(keyWraps.keyId, dataKeys.id)).where(ne(dataKeys.state, 'retired'));
  if (rows.length === 0) return null;
  const byId = new Map<string, typeof rows>();
  for (const r of rows) byId.set(r.id, [...(byId.get(r.id) ?? []), r]);
  const live: LiveKey[] = [];
  const storedIds = [...new Set(rows.flatMap((r) => (r.wrappedBy === null ? [] : [r.wrappedBy])))].sort();
  for (const [id, wraps] of byId) {
    const first = wraps[0];
    if (!first) continue;
    let material: Buffer | null = null;
    for (const master of masters) {
      const w = wraps.find((x) => x.wrappedBy === master.id);
      if (!w?.wrapped) continue;
      try {
        material = openBytes(master.kek, w.wrapped, wrapAad(first.purpose, id, master.id));
        break;
      } catch (err) {
        if (!(err instanceof DecryptionError)) throw err;
      }
    }
    if (material === null) throw mismatch(masters, storedIds);
    live.push({
      id, purpose: first.purpose, state: first.state === 'current' ? 'current' : 'retiring', masterId: first.keyMasterId, material,
      wrappedBy: new Set(wraps.flatMap((x) => (x.wrappedBy === null ? [] : [x.wrappedBy]))),
    });
  }
  const stableKey = live.find((k) => k.purpose === 'stable');
  const current = live.find((k) => k.purpose === 'vault' && k.state === 'current');
  if (!stableKey || !current) throw new KeyMismatchError('the key ring is incomplete (no stable key set or no current vault key)');
  return {
    stable: stableOf(stableKey.material),
    vault: new Map(live.filter((k) => k.purpose === 'vault').map((k) => [k.id, k])),
    currentId: current.id,
    live,
  };
}

/**
 * First start: a fresh store gets random keys; a store written before the key ring (it has a `key_check` row) adopts
 * the keys its master key derived, so its ciphertexts, blind indexes, sessions and API keys stay valid.
 */
async function bootstrap(db: Db, masters: readonly MasterKey[], masterTexts: readonly string[]): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${RING_LOCK_ID})`);
    const [existing] = await tx.select({ id: dataKeys.id }).from(dataKeys).limit(1);
    if (existing) return;
    const main = masters[0];
    if (!main) throw new KeyMismatchError('no master key given');
    const [legacy] = await tx.select().from(keyCheck).where(eq(keyCheck.id, 1));
    let stable: Buffer;
    let vaultKey: { id: string; material: Buffer; masterId: string };
    if (legacy) {
      const derived = masterTexts.map((m) => deriveKeys(m)).find((k) => {
        try {
          return open(k.encryption, legacy.ciphertext, LEGACY_CHECK_AAD) === LEGACY_CHECK_PLAINTEXT;
        } catch (err) {
          if (err instanceof DecryptionError) return false;
          throw err;
        }
      });
      if (!derived) throw mismatch(masters, [legacy.keyId]);
      stable = Buffer.concat([derived.blindIndex, derived.session, derived.apiKeyPepper]);
      vaultKey = { id: derived.keyId, material: Buffer.from(derived.encryption), masterId: derived.keyId };
    } else {
      stable = randomBytes(STABLE_BYTES);
      vaultKey = { id: newVaultKeyId(), material: randomBytes(32), masterId: main.id };
    }
    await tx.insert(dataKeys).values([
      { id: STABLE_ID, purpose: 'stable', state: 'current', masterId: main.id },
      { id: vaultKey.id, purpose: 'vault', state: 'current', masterId: vaultKey.masterId },
    ]);
    await tx.insert(keyWraps).values(masters.flatMap((m) => [
      wrap(m, { id: STABLE_ID, purpose: 'stable', material: stable }),
      wrap(m, { id: vaultKey.id, purpose: 'vault', material: vaultKey.material }),
    ]));
  });
}

function newVaultKeyId(): string {
  return `vk${randomBytes(6).toString('hex')}`;
}

/** Wraps every live key under `master` where that wrap is missing (idempotent). */
async function ensureWrapped(db: Db, loaded: Loaded, master: MasterKey): Promise<void> {
  const missing = loaded.live.filter((k) => !k.wrappedBy.has(master.id));
  if (missing.length === 0) return;
  await db.insert(keyWraps).values(missing.map((k) => wrap(master, k))).onConflictDoNothing();
  for (const k of missing) k.wrappedBy.add(master.id);
}

function mastersOf(options: OpenKeyRingOptions): { masters: MasterKey[]; texts: string[] } {
  const texts = [options.masterKey, ...(options.previousMasterKey && options.previousMasterKey !== options.masterKey ? [options.previousMasterKey] : [])];
  return { masters: texts.map(masterKeyOf), texts };
}

/**
 * Opens (on first start: creates) the key ring with the configured master key, or the previous one while rotating.
 * A wrong master key throws KeyMismatchError naming both fingerprints, before anything is read or written.
 */
export async function openKeyRing(db: Db, options: OpenKeyRingOptions): Promise<KeyRing> {
  const { masters, texts } = mastersOf(options);
  let loaded = await load(db, masters);
  if (!loaded) {
    await bootstrap(db, masters, texts);
    loaded = await load(db, masters);
    if (!loaded) throw new KeyMismatchError('the key ring is empty after it was created');
  }
  // No re-wrapping at start: only a rotation adds wraps, so a swapped MASTER/PREVIOUS pair cannot undo one.
  let state: Loaded = loaded;
  const initial = state.vault.get(state.currentId);
  if (!initial) throw new KeyMismatchError('the current vault key is missing');
  const keys: DerivedKeys = Object.freeze({
    keyId: initial.id, encryption: initial.material,
    blindIndex: state.stable.blindIndex, session: state.stable.session, apiKeyPepper: state.stable.apiKeyPepper,
  });
  return {
    keys,
    masterIds: masters.map((m) => m.id),
    current() {
      const k = state.vault.get(state.currentId);
      if (!k) throw new KeyMismatchError('the current vault key is missing');
      return { id: k.id, key: k.material };
    },
    dataKey(id) {
      return state.vault.get(id)?.material;
    },
    async refresh() {
      const next = await load(db, masters);
      if (!next) throw new KeyMismatchError('the key ring is gone');
      if (!next.stable.blindIndex.equals(state.stable.blindIndex)) throw new KeyMismatchError('the stable keys changed under a running process');
      // Keep retiring keys this process already knows: values it read a moment ago may still be under them.
      for (const [id, k] of state.vault) if (!next.vault.has(id)) next.vault.set(id, k);
      state = next;
    },
  };
}

/** The vault operations a rotation needs (src/store/vault.ts in key-ring mode). */
export interface RotatableVault {
  /** Values not yet under the current vault key. */
  countStale(): Promise<number>;
  /** Re-encrypts up to `limit` values under the current vault key in one transaction; returns how many. */
  reencryptBatch(limit: number): Promise<number>;
}

export interface RotationProgress { done: number; total: number }

export interface RotationResult {
  /** The new master key's fingerprint. */
  masterId: string;
  /** The vault key the values are sealed with now. */
  vaultKeyId: string;
  reencrypted: number;
  /** Vault keys destroyed at the end. */
  retired: string[];
  /** false when the rotation to this master key was already under way (resumed). */
  started: boolean;
}

/**
 * Step 1 (idempotent, resumable): wrap the ring under the target master key and make a new vault key current
 * (wrapped under every master this process holds, so processes on the old key pick it up too).
 */
async function prepareRotation(db: Db, ring: KeyRing, target: MasterKey, holders: readonly MasterKey[]): Promise<{ started: boolean }> {
  const started = await db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${RING_LOCK_ID})`);
    const loaded = await load(tx, [...holders, target]);
    if (!loaded) throw new KeyMismatchError('the key ring is empty');
    await ensureWrapped(tx, loaded, target);
    const current = loaded.vault.get(loaded.currentId);
    if (current && current.masterId === target.id) return false;
    const id = newVaultKeyId();
    const material = randomBytes(32);
    await tx.update(dataKeys).set({ state: 'retiring' }).where(and(eq(dataKeys.purpose, 'vault'), eq(dataKeys.state, 'current')));
    await tx.insert(dataKeys).values({ id, purpose: 'vault', state: 'current', masterId: target.id });
    const wrappers = [target, ...holders.filter((h) => h.id !== target.id)];
    await tx.insert(keyWraps).values(wrappers.map((m) => wrap(m, { id, purpose: 'vault', material })));
    return true;
  });
  await ring.refresh();
  return { started };
}

/**
 * Last step, atomic: with writers paused for an instant (SHARE lock on the vault), if no value is left under a
 * retiring key, destroy those keys and every wrap by another master than the target. false → more batches to do.
 */
async function finishRotation(db: Db, target: MasterKey): Promise<string[] | null> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${RING_LOCK_ID})`);
    await tx.execute(sql`lock table sensitive.vault_values in share mode`);
    const retiring = (await tx.select({ id: dataKeys.id }).from(dataKeys).where(and(eq(dataKeys.purpose, 'vault'), eq(dataKeys.state, 'retiring')))).map((r) => r.id);
    if (retiring.length > 0) {
      const left = await executeRows<{ one: number }>(tx, sql`select 1 as one from sensitive.vault_values where key_id in (${sql.join(retiring.map((id) => sql`${id}`), sql`, `)}) limit 1`);
      if (left.length > 0) return null;
      await tx.update(dataKeys).set({ state: 'retired', retiredAt: new Date() }).where(inArray(dataKeys.id, retiring));
      await tx.delete(keyWraps).where(inArray(keyWraps.keyId, retiring));
    }
    await tx.delete(keyWraps).where(ne(keyWraps.masterId, target.id));
    return retiring;
  });
}

/**
 * `npm run keys -- rotate-master`: re-wraps the ring under `targetMasterKey`, re-encrypts every vault value under a
 * new vault key in batches (each its own transaction: stop and run again to resume), then retires the old vault key
 * and drops every wrap by another master key. The service keeps running throughout.
 */
export async function rotateMaster(options: {
  db: Db;
  ring: KeyRing;
  vault: RotatableVault;
  /** Master keys that open the ring now (the configured one, the previous one). */
  holders: readonly string[];
  targetMasterKey: string;
  batchSize?: number;
  /** Called after the preparation and after each batch (awaited). */
  onProgress?: (progress: RotationProgress) => void | Promise<void>;
  /** Re-encryption passes before giving up (writers on a stale key keep adding values). */
  maxPasses?: number;
}): Promise<RotationResult> {
  const { db, ring, vault } = options;
  const target = masterKeyOf(options.targetMasterKey);
  const holders = [...new Set(options.holders)].map(masterKeyOf);
  const batchSize = Math.max(1, Math.min(options.batchSize ?? 500, 10_000));
  const { started } = await prepareRotation(db, ring, target, holders);
  const progress = { done: 0, total: await vault.countStale() };
  await options.onProgress?.({ ...progress });
  for (let pass = 0; pass < (options.maxPasses ?? 20); pass += 1) {
    for (;;) {
      const n = await vault.reencryptBatch(batchSize);
      if (n === 0) break;
      progress.done += n;
      progress.total = Math.max(progress.total, progress.done);
      await options.onProgress?.({ ...progress });
    }
    const retired = await finishRotation(db, target);
    if (retired !== null) return { masterId: target.id, vaultKeyId: ring.current().id, reencrypted: progress.done, retired, started };
    progress.total = progress.done + await vault.countStale();
  }
  throw new KeyMismatchError('values under the old vault key keep appearing: a process is still writing with a stale key; restart every process with the new BOARDROLL_MASTER_KEY and run rotate-master again');
}
