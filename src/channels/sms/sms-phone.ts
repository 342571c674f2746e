/**
 * Mainland mobile numbers as Alibaba Cloud SMS sends and pushes them.
 * The gateway accepts `13800000000`, `+8613800000000`, `008613800000000` and `8613800000000` [doc];
 * pushes carry the bare 11 digits, but we normalize every form so one rider has one userId.
 */
const MOBILE = /^1\d{10}$/;

/** Strips spaces, dashes, brackets and a +86 / 0086 / 86 prefix; full-width digits become ASCII. */
export function normalizeCnMobile(raw: string): string {
  let s = raw.normalize('NFKC').replace(/[\s\-()]/g, '');
  if (s.startsWith('+')) s = s.slice(1);
  if (s.startsWith('0086')) s = s.slice(4);
  else if (s.startsWith('86') && s.length === 13) s = s.slice(2);
  return s;
}

/** True for an 11-digit mainland mobile number starting with 1 (after normalization). */
export function isCnMobile(normalized: string): boolean {
  return MOBILE.test(normalized);
}

/** A PII-free description of a bad number for error messages: its length, never its digits. */
export function describeBadMobile(normalized: string): string {
  if (normalized.length === 0) return 'got an empty string';
  if (!/^\d+$/.test(normalized)) return `got ${normalized.length} characters that are not all digits`;
  return normalized.startsWith('1') ? `got ${normalized.length} digits` : `got ${normalized.length} digits not starting with 1`;
}
