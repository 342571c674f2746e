import { createHash, hkdfSync, randomBytes } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { blindIndex } from './cipher.js';
import { MasterKeyError } from './errors.js';

/** Sub-keys derived from BOARDROLL_MASTER_KEY. Never log or serialize these. */
export interface DerivedKeys {
  /** Short public fingerprint of the master key (hex): stored with every sealed value as its key version. */
  readonly keyId: string;
  /** AES-256-GCM key for the sensitive vault. */
  readonly encryption: Buffer;
  /** HMAC key for blind indexes (exact-match lookup of identity numbers, phones) and user keys. */
  readonly blindIndex: Buffer;
  /** AES-256-GCM key for session blobs kept in Redis. */
  readonly session: Buffer;
  /** HMAC key for API-key and enrollment-code hashes. */
  readonly apiKeyPepper: Buffer;
}

const SALT = Buffer.from('boardroll/hkdf-salt/v1', 'utf8');
const LABELS = {
  keyId: 'boardroll/v1/key-id',
  encryption: 'boardroll/v1/vault-encryption',
  blindIndex: 'boardroll/v1/blind-index',
  session: 'boardroll/v1/session',
  apiKeyPepper: 'boardroll/v1/api-key-pepper',
  keyWrap: 'boardroll/v1/key-wrap',
} as const;

function derive(master: Buffer, label: string): Buffer {
  return Buffer.from(hkdfSync('sha256', master, SALT, Buffer.from(label, 'utf8'), 32));
}

/** Parses a base64 master key and checks it is exactly 32 bytes. */
export function parseMasterKey(masterKeyBase64: string): Buffer {
  const trimmed = masterKeyBase64.trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) throw new MasterKeyError('BOARDROLL_MASTER_KEY must be base64 of 32 bytes (it is not base64)');
  const master = Buffer.from(trimmed, 'base64');
  if (master.length !== 32) throw new MasterKeyError(`BOARDROLL_MASTER_KEY must be base64 of 32 bytes (it decodes to ${master.length} bytes)`);
  return master;
}

/** HKDF-SHA256 from the master key into independent sub-keys (one info label each). */
export function deriveKeys(masterKeyBase64: string): DerivedKeys {
  const master = parseMasterKey(masterKeyBase64);
  const keyId = createHash('sha256').update(derive(master, LABELS.keyId)).digest('hex').slice(0, 12);
  const keys: DerivedKeys = {
    keyId,
    encryption: derive(master, LABELS.encryption),
    blindIndex: derive(master, LABELS.blindIndex),
    session: derive(master, LABELS.session),
    apiKeyPepper: derive(master, LABELS.apiKeyPepper),
  };
  master.fill(0);
  return Object.freeze(keys);
}

/**
 * What the master key is used for once the store has a key ring (src/store/key-ring.ts): it only wraps the random
 * data keys. `id` is the same public fingerprint `deriveKeys` gives as `keyId`.
 */
export interface MasterKey {
  readonly id: string;
  /** AES-256-GCM key-encryption key. */
  readonly kek: Buffer;
}

export function masterKeyOf(masterKeyBase64: string): MasterKey {
  const master = parseMasterKey(masterKeyBase64);
  const id = createHash('sha256').update(derive(master, LABELS.keyId)).digest('hex').slice(0, 12);
  const kek = derive(master, LABELS.keyWrap);
  master.fill(0);
  return Object.freeze({ id, kek });
}

/** A fresh random master key, base64 (what `BOARDROLL_MASTER_KEY` holds). */
export function generateMasterKey(): string {
  return randomBytes(32).toString('base64');
}

/**
 * Stable pseudonymous key of a channel user (OA openid, SMS number, wechaty contact id), so those ids are never
 * stored in plain text. Same channel + user id → same key; different channels never collide.
 */
export function userKey(keys: Pick<DerivedKeys, 'blindIndex'>, channel: string, userId: string): string {
  return blindIndex(keys.blindIndex, `user:${channel}`, userId);
}

/**
 * Embedded mode only: reads `${dataDir}/master.key`, creating it (owner-only, mode 0600) with a random key the first
 * time. Two processes starting together agree on one key (exclusive create).
 */
export async function loadOrCreateMasterKeyFile(dataDir: string): Promise<string> {
  const file = join(dataDir, 'master.key');
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  // Write a complete temporary file, then hard-link it into place: a reader never sees a half-written key.
  const temp = join(dataDir, `.master.key.${process.pid}.${randomBytes(4).toString('hex')}`);
  await writeFile(temp, `${generateMasterKey()}\n`, { flag: 'wx', mode: 0o600 });
  try {
    await link(temp, file);
  } catch (err) {
    if (!(err instanceof Error && 'code' in err && err.code === 'EEXIST')) throw err;
  } finally {
    await unlink(temp);
  }
  const text = (await readFile(file, 'utf8')).trim();
  parseMasterKey(text);
  return text;
}
