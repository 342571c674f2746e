import { describe, expect, it } from 'vitest';
import { parseAddress, parseMenuChoice, parsePassengerCount, parseTripCode, parseTripNumber } from '../../src/validation/trip-fields.js';

describe('parsePassengerCount', () => {
  it.each([['40', 40], ['1', 1], ['99', 99], ['４０', 40], [' 40 ', 40], ['040', 40]])('when it is %j, then the count is %i', (raw, expected) => {
    expect(parsePassengerCount(raw)).toEqual({ ok: true, value: expected });
  });
  it.each([['0'], ['100'], ['12345']])('when it is %j, then it is out of range', (raw) => {
    expect(parsePassengerCount(raw)).toEqual({ ok: false, reason: 'range', params: { min: 1, max: 99 } });
  });
  it.each([['四十'], ['40人'], ['-5'], ['4 0'], ['4.5'], ['']])('when it is %j, then it asks for digits', (raw) => {
    expect(parsePassengerCount(raw)).toEqual({ ok: false, reason: 'format' });
  });
});

describe('parseTripNumber', () => {
  it.each([['无'], ['没有'], ['none'], ['NONE'], [' 无 '], ['暂无']])('when it is %j, then there is no trip number', (raw) => {
    expect(parseTripNumber(raw)).toEqual({ ok: true, value: null });
  });
  it.each([
    ['K1234', 'K1234'],
    ['k1234', 'K1234'],
    ['G-1234', 'G-1234'],
    ['K 1234', 'K1234'],
    ['Ｋ１２３４', 'K1234'],
    ['A'.repeat(20), 'A'.repeat(20)],
  ])('when it is %j, then the trip number is %j', (raw, expected) => {
    expect(parseTripNumber(raw)).toEqual({ ok: true, value: expected });
  });
  it.each([['K1234!'], ['班次1'], ['-'], ['']])('when it is %j, then the format is wrong', (raw) => {
    expect(parseTripNumber(raw)).toEqual({ ok: false, reason: 'format' });
  });
  it('when it has 21 characters, then it is too long', () => {
    expect(parseTripNumber('A'.repeat(21))).toEqual({ ok: false, reason: 'too_long', params: { max: 20 } });
  });
});

describe('parseAddress', () => {
  it.each([
    ['a full address', '辽宁省沈阳市和平区南京北街1号', '辽宁省沈阳市和平区南京北街1号'],
    ['surrounding and repeated spaces', '  北京市朝阳区  建国路2号 ', '北京市朝阳区 建国路2号'],
    ['exactly 5 characters', '沈阳市和平', '沈阳市和平'],
    ['exactly 100 characters', '路'.repeat(100), '路'.repeat(100)],
    ['an English address', '1 Nanjing North Street, Heping District, Shenyang', '1 Nanjing North Street, Heping District, Shenyang'],
  ])('when it is %s, then it is accepted normalized', (_b, raw, expected) => {
    expect(parseAddress(raw)).toEqual({ ok: true, value: expected });
  });
  it.each([
    ['4 characters', '沈阳和平', 'too_short', { min: 5 }],
    ['nothing', '', 'too_short', { min: 5 }],
    ['101 characters', '路'.repeat(101), 'too_long', { max: 100 }],
    ['only digits', '12345678', 'format', undefined],
    ['only symbols', '-----', 'format', undefined],
  ])('when it is %s, then the reason is %s', (_b, raw, reason, params) => {
    expect(parseAddress(raw)).toEqual(params === undefined ? { ok: false, reason } : { ok: false, reason, params });
  });
});

describe('parseTripCode', () => {
  it.each([['482913', '482913'], ['４８２９１３', '482913'], ['482 913', '482913'], ['012345', '012345']])('when it is %j, then the code is %j', (raw, expected) => {
    expect(parseTripCode(raw)).toEqual({ ok: true, value: expected });
  });
  it.each([['48291'], ['4829134'], ['abcdef'], ['']])('when it is %j, then the format is wrong', (raw) => {
    expect(parseTripCode(raw)).toEqual({ ok: false, reason: 'format' });
  });
});

describe('parseMenuChoice', () => {
  it.each([['1', 1], ['3', 3], ['１', 1], [' 2 ', 2]])('when it is %j of 3, then the choice is %i', (raw, expected) => {
    expect(parseMenuChoice(raw, 3)).toEqual({ ok: true, value: expected });
  });
  it.each([['0'], ['4'], ['a'], [''], ['-1'], ['1.5']])('when it is %j of 3, then it asks for a listed number', (raw) => {
    expect(parseMenuChoice(raw, 3)).toEqual({ ok: false, reason: 'choice', params: { max: 3 } });
  });
});
