/**
 * Identity documents a passenger may give, in the order of the contract's menu (DESIGN.md, "Conversation
 * contract"). Rules and their sources: /work/shared/reference/identity.md §1-§2.
 */
import { isRealDate, pad2, shanghaiIsoDate } from './calendar.js';
import { compact, normalizeText } from './normalize.js';
import type { ReasonOf, ValidationParser } from './reasons.js';
import { accept, reject, type Rejection, type Validated } from './result.js';

export type IdType = 1 | 2 | 3 | 4 | 5 | 6 | 7;

/** Menu order and the key each type's texts use (`validation.idNumber.<key>.*`, and the callers' own labels). */
export const ID_TYPES = [
  { code: 1, key: 'resident_id' },
  { code: 2, key: 'hk_macau_permit' },
  { code: 3, key: 'taiwan_permit' },
  { code: 4, key: 'passport_cn' },
  { code: 5, key: 'foreign_permanent' },
  { code: 6, key: 'residence_permit' },
  { code: 7, key: 'passport_foreign' },
] as const satisfies readonly { code: IdType; key: string }[];

export type IdTypeKey = (typeof ID_TYPES)[number]['key'];
type IdNumberParser = Extract<ValidationParser, `idNumber.${string}`>;

const KEY_BY_TYPE = Object.fromEntries(ID_TYPES.map((t) => [t.code, t.key])) as Record<IdType, IdTypeKey>;

export function idTypeKey(type: IdType): IdTypeKey {
  return KEY_BY_TYPE[type];
}

/** The `VALIDATION_REASONS` name of parseIdNumber for `type`, e.g. `idNumber.resident_id`. */
export function idNumberParser(type: IdType): IdNumberParser {
  return `idNumber.${idTypeKey(type)}`;
}

/** The document-type menu answer: `1`..`7` (full-width digits and surrounding spaces tolerated). Reason: `choice` {max}. */
export function parseIdType(raw: string): Validated<IdType> {
  const text = normalizeText(raw);
  if (!/^[1-7]$/.test(text)) return reject('choice' satisfies ReasonOf<'idType'>, { max: ID_TYPES.length });
  return accept(Number(text) as IdType);
}

/**
 * Province-level codes that can start a mainland resident ID (identity.md §1.4; the same 31 codes as GB/T 2260's
 * provinces). 71 (Taiwan), 81/82/83 (residence permits) and a leading 9 (2023 permanent residence ID) cannot.
 */
export const RESIDENT_PROVINCE_CODES: ReadonlySet<string> = new Set([
  '11', '12', '13', '14', '15', '21', '22', '23', '31', '32', '33', '34', '35', '36', '37',
  '41', '42', '43', '44', '45', '46', '50', '51', '52', '53', '54', '61', '62', '63', '64', '65',
]);

/** The earliest birth date accepted (identity.md §1.3 recommendation). */
const MIN_BIRTH_YEAR = 1900;

/** Upper-cased, with spaces, hyphens and separator dots removed: how every document number is compared and stored. */
function normalizeDocumentNumber(raw: string): string {
  return compact(raw).replace(/[.·•・]/g, '').toUpperCase();
}

const MOD11_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const MOD11_CHECK = '10X98765432';

/** ISO 7064 MOD 11-2 check character (GB 11643) of the first 17 digits. */
export function mod11CheckChar(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i += 1) sum += Number(first17[i]) * (MOD11_WEIGHTS[i] ?? 0);
  return MOD11_CHECK[sum % 11] ?? '';
}

/** ICAO 9303 7-3-1 check digit over digits and letters (A=10 … Z=35), as used by the 15-character permanent residence ID. */
function icaoCheckDigit(text: string): string {
  const weights = [7, 3, 1];
  let sum = 0;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    const value = c >= 65 && c <= 90 ? c - 55 : c - 48;
    sum += value * (weights[i % 3] ?? 0);
  }
  return String(sum % 10);
}

