/** The smaller trip and registration fields: counts, trip numbers, addresses, trip codes, menu answers. */
import { charCount, compact, normalizeText } from './normalize.js';
import type { ReasonOf } from './reasons.js';
import { accept, reject, type Rejection, type Validated } from './result.js';

export const PASSENGER_COUNT_MIN = 1;
export const PASSENGER_COUNT_MAX = 99;
export const TRIP_NUMBER_MAX = 20;
export const ADDRESS_MIN = 5;
export const ADDRESS_MAX = 100;

/**
 * Declared passenger count: digits only (full-width tolerated, leading zeros ignored), 1-99.
 * Reasons: `format` (not digits: `四十`, `40人`), `range` {min, max}.
 */
export function parsePassengerCount(raw: string): Validated<number> {
  const fail = (reason: ReasonOf<'passengerCount'>, params?: Record<string, number>): Rejection => reject(reason, params);
  const text = normalizeText(raw);
  if (!/^\d+$/.test(text)) return fail('format');
  const count = Number(text);
  if (count < PASSENGER_COUNT_MIN || count > PASSENGER_COUNT_MAX) {
    return fail('range', { min: PASSENGER_COUNT_MIN, max: PASSENGER_COUNT_MAX });
  }
  return accept(count);
}

/** Answers meaning "this trip has no number". */
const NO_TRIP_NUMBER = new Set(['无', '没有', '沒有', '暂无', '無', 'none', 'no', 'n/a']);

/**
 * Trip (timetable) number: `无`/`没有`/`none` (and 暂无, no, n/a) → null; otherwise 1-20 characters of letters,
 * digits and hyphens, spaces dropped, letters upper-cased (`k1234` → `K1234`).
 * Reasons: `format` (other characters), `too_long` {max}.
 */
export function parseTripNumber(raw: string): Validated<string | null> {
  const fail = (reason: ReasonOf<'tripNumber'>, params?: Record<string, number>): Rejection => reject(reason, params);
  const text = normalizeText(raw);
  if (NO_TRIP_NUMBER.has(text.toLowerCase())) return accept(null);
  const number = text.replace(/\s+/g, '').replace(/[\u2010-\u2014\u2212]/g, '-').toUpperCase();
  if (!/^[A-Z0-9-]+$/.test(number) || !/[A-Z0-9]/.test(number)) return fail('format');
  if (number.length > TRIP_NUMBER_MAX) return fail('too_long', { max: TRIP_NUMBER_MAX });
  return accept(number);
}

/**
 * A postal address (the Beijing questions), normalized text of 5-100 characters that contains at least one
 * letter or Chinese character. Reasons: `too_short` {min}, `too_long` {max}, `format` (only digits or symbols).
 */
export function parseAddress(raw: string): Validated<string> {
  const fail = (reason: ReasonOf<'address'>, params?: Record<string, number>): Rejection => reject(reason, params);
  const text = normalizeText(raw);
  const length = charCount(text);
  if (length < ADDRESS_MIN) return fail('too_short', { min: ADDRESS_MIN });
  if (length > ADDRESS_MAX) return fail('too_long', { max: ADDRESS_MAX });
  if (!/\p{L}/u.test(text)) return fail('format');
  return accept(text);
}

/** The 6-digit trip code passengers send or staff quote (`482913`, also `482 913`, `482-913`). Reason: `format`. */
export function parseTripCode(raw: string): Validated<string> {
  const text = compact(raw);
  if (!/^\d{6}$/.test(text)) return reject('format' satisfies ReasonOf<'tripCode'>);
  return accept(text);
}

/**
 * A numbered menu answer `1`..`max` (full-width digits tolerated). `0` means "back" and is a global command the
 * engine handles before asking this parser, so here it is out of range. Reason: `choice` {max}.
 */
export function parseMenuChoice(raw: string, max: number): Validated<number> {
  const text = normalizeText(raw);
  const choice = /^\d{1,2}$/.test(text) ? Number(text) : NaN;
  if (!(choice >= 1 && choice <= max)) return reject('choice' satisfies ReasonOf<'menuChoice'>, { max });
  return accept(choice);
}
