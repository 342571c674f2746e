/**
 * Mainland mobile numbers (identity.md §3). One strict segment list, kept here and nowhere else: it changes every
 * few years when MIIT opens new segments.
 */
import { compact } from './normalize.js';
import type { ReasonOf } from './reasons.js';
import { accept, reject, type Rejection, type Validated } from './result.js';

/**
 * libphonenumber's CN mobile pattern plus 149 (identity.md §3.2). Not allocated, so rejected: 154, 160/161/163/
 * 164/168/169, 179, 194, 12x/11x/10x, 1749 and 17406-17412 (satellite and emergency numbers).
 */
const STRICT_MOBILE = /^(?:1(?:3\d|4[579]|5[0-35-9]|6[2567]|7[0-35-8]|8\d|9[0-35-9])\d{8}|1740[0-5]\d{6})$/;

type MobileReason = ReasonOf<'mobile'>;
const fail = (reason: MobileReason, params?: Record<string, number>): Rejection => reject(reason, params);

/**
 * An 11-digit mainland mobile number, returned as its 11 digits.
 * Tolerates full-width digits, spaces, hyphens, parentheses and dots, and a `+86`, `0086` or bare `86` prefix
 * (the bare one only when exactly 11 digits follow). Reasons in order: `foreign` (another country code:
 * `+852…`, `00852…`), `format` (anything but digits left), `length` {got: digits seen}, `prefix` (does not
 * start with 1, e.g. a landline), `segment` (starts with a segment no operator issues).
 */
export function parseMobile(raw: string): Validated<string> {
  let text = compact(raw).replace(/[().]/g, '');
  if (text.startsWith('+')) {
    if (!text.startsWith('+86')) return fail('foreign');
    text = text.slice(3);
  } else if (text.startsWith('00')) {
    if (!text.startsWith('0086')) return fail('foreign');
    text = text.slice(4);
  } else if (/^86\d{11}$/.test(text)) {
    text = text.slice(2);
  }
  if (!/^\d*$/.test(text)) return fail('format');
  if (text.length !== 11) return fail('length', { got: text.length });
  if (!text.startsWith('1')) return fail('prefix');
  if (!STRICT_MOBILE.test(text)) return fail('segment');
  return accept(text);
}
