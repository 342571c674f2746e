import { describe, expect, it } from 'vitest';
import { compact, normalizeText } from '../../src/validation/normalize.js';
import { accept, reject } from '../../src/validation/result.js';

describe('normalizeText', () => {
  it.each([
    ['full-width digits and letters become ASCII', '１２３ＡＢＣ', '123ABC'],
    ['the full-width colon becomes ASCII', '８：３０', '8:30'],
    ['surrounding whitespace is trimmed', '  沈阳北站 \n', '沈阳北站'],
    ['inner whitespace, incl. the ideographic space, collapses to one space', '明天\u3000\u3000 08:30', '明天 08:30'],
    ['zero-width characters are dropped', '沈\u200B阳', '沈阳'],
    ['Chinese characters are left alone', '辽宁省沈阳市', '辽宁省沈阳市'],
  ])('when %s', (_behaviour, raw, expected) => {
    expect(normalizeText(raw)).toBe(expected);
  });
});

describe('compact', () => {
  it.each([
    ['spaces and hyphens are removed', '138-1234 5678', '13812345678'],
    ['dash look-alikes are removed', '138‐1234–5678—', '13812345678'],
    ['full-width digits and the full-width hyphen fold first', '１３８－１２３４', '1381234'],
    ['tabs and newlines are removed', '482\t913\n', '482913'],
  ])('when %s', (_behaviour, raw, expected) => {
    expect(compact(raw)).toBe(expected);
  });
});

describe('result helpers', () => {
  it('when a value is accepted, then it is wrapped with ok true', () => {
    expect(accept(5)).toEqual({ ok: true, value: 5 });
  });
  it('when a rejection has no params, then the params key is absent', () => {
    expect(reject('format')).toStrictEqual({ ok: false, reason: 'format' });
  });
  it('when a rejection has params, then they are carried', () => {
    expect(reject('length', { got: 9 })).toStrictEqual({ ok: false, reason: 'length', params: { got: 9 } });
  });
});