/** `YYYYMMDD` → `YYYY-MM-DD` when it is a real date from 1900-01-01 up to today in Shanghai, else null. */
function birthDateOf(yyyymmdd: string, now: Date): string | null {
  const year = Number(yyyymmdd.slice(0, 4));
  const month = Number(yyyymmdd.slice(4, 6));
  const day = Number(yyyymmdd.slice(6, 8));
  if (year < MIN_BIRTH_YEAR || !isRealDate(year, month, day)) return null;
  const iso = `${year}-${pad2(month)}-${pad2(day)}`;
  return iso <= shanghaiIsoDate(now) ? iso : null;
}

export type ResidentId = { number: string; birthDate: string; sex: 'M' | 'F' };

type ResidentReason = ReasonOf<'idNumber.resident_id'>;
const residentFail = (reason: ResidentReason, params?: Record<string, string | number>): Rejection =>
  reject(reason, params);

/**
 * Shape of a resident ID after normalization: 18 characters, 17 digits then a digit or X, first digit 1-6
 * (every resident ID province code). Used for the menu shortcut "an 18-character resident ID sent at the
 * document-type menu is taken as type 1"; numbers starting with 8 (residence permit) or 9 (2023 permanent
 * residence ID) are other documents and do not count. The number still has to pass parseResidentId.
 */
export function looksLikeResidentId(raw: string): boolean {
  return /^[1-6]\d{16}[\dX]$/.test(normalizeDocumentNumber(raw));
}

/**
 * Mainland resident ID (GB 11643-1999), checked in this order so the bot can say what is wrong:
 * `legacy_15` (a first-generation 15-digit number: ask for the 18-digit one, never upgrade it silently),
 * `length` {got}, `format` (17 digits then a digit or X), `province` (first two digits),
 * `birth_date` (a real date, 1900-01-01 … today in Shanghai), `checksum` {position: 18} (the last character).
 */
export function parseResidentId(raw: string, now: Date): Validated<ResidentId> {
  const number = normalizeDocumentNumber(raw);
  if (/^\d{15}$/.test(number)) return residentFail('legacy_15');
  const length = [...number].length;
  if (length !== 18) return residentFail('length', { got: length });
  if (!/^\d{17}[\dX]$/.test(number)) return residentFail('format');
  if (!RESIDENT_PROVINCE_CODES.has(number.slice(0, 2))) return residentFail('province');
  const birthDate = birthDateOf(number.slice(6, 14), now);
  if (birthDate === null) return residentFail('birth_date');
  if (mod11CheckChar(number) !== number[17]) return residentFail('checksum', { position: 18 });
  const sex = Number(number[16]) % 2 === 1 ? 'M' : 'F';
  return accept({ number, birthDate, sex });
}

/** 港澳居民来往内地通行证: H/M + 8-digit lifelong number (+ 2-digit issue count on older booklets). */
function parseHkMacauPermit(number: string): Validated<string> {
  const fail = (reason: ReasonOf<'idNumber.hk_macau_permit'>): Rejection => reject(reason);
  if (/^[HM]\d{8}(\d{2})?$/.test(number)) return accept(number);
  // C + 8 digits (or C + letter + 7 digits) is the mainland resident's permit to HK/Macau: another document.
  if (/^C([A-Z]\d{7}|\d{8})$/.test(number)) return fail('mainland_permit');
  return fail('format');
}

/** 台湾居民来往大陆通行证: the 8-digit lifelong number (kept as a string: it may start with 0). */
function parseTaiwanPermit(number: string): Validated<string> {
  const fail = (reason: ReasonOf<'idNumber.taiwan_permit'>, params?: Record<string, number>): Rejection =>
    reject(reason, params);
  if (/^\d{8}$/.test(number)) return accept(number);
  if (/^\d+$/.test(number)) return fail('length', { got: number.length });
  return fail('format');
}

/** PRC passport: E+8 digits, E+letter (not I/O)+7 digits, G+8 digits (expired series), DE/SE/PE+7 digits. */
function parsePassportCn(number: string): Validated<string> {
  if (/^(E\d{8}|E[A-HJ-NP-Z]\d{7}|G\d{8}|[DSP]E\d{7})$/.test(number)) return accept(number);
  return reject('format' satisfies ReasonOf<'idNumber.passport_cn'>);
}

