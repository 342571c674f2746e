import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * WeChat's request signature: SHA-1 (lowercase hex) of the strings sorted with a plain code-unit sort and joined
 * with no separator.
 * - 3 fields (`token`, `timestamp`, `nonce`) give the `signature` query parameter (URL check and every POST).
 * - 4 fields (plus the text of `<Encrypt>`) give `msg_signature` (safe mode), the one that covers the body.
 */
export function wechatSignature(token: string, timestamp: string, nonce: string, encrypt?: string): string {
  const parts = encrypt === undefined ? [token, timestamp, nonce] : [token, timestamp, nonce, encrypt];
  // Array#sort without a comparator compares UTF-16 code units, which is what every WeChat SDK does.
  parts.sort();
  return createHash('sha1').update(parts.join(''), 'utf8').digest('hex');
}

/**
 * Constant-time comparison of a signature taken from a request (`expected`: whatever the query held, possibly
 * missing or repeated) with the one computed here (`actual`). False for non-strings and for a different length.
 */
export function signatureMatches(expected: unknown, actual: string): boolean {
  if (typeof expected !== 'string') return false;
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(actual, 'utf8');
  if (a.length !== b.length || a.length === 0) return false;
  return timingSafeEqual(a, b);
}

/**
 * Checks the 3-field `signature` of a request query (GET URL check and every POST). Missing, repeated or
 * non-string parameters simply fail.
 */
export function verifyQuerySignature(token: string, query: Readonly<Record<string, unknown>>): boolean {
  const { timestamp, nonce, signature } = query;
  if (typeof timestamp !== 'string' || typeof nonce !== 'string') return false;
  return signatureMatches(signature, wechatSignature(token, timestamp, nonce));
}
