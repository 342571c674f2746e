import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ID_TYPES, idNumberParser, parseIdNumber, parseIdType } from '../../src/validation/identity.js';
import { parsePersonName } from '../../src/validation/name.js';
import { parseMobile } from '../../src/validation/phone.js';
import { resolvePlace } from '../../src/validation/places.js';
import { parsePlate } from '../../src/validation/plate.js';
import { VALIDATION_REASONS, validationKey } from '../../src/validation/reasons.js';
import type { Validated } from '../../src/validation/result.js';
import { parseDepartureTime } from '../../src/validation/time.js';
import { parseAddress, parseMenuChoice, parsePassengerCount, parseTripCode, parseTripNumber } from '../../src/validation/trip-fields.js';

/** 2025-11-25 12:00 in Shanghai: the texts' `11-26 08:30` example lies ahead of it. */
const NOW = new Date('2025-11-25T04:00:00Z');
const LOCALES = ['zh-CN', 'en'] as const;

type Parse = (raw: string) => Validated<unknown>;
const PARSERS: Record<string, Parse> = {
  idType: parseIdType,
  menuChoice: (raw) => parseMenuChoice(raw, 3),
  ...Object.fromEntries(ID_TYPES.map((t) => [idNumberParser(t.code), (raw: string) => parseIdNumber(t.code, raw, NOW)])),
  mobile: parseMobile,
  plate: parsePlate,
  personName: parsePersonName,
  departureTime: (raw) => parseDepartureTime(raw, NOW),
  place: resolvePlace,
  passengerCount: parsePassengerCount,
  tripNumber: parseTripNumber,
  address: parseAddress,
  tripCode: parseTripCode,
};

/** One input per `<parser>.<reason>` that produces exactly that reason. */
const SAMPLES: Record<string, string> = {
  'idType.choice': '9',
  'menuChoice.choice': '0',
  'idNumber.resident_id.legacy_15': '210102900307123',
  'idNumber.resident_id.length': '21010219900307123',
  'idNumber.resident_id.format': '2101021990030712X3',
  'idNumber.resident_id.province': '990102199003071233',
  'idNumber.resident_id.birth_date': '11010519900230001X',
  'idNumber.resident_id.checksum': '210102199003071234',
  'idNumber.hk_macau_permit.mainland_permit': 'C12345678',
  'idNumber.hk_macau_permit.format': 'H1234',
  'idNumber.taiwan_permit.length': '1234567801',
  'idNumber.taiwan_permit.format': 'T1234567',
  'idNumber.passport_cn.format': 'K12345678',
  'idNumber.foreign_permanent.length': 'KAZ11009012310',
  'idNumber.foreign_permanent.format': '210102199003071233',
  'idNumber.foreign_permanent.region': '919999199012310028',
  'idNumber.foreign_permanent.birth_date': 'KAZ110090133205',
  'idNumber.foreign_permanent.checksum': '911398199012310022',
  'idNumber.residence_permit.length': '81000019900307123',
  'idNumber.residence_permit.format': '8100001990030712A7',
  'idNumber.residence_permit.prefix': '210102199003071233',
  'idNumber.residence_permit.birth_date': '810000202601010025',
  'idNumber.residence_permit.checksum': '810000199003071238',
  'idNumber.passport_foreign.length': 'X123',
  'idNumber.passport_foreign.format': 'AB12345/6',
  'mobile.format': '1381234567a',
  'mobile.foreign': '+85291234567',
  'mobile.length': '138123456',
  'mobile.prefix': '02423456789',
  'mobile.segment': '15412345678',
  'plate.province': '台A12345',
  'plate.city_letter': '辽I12345',
  'plate.length': '辽A1234',
  'plate.letter_io': '辽A12O45',
  'plate.format': '辽A1D2345',
  'personName.too_short': '张',
  'personName.too_long': '阿'.repeat(21),
  'personName.digits': '张三1',
  'personName.characters': '张三😀',
  'personName.format': '·买买提',
  'departureTime.format': '早点走',
  'departureTime.date': '02-30 08:30',
  'departureTime.past': '2025-11-24 08:30',
  'departureTime.too_far': '2025-12-10 08:30',
  'place.unknown': '南站',
  'place.too_long': '沈'.repeat(51),
  'passengerCount.format': '四十',
  'passengerCount.range': '100',
  'tripNumber.format': 'K1234!',
  'tripNumber.too_long': 'A'.repeat(21),
  'address.too_short': '沈阳',
  'address.too_long': '路'.repeat(101),
  'address.format': '12345678',
  'tripCode.format': '48291',
};

function flatten(prefix: string, value: unknown, into: Map<string, string>): Map<string, string> {
  if (typeof value === 'string') into.set(prefix, value);
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) flatten(`${prefix}.${k}`, v, into);
  }
  return into;
}

const TEXTS = Object.fromEntries(
  LOCALES.map((locale) => {
    const file = new URL(`../../locales/${locale}/validation.json`, import.meta.url);
    return [locale, flatten('validation', JSON.parse(readFileSync(file, 'utf8')) as unknown, new Map())];
  }),
) as Record<(typeof LOCALES)[number], Map<string, string>>;

