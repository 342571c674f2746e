import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { DecryptionError } from './errors.js';

/** AES-256-GCM framing: iv (12 bytes) ‖ tag (16 bytes) ‖ ciphertext. */
const IV_BYTES = 12;
const TAG_BYTES = 16;
const ALGORITHM = 'aes-256-gcm';

export type Aad = string | Uint8Array;

function checkKey(key: Uint8Array): void {
  if (key.length !== 32) throw new TypeError(`cipher key must be 32 bytes, got ${key.length}`);
}

function aadBytes(aad: Aad | undefined): Buffer | undefined {
  if (aad === undefined) return undefined;
  return typeof aad === 'string' ? Buffer.from(aad, 'utf8') : Buffer.from(aad);
}

/** Encrypts `plaintext` under `key` with a fresh random IV. `aad` (if any) must be given again to open it. */
export function seal(key: Uint8Array, plaintext: string | Uint8Array, aad?: Aad): Buffer {
  checkKey(key);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
  const extra = aadBytes(aad);
  if (extra) cipher.setAAD(extra);
  const data = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
  const ct = Buffer.concat([cipher.update(data), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), ct]);
}

/** Opens what `seal` produced, as raw bytes. Throws `DecryptionError` on a wrong key, wrong aad or any tampering. */
export function openBytes(key: Uint8Array, sealed: Uint8Array, aad?: Aad): Buffer {
  checkKey(key);
  if (sealed.length < IV_BYTES + TAG_BYTES) throw new DecryptionError('sealed value is too short');
  const buf = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  const decipher = createDecipheriv(ALGORITHM, key, buf.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
  decipher.setAuthTag(buf.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  const extra = aadBytes(aad);
  if (extra) decipher.setAAD(extra);
  try {
    return Buffer.concat([decipher.update(buf.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
  } catch (err) {
    throw new DecryptionError(undefined, { cause: err });
  }
}

/** Opens what `seal` produced, as UTF-8 text. */
export function open(key: Uint8Array, sealed: Uint8Array, aad?: Aad): string {
  return openBytes(key, sealed, aad).toString('utf8');
}

/** Seals a JSON value into a base64 string (e.g. a Redis session blob). */
export function sealJson(key: Uint8Array, value: unknown, aad?: Aad): string {
  return seal(key, JSON.stringify(value), aad).toString('base64');
}

/** Opens a `sealJson` string. The result is untrusted: parse it with a schema. */
export function openJson(key: Uint8Array, sealed: string, aad?: Aad): unknown {
  const text = open(key, Buffer.from(sealed, 'base64'), aad);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new DecryptionError('sealed JSON value is not valid JSON', { cause: err });
  }
}

/**
 * Keyed exact-match index (HMAC-SHA256, hex), domain-separated by `kind` so the same value gives unrelated
 * indexes in different roles. Callers pass a normalized value (see `normalizeIndexValue`).
 */
export function blindIndex(key: Uint8Array, kind: string, normalizedValue: string): string {
  if (kind.includes('\u0000')) throw new TypeError('blind index kind must not contain NUL');
  return createHmac('sha256', key).update(`boardroll/blind/${kind}\u0000`, 'utf8').update(normalizedValue, 'utf8').digest('hex');
}

/**
 * The canonical form a value is indexed under: identity numbers trimmed, without spaces, upper case (so `x` = `X`);
 * phones reduced to digits without a leading `86` country code. Full-width digits and letters are folded first.
 */
export function normalizeIndexValue(kind: 'id_number' | 'phone', value: string): string {
  const folded = value.normalize('NFKC').replace(/\s+/g, '');
  if (kind === 'id_number') return folded.toUpperCase();
  const digits = folded.replace(/\D/g, '');
  if (digits.length === 13 && digits.startsWith('86')) return digits.slice(2);
  if (digits.length === 15 && digits.startsWith('0086')) return digits.slice(4);
  return digits;
}
