import type { ParserEntry, ParserTable, ParseResult } from '../engine/registry.js';
import type { Json } from '../engine/state.js';
import { ID_TYPES, parseIdNumber, parseResidentId, type IdType } from '../validation/identity.js';
import { normalizeText } from '../validation/normalize.js';
import { parseMobile } from '../validation/phone.js';
import { isPlateLike, parsePlate } from '../validation/plate.js';
import { parsePersonName } from '../validation/name.js';
import { resolvePlace } from '../validation/places.js';
import { VALIDATION_REASONS } from '../validation/reasons.js';
import { parseDepartureTime } from '../validation/time.js';
import { parseAddress, parsePassengerCount, parseTripCode, parseTripNumber } from '../validation/trip-fields.js';
import type { Validated } from '../validation/result.js';

/** Binds the flows' parser names to the validation layer (pure). Rejection texts: `<messages>.<reason>`. */
function fromValidation<T extends Json>(name: keyof typeof VALIDATION_REASONS & string, parse: (raw: string, now: Date) => Validated<T>): ParserEntry {
  return { parse: (raw, ctx) => parse(raw, ctx.now), messages: `validation.${name}`, reasons: VALIDATION_REASONS[name] ?? [] };
}

/** The document number, validated for the type chosen in `typeField`; reasons are `<type key>.<reason>`. */
function idNumberFor(typeField: string): ParserEntry {
  return {
    parse(raw, ctx): ParseResult {
      const type = Number(ctx.values[typeField] ?? 1) as IdType;
      const entry = ID_TYPES[type - 1] ?? ID_TYPES[0];
      const result = parseIdNumber(entry.code, raw, ctx.now);
      return result.ok ? result : { ok: false, reason: `${entry.key}.${result.reason}`, ...(result.params ? { params: result.params } : {}) };
    },
    messages: 'validation.idNumber',
    reasons: ID_TYPES.flatMap((t) => (VALIDATION_REASONS[`idNumber.${t.key}`] ?? []).map((r) => `${t.key}.${r}`)),
  };
}

const ALL_WORDS = new Set(['全部', 'all', '全到', '都到了']);

/** Arrival marks at verification: `1 3 5`, `1,3,5`, `1、3` or 全部/all, within the roster's size. */
const arrivalMarks: ParserEntry = {
  parse(raw, ctx): ParseResult {
    const text = normalizeText(raw).toLowerCase();
    if (ALL_WORDS.has(text)) return { ok: true, value: 'all' };
    const roster = ctx.vars['roster'];
    const max = roster && typeof roster === 'object' && !Array.isArray(roster) && typeof roster['size'] === 'number' ? roster['size'] : 0;
    const parts = text.split(/[\s,，、;；]+/).filter((p) => p !== '');
    if (parts.length === 0 || parts.some((p) => !/^\d{1,3}$/.test(p))) return { ok: false, reason: 'format' };
    const numbers = [...new Set(parts.map(Number))];
    if (numbers.some((n) => n < 1 || n > max)) return { ok: false, reason: 'range', params: { max } };
    return { ok: true, value: numbers };
  },
  messages: 'parsers.arrivalMarks',
  reasons: ['format', 'range'],
};

/** Enrollment codes printed by `npm run keys -- enroll`. */
const enrollCode: ParserEntry = {
  parse(raw): ParseResult {
    const code = normalizeText(raw).replace(/[\s-]/g, '').toUpperCase();
    return /^[A-Z0-9]{6,16}$/.test(code) ? { ok: true, value: code } : { ok: false, reason: 'format' };
  },
  messages: 'parsers.enrollCode',
  reasons: ['format'],
};

export const PARSERS: ParserTable = {
  plate: { ...fromValidation('plate', (raw) => { const r = parsePlate(raw); return r.ok ? { ok: true, value: r.value.plate } : r; }), looksLike: isPlateLike },
  passengerCount: fromValidation('passengerCount', (raw) => parsePassengerCount(raw)),
  personName: fromValidation('personName', (raw) => parsePersonName(raw)),
  mobile: fromValidation('mobile', (raw) => parseMobile(raw)),
  residentId: fromValidation('idNumber.resident_id', (raw, now) => { const r = parseResidentId(raw, now); return r.ok ? { ok: true, value: r.value.number } : r; }),
  idNumber: idNumberFor('idType'),
  crewIdNumber: idNumberFor('crewIdType'),
  tripNumber: fromValidation('tripNumber', (raw) => parseTripNumber(raw)),
  departureTime: fromValidation('departureTime', (raw, now) => { const r = parseDepartureTime(raw, now); return r.ok ? { ok: true, value: r.value.toISOString() } : r; }),
  place: fromValidation('place', (raw) => { const r = resolvePlace(raw); return r.ok ? { ok: true, value: { ...r.value } } : r; }),
  address: fromValidation('address', (raw) => parseAddress(raw)),
  tripCode: { ...fromValidation('tripCode', (raw) => parseTripCode(raw)), looksLike: (raw) => /^\s*\d{4,8}\s*$/.test(raw.normalize('NFKC')) },
  arrivalMarks,
  enrollCode,
};
