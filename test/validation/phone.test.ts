import { describe, expect, it } from 'vitest';
import { parseMobile } from '../../src/validation/phone.js';

describe('parseMobile: accepted numbers', () => {
  it.each([
    ['a plain number', '13812345678', '13812345678'],
    ['+86 with spaces and hyphens', '+86 138-1234-5678', '13812345678'],
    ['+86 glued', '+8613812345678', '13812345678'],
    ['a 0086 prefix', '0086 138 1234 5678', '13812345678'],
    ['a bare 86 prefix before 11 digits', '8613812345678', '13812345678'],
    ['full-width digits', '１３８１２３４５６７８', '13812345678'],
    ['parentheses and dots', '(+86) 138.1234.5678', '13812345678'],
    ['segment 149 (Telecom data card with voice)', '14912345678', '14912345678'],
    ['segment 145', '14512345678', '14512345678'],
    ['segment 1700 (MVNO)', '17001234567', '17001234567'],
    ['segment 17400', '17400123456', '17400123456'],
    ['segment 17405', '17405123456', '17405123456'],
    ['segment 162', '16212345678', '16212345678'],
    ['segment 192 (Broadnet)', '19212345678', '19212345678'],
    ['segment 193', '19312345678', '19312345678'],
    ['segment 199', '19912345678', '19912345678'],
  ])('when it is %s, then it is accepted as 11 digits', (_b, raw, expected) => {
    expect(parseMobile(raw)).toEqual({ ok: true, value: expected });
  });
});

describe('parseMobile: rejected numbers', () => {
  it.each([
    ['9 digits', '138123456', 'length', { got: 9 }],
    ['12 digits', '138123456789', 'length', { got: 12 }],
    ['10 digits after +86', '+86 1381234567', 'length', { got: 10 }],
    ['86 followed by 10 digits (no prefix stripped)', '861381234567', 'length', { got: 12 }],
    ['nothing', '', 'length', { got: 0 }],
    ['segment 154 (never allocated)', '15412345678', 'segment', undefined],
    ['segment 160', '16012345678', 'segment', undefined],
    ['segment 179', '17912345678', 'segment', undefined],
    ['segment 194', '19412345678', 'segment', undefined],
    ['segment 1749 (maritime satellite)', '17491234567', 'segment', undefined],
    ['segment 17406 (emergency comms)', '17406123456', 'segment', undefined],
    ['segment 120', '12012345678', 'segment', undefined],
    ['segment 100', '10012345678', 'segment', undefined],
    ['a Shenyang landline with area code', '02423456789', 'prefix', undefined],
    ['11 digits starting with 2', '23812345678', 'prefix', undefined],
    ['a Hong Kong number with +852', '+852 9123 4567', 'foreign', undefined],
    ['a Hong Kong number with 00852', '0085291234567', 'foreign', undefined],
    ['a US number', '+1 415 555 0100', 'foreign', undefined],
    ['a letter', '1381234567a', 'format', undefined],
    ['words before the number', '手机13812345678', 'format', undefined],
  ])('when it is %s, then the reason is %s', (_b, raw, reason, params) => {
    expect(parseMobile(raw)).toEqual(params === undefined ? { ok: false, reason } : { ok: false, reason, params });
  });
});
