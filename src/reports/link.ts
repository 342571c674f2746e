import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { parseMasterKey } from '../security/keys.js';

/**
 * Signed, expiring download links for e-mailed reports: `GET /api/v1/reports/:city/:date?exp=…&sig=…`, where sig is
 * HMAC-SHA256 over (city, date, exp) under a key derived from BOARDROLL_MASTER_KEY with its own HKDF label, so the
 * link key is independent of the vault, blind-index and API-key keys.
 */
const SALT = Buffer.from('boardroll/hkdf-salt/v1', 'utf8');
const LABEL = Buffer.from('boardroll/v1/report-link', 'utf8');
/** How long an e-mailed link works. */
export const REPORT_LINK_TTL_SECONDS = 7 * 86_400;

export function reportLinkKey(masterKeyBase64: string): Buffer {
  const master = parseMasterKey(masterKeyBase64);
  const key = Buffer.from(hkdfSync('sha256', master, SALT, LABEL, 32));
  master.fill(0);
  return key;
}

function mac(key: Buffer, city: string, date: string, exp: number): Buffer {
  return createHmac('sha256', key).update(`report-link\u0000${city}\u0000${date}\u0000${exp}`, 'utf8').digest();
}

export function signReportLink(key: Buffer, city: string, date: string, exp: number): string {
  return mac(key, city, date, exp).toString('base64url');
}

export type LinkCheck = 'ok' | 'invalid' | 'expired';

/** Constant-time check of a presented signature; an expired link is told apart so the answer can say so. */
export function verifyReportLink(key: Buffer, city: string, date: string, exp: number, sig: string, now: Date = new Date()): LinkCheck {
  const presented = Buffer.from(sig, 'base64url');
  const expected = mac(key, city, date, exp);
  if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) return 'invalid';
  return exp * 1000 > now.getTime() ? 'ok' : 'expired';
}

export function reportLinkUrl(baseUrl: string, key: Buffer, city: string, date: string, now: Date = new Date(), ttlSeconds = REPORT_LINK_TTL_SECONDS): { url: string; expiresAt: Date } {
  const exp = Math.floor(now.getTime() / 1000) + ttlSeconds;
  const url = `${baseUrl}/api/v1/reports/${encodeURIComponent(city)}/${encodeURIComponent(date)}?exp=${exp}&sig=${signReportLink(key, city, date, exp)}`;
  return { url, expiresAt: new Date(exp * 1000) };
}