const PAIRS = Object.entries(VALIDATION_REASONS).flatMap(([parser, reasons]) =>
  reasons.map((reason) => ({ parser, reason, key: `${parser}.${reason}` })),
);
const placeholders = (text: string): string[] => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? '').sort();

describe('VALIDATION_REASONS and the locale texts', () => {
  it.each(LOCALES.flatMap((locale) => PAIRS.map((p) => ({ locale, ...p }))))(
    'when the reason is $key, then $locale has a text for it',
    ({ locale, parser, reason }) => {
      expect(TEXTS[locale].get(`validation.${parser}.${reason}`)).toEqual(expect.any(String));
    },
  );

  it.each(LOCALES)('when %s has a validation text, then it belongs to a listed reason (no stale texts)', (locale) => {
    const listed = new Set(PAIRS.map((p) => `validation.${p.parser}.${p.reason}`));
    expect([...TEXTS[locale].keys()].filter((k) => !listed.has(k))).toEqual([]);
  });

  it('when building a key, then it is validation.<parser>.<reason>', () => {
    expect(validationKey('idNumber.resident_id', 'checksum')).toBe('validation.idNumber.resident_id.checksum');
  });

  it('when a text uses placeholders, then both locales use the same ones', () => {
    for (const { parser, reason } of PAIRS) {
      const key = `validation.${parser}.${reason}`;
      expect(placeholders(TEXTS.en.get(key) ?? ''), key).toEqual(placeholders(TEXTS['zh-CN'].get(key) ?? ''));
    }
  });

  it.each(LOCALES)('when reading the %s texts, then none has an exclamation mark or emoji and each shows an example', (locale) => {
    const marker = locale === 'zh-CN' ? '例如 ' : 'for example ';
    for (const [key, text] of TEXTS[locale]) {
      expect(text, key).not.toMatch(/[!！]|\p{Extended_Pictographic}/u);
      expect(text, key).toContain(marker);
    }
  });
});

describe('every reason is reachable and its texts render fully', () => {
  it('when listing samples, then there is exactly one per listed reason', () => {
    expect(Object.keys(SAMPLES).sort()).toEqual(PAIRS.map((p) => p.key).sort());
  });

  it.each(PAIRS)('when the sample for $key is parsed, then that reason comes back with every param its texts use', ({ parser, reason }) => {
    const parse = PARSERS[parser];
    const sample = SAMPLES[`${parser}.${reason}`];
    if (!parse || sample === undefined) throw new Error(`no parser or sample for ${parser}.${reason}`);
    const result = parse(sample);
    expect(result.ok ? 'accepted' : result.reason).toBe(reason);
    const params = result.ok ? {} : (result.params ?? {});
    for (const locale of LOCALES) {
      for (const name of placeholders(TEXTS[locale].get(`validation.${parser}.${reason}`) ?? '')) {
        expect(params, `${locale} {${name}}`).toHaveProperty(name);
      }
    }
  });
});

describe('the examples shown in the texts', () => {
  /** `例如 A、B 或 C` / `for example A, B or C.` → [A, B, C]; an address is one example even with commas. */
  function examples(parser: string, locale: (typeof LOCALES)[number], text: string): string[] {
    const m = locale === 'zh-CN' ? /例如 (.+?)(?:。|$)/.exec(text) : /for example (.+)\.$/.exec(text);
    const list = m?.[1] ?? '';
    if (parser === 'address') return [list];
    return list.split(locale === 'zh-CN' ? /、| 或 |，/ : /, | or /).map((s) => s.trim());
  }

  it.each(LOCALES.flatMap((locale) => PAIRS.map((p) => ({ locale, ...p }))))(
    'when $locale shows an example for $key, then the parser accepts it',
    ({ locale, parser, reason }) => {
      const parse = PARSERS[parser];
      if (!parse) throw new Error(`no parser ${parser}`);
      const text = TEXTS[locale].get(`validation.${parser}.${reason}`) ?? '';
      const shown = examples(parser, locale, text);
      expect(shown.length).toBeGreaterThan(0);
      for (const example of shown) expect(parse(example).ok, `${example} in "${text}"`).toBe(true);
    },
  );
});

describe('parsers never throw', () => {
  const texty = fc.oneof(
    fc.string(),
    fc.string({ unit: 'binary' }),
    fc.string({ unit: fc.constantFrom(...'0123456789Xx+-: 　１２：辽A京朝阳沈阳明天点半·.年月日'.split('')) }),
  );
  it.each(Object.keys(PARSERS))('when %s gets arbitrary text, then it returns a result whose reason is listed', (parser) => {
    const parse = PARSERS[parser];
    const listed = VALIDATION_REASONS[parser] ?? [];
    if (!parse) throw new Error(`no parser ${parser}`);
    fc.assert(
      fc.property(texty, (raw) => {
        const result = parse(raw);
        return result.ok || listed.includes(result.reason);
      }),
      { numRuns: 300 },
    );
  });
});
