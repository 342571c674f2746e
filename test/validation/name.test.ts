import { describe, expect, it } from 'vitest';
import { parsePersonName } from '../../src/validation/name.js';

describe('parsePersonName: accepted names', () => {
  it.each([
    ['a two-character Chinese name', '张三', '张三'],
    ['a three-character Chinese name', '张建国', '张建国'],
    ['a space typed inside a Chinese name', '张 建国', '张建国'],
    ['a transliterated name with the middle dot', '阿依古丽·买买提', '阿依古丽·买买提'],
    ['an ASCII full stop between parts', '阿依古丽.买买提', '阿依古丽·买买提'],
    ['a bullet between parts', '阿依古丽•买买提', '阿依古丽·买买提'],
    ['a katakana middle dot between parts', '阿依古丽・买买提', '阿依古丽·买买提'],
    ['a full-width full stop between parts', '阿依古丽．买买提', '阿依古丽·买买提'],
    ['20 Chinese characters', '阿'.repeat(20), '阿'.repeat(20)],
    ['a Latin name', 'Zhang Jianguo', 'Zhang Jianguo'],
    ['extra spaces in a Latin name', '  Mary   Ann  ', 'Mary Ann'],
    ['an apostrophe', "O'Neil", "O'Neil"],
    ['a typographic apostrophe', 'O’Neil', "O'Neil"],
    ['a hyphen', 'Jean-Luc Picard', 'Jean-Luc Picard'],
    ['spaces around a hyphen', 'Anne - Marie', 'Anne-Marie'],
    ['accented letters', 'José Álvarez', 'José Álvarez'],
    ['40 characters', `${'A'.repeat(19)} ${'B'.repeat(20)}`, `${'A'.repeat(19)} ${'B'.repeat(20)}`],
  ])('when it is %s, then it is accepted normalized', (_b, raw, expected) => {
    expect(parsePersonName(raw)).toEqual({ ok: true, value: expected });
  });
});

describe('parsePersonName: rejected names', () => {
  it.each([
    ['a lone Chinese character', '张', 'too_short', { min: 2 }],
    ['a lone Latin letter', 'A', 'too_short', { min: 2 }],
    ['nothing', '   ', 'too_short', { min: 2 }],
    ['21 Chinese characters', '阿'.repeat(21), 'too_long', { max: 20 }],
    ['41 Latin characters', `${'A'.repeat(20)} ${'B'.repeat(20)}`, 'too_long', { max: 40 }],
    ['a digit', '张三1', 'digits', undefined],
    ['full-width digits', '张三１', 'digits', undefined],
    ['an emoji', '张三😀', 'characters', undefined],
    ['Chinese mixed with Latin letters', '张San', 'characters', undefined],
    ['a symbol', 'John!', 'characters', undefined],
    ['Cyrillic script', 'Иван', 'characters', undefined],
    ['a leading middle dot', '·买买提', 'format', undefined],
    ['a trailing dot', '买买提.', 'format', undefined],
    ['two dots in a row', '阿依古丽··买买提', 'format', undefined],
    ['a leading hyphen', '-John', 'format', undefined],
    ['doubled apostrophes', "O''Neil", 'format', undefined],
  ])('when it has %s, then the reason is %s', (_b, raw, reason, params) => {
    expect(parsePersonName(raw)).toEqual(params === undefined ? { ok: false, reason } : { ok: false, reason, params });
  });
});
