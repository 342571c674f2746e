/**
 * Every reason each parser can return. The bot's text for a rejection is the locale key
 * `validation.<parser>.<reason>` (files locales/<locale>/validation.json); a test checks that every pair below
 * has a text in every locale and that the texts use only the params the parser supplies.
 *
 * Parser names:
 * - `idType`: parseIdType; `menuChoice`: parseMenuChoice (params `{max}`).
 * - `idNumber.<key>`: parseIdNumber for the ID_TYPES entry with that key (`idNumber.resident_id` is also
 *   parseResidentId).
 * - `mobile`: parseMobile; `plate`: parsePlate; `personName`: parsePersonName;
 *   `departureTime`: parseDepartureTime; `place`: resolvePlace;
 *   `passengerCount`, `tripNumber`, `address`, `tripCode`: the parsers of the same name in trip-fields.ts.
 *
 * Params by reason: `length` carries `{got}` (characters or digits seen); `range`/`choice`/`too_short`/`too_long`
 * carry their bound (`{min}`, `{max}`); `checksum` carries `{position}` (always the last character);
 * `too_far` carries `{days}`. Params never echo the user's text back.
 */
const REASONS = {
  idType: ['choice'],
  'idNumber.resident_id': ['legacy_15', 'length', 'format', 'province', 'birth_date', 'checksum'],
  'idNumber.hk_macau_permit': ['mainland_permit', 'format'],
  'idNumber.taiwan_permit': ['length', 'format'],
  'idNumber.passport_cn': ['format'],
  'idNumber.foreign_permanent': ['length', 'format', 'region', 'birth_date', 'checksum'],
  'idNumber.residence_permit': ['length', 'format', 'prefix', 'birth_date', 'checksum'],
  'idNumber.passport_foreign': ['length', 'format'],
  mobile: ['format', 'foreign', 'length', 'prefix', 'segment'],
  plate: ['province', 'city_letter', 'length', 'letter_io', 'format'],
  personName: ['too_short', 'too_long', 'digits', 'characters', 'format'],
  departureTime: ['format', 'date', 'past', 'too_far'],
  place: ['unknown', 'too_long'],
  passengerCount: ['format', 'range'],
  tripNumber: ['format', 'too_long'],
  address: ['too_short', 'too_long', 'format'],
  tripCode: ['format'],
  menuChoice: ['choice'],
} as const;

export type ValidationParser = keyof typeof REASONS;
export type ReasonOf<P extends ValidationParser> = (typeof REASONS)[P][number];

export const VALIDATION_REASONS: Record<string, readonly string[]> = REASONS;

/** The locale key of a rejection: `validation.<parser>.<reason>`. */
export function validationKey(parser: ValidationParser, reason: string): string {
  return `validation.${parser}.${reason}`;
}