/**
 * 外国人永久居留身份证, both cards in use:
 * - 2004/2017, 15 characters: ISO alpha-3 nationality, 4-digit region (first two = province), birth YYMMDD
 *   (19YY or 20YY, not in the future), 1 digit, ICAO 7-3-1 check digit (identity.md §2.6, CredentialKit).
 * - 2023, 18 characters: 9, 2-digit province, 3-digit ISO numeric nationality, birth YYYYMMDD, 3 digits,
 *   MOD 11-2 check.
 * Nationality codes are not checked against ISO 3166 (no list is installed); region = province code only
 * (abolished prefecture codes stay on old cards, as with resident IDs).
 */
function parseForeignPermanent(number: string, now: Date): Validated<string> {
  const fail = (reason: ReasonOf<'idNumber.foreign_permanent'>, params?: Record<string, number>): Rejection =>
    reject(reason, params);
  const length = [...number].length;
  if (length === 15) {
    if (!/^[A-Z]{3}\d{12}$/.test(number)) return fail('format');
    if (!RESIDENT_PROVINCE_CODES.has(number.slice(3, 5))) return fail('region');
    const yymmdd = number.slice(7, 13);
    if (birthDateOf(`19${yymmdd}`, now) === null && birthDateOf(`20${yymmdd}`, now) === null) return fail('birth_date');
    if (icaoCheckDigit(number.slice(0, 14)) !== number[14]) return fail('checksum', { position: 15 });
    return accept(number);
  }
  if (length === 18) {
    if (!/^9\d{16}[\dX]$/.test(number)) return fail('format');
    if (!RESIDENT_PROVINCE_CODES.has(number.slice(1, 3))) return fail('region');
    if (birthDateOf(number.slice(6, 14), now) === null) return fail('birth_date');
    if (mod11CheckChar(number) !== number[17]) return fail('checksum', { position: 18 });
    return accept(number);
  }
  return fail('length', { got: length });
}

/** 港澳台居民居住证: like a resident ID with the address code 810000 (HK), 820000 (Macau) or 830000 (Taiwan). */
function parseResidencePermit(number: string, now: Date): Validated<string> {
  const fail = (reason: ReasonOf<'idNumber.residence_permit'>, params?: Record<string, number>): Rejection =>
    reject(reason, params);
  const length = [...number].length;
  if (length !== 18) return fail('length', { got: length });
  if (!/^\d{17}[\dX]$/.test(number)) return fail('format');
  if (!/^8[123]0000/.test(number)) return fail('prefix');
  if (birthDateOf(number.slice(6, 14), now) === null) return fail('birth_date');
  if (mod11CheckChar(number) !== number[17]) return fail('checksum', { position: 18 });
  return accept(number);
}

/** Foreign passport: no universal format, 5-20 letters and digits (identity.md §2.5). */
function parsePassportForeign(number: string): Validated<string> {
  const fail = (reason: ReasonOf<'idNumber.passport_foreign'>, params?: Record<string, number>): Rejection =>
    reject(reason, params);
  if (!/^[A-Z0-9]+$/.test(number)) return fail('format');
  if (number.length < 5 || number.length > 20) return fail('length', { got: number.length });
  return accept(number);
}

/**
 * The document number for `type`, normalized (NFKC, spaces/hyphens/dots removed, upper case) and validated.
 * Reasons per type are listed under `idNumber.<key>` in VALIDATION_REASONS.
 */
export function parseIdNumber(type: IdType, raw: string, now: Date): Validated<string> {
  const number = normalizeDocumentNumber(raw);
  switch (type) {
    case 1: {
      const result = parseResidentId(number, now);
      return result.ok ? accept(result.value.number) : result;
    }
    case 2: return parseHkMacauPermit(number);
    case 3: return parseTaiwanPermit(number);
    case 4: return parsePassportCn(number);
    case 5: return parseForeignPermanent(number, now);
    case 6: return parseResidencePermit(number, now);
    case 7: return parsePassportForeign(number);
    default: {
      const unreachable: never = type;
      throw new TypeError(`unknown identity document type ${String(unreachable)}`);
    }
  }
}

/**
 * The part of a valid number that identifies the person across renewals: the first 9 characters of an
 * HK/Macau permit (the last two digits of the 11-character form are the issue count, identity.md §2.1);
 * the whole number otherwise.
 */
export function idPersonKey(type: IdType, number: string): string {
  return type === 2 ? number.slice(0, 9) : number;
}
