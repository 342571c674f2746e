import { describe, expect, it } from 'vitest';
import { DEPARTURE_MAX_DAYS, formatShanghai, parseDepartureTime } from '../../src/validation/time.js';

/** Shanghai wall clock → instant (UTC+8). */
const sh = (local: string): Date => new Date(`${local}+08:00`);
/** 2025-11-26 10:00 in Shanghai. */
const NOW = sh('2025-11-26T10:00:00');

describe('parseDepartureTime: accepted forms', () => {
  it.each([
    ['HH:mm later today', '10:30', '2025-11-26T10:30:00'],
    ['HH:mm already passed today → tomorrow', '08:30', '2025-11-27T08:30:00'],
    ['H:mm', '8:30', '2025-11-27T08:30:00'],
    ['the full-width colon and digits', '０８：３０', '2025-11-27T08:30:00'],
    ['8点30', '8点30', '2025-11-27T08:30:00'],
    ['8点', '8点', '2025-11-27T08:00:00'],
    ['8点半', '8点半', '2025-11-27T08:30:00'],
    ['8时30分', '8时30分', '2025-11-27T08:30:00'],
    ['下午3点', '下午3点', '2025-11-26T15:00:00'],
    ['晚上8点', '晚上8点', '2025-11-26T20:00:00'],
    ['3pm', '3pm', '2025-11-26T15:00:00'],
    ['12pm is noon', '12pm', '2025-11-26T12:00:00'],
    ['中午12点 is noon', '中午12点', '2025-11-26T12:00:00'],
    ['12am is midnight', '12am', '2025-11-27T00:00:00'],
    ['晚上12点 is the midnight ending this evening', '晚上12点', '2025-11-27T00:00:00'],
    ['明天晚上12点 is the midnight ending tomorrow evening', '明天晚上12点', '2025-11-28T00:00:00'],
    ['明天 HH:mm', '明天 08:30', '2025-11-27T08:30:00'],
    ['明天 without a space', '明天8:30', '2025-11-27T08:30:00'],
    ['明天 with a Chinese time', '明天 下午 3点', '2025-11-27T15:00:00'],
    ['tomorrow HH:mm', 'tomorrow 08:30', '2025-11-27T08:30:00'],
    ['Tomorrow capitalised', 'Tomorrow 8:30', '2025-11-27T08:30:00'],
    ['今天 HH:mm', '今天 18:00', '2025-11-26T18:00:00'],
    ['后天 HH:mm', '后天 08:30', '2025-11-28T08:30:00'],
    ['YYYY-MM-DD HH:mm', '2025-11-28 08:30', '2025-11-28T08:30:00'],
    ['YYYY/MM/DD HH:mm', '2025/11/28 08:30', '2025-11-28T08:30:00'],
    ['YYYY年M月D日 HH:mm', '2025年11月28日 08:30', '2025-11-28T08:30:00'],
    ['MM-DD HH:mm', '11-28 08:30', '2025-11-28T08:30:00'],
    ['M月D日 H:mm', '11月28日 8:30', '2025-11-28T08:30:00'],
    ['M月D日 glued to the time', '11月28日8点', '2025-11-28T08:00:00'],
    ['exactly 7 days ahead', '2025-12-03 10:00', '2025-12-03T10:00:00'],
  ])('when it is %s, then it is that Shanghai time', (_b, raw, local) => {
    expect(parseDepartureTime(raw, NOW)).toEqual({ ok: true, value: sh(local) });
  });
});

describe('parseDepartureTime: a departure must be in the future', () => {
  it('when HH:mm passed a minute ago, then it is the next such time: tomorrow', () => {
    expect(parseDepartureTime('09:59', NOW)).toEqual({ ok: true, value: sh('2025-11-27T09:59:00') });
  });
  it('when HH:mm is the current minute, then it is tomorrow (not a departure in the past)', () => {
    expect(parseDepartureTime('10:00', sh('2025-11-26T10:00:30'))).toEqual({ ok: true, value: sh('2025-11-27T10:00:00') });
  });
  it('when HH:mm is a minute ahead, then it is today', () => {
    expect(parseDepartureTime('10:01', NOW)).toEqual({ ok: true, value: sh('2025-11-26T10:01:00') });
  });
  it('when a dated time passed a few minutes ago, then it is past', () => {
    expect(parseDepartureTime('2025-11-26 09:55', NOW)).toEqual({ ok: false, reason: 'past' });
    expect(parseDepartureTime('今天 09:55', NOW)).toEqual({ ok: false, reason: 'past' });
    expect(parseDepartureTime('11-26 09:55', NOW)).toEqual({ ok: false, reason: 'past' });
  });
  it('when a dated time is exactly now, then it is past', () => {
    expect(parseDepartureTime('2025-11-26 10:00', NOW)).toEqual({ ok: false, reason: 'past' });
  });
});

describe('parseDepartureTime: around midnight in Shanghai', () => {
  it('when it is 23:50 and the driver sends 00:10, then it is 00:10 the next Shanghai day', () => {
    const now = sh('2025-11-26T23:50:00');
    expect(parseDepartureTime('00:10', now)).toEqual({ ok: true, value: sh('2025-11-27T00:10:00') });
  });
  it('when it is 23:50 and the driver sends 23:55, then it is today', () => {
    const now = sh('2025-11-26T23:50:00');
    expect(parseDepartureTime('23:55', now)).toEqual({ ok: true, value: sh('2025-11-26T23:55:00') });
  });
  it('when it is 00:05 in Shanghai (the day before in UTC), then 明天 means the Shanghai day after', () => {
    const now = sh('2025-11-27T00:05:00');
    expect(parseDepartureTime('明天 08:30', now)).toEqual({ ok: true, value: sh('2025-11-28T08:30:00') });
  });
  it('when it is 00:05 in Shanghai, then 07:00 is later the same Shanghai day', () => {
    const now = sh('2025-11-27T00:05:00');
    expect(parseDepartureTime('07:00', now)).toEqual({ ok: true, value: sh('2025-11-27T07:00:00') });
  });
  it('when it is late December, then MM-DD in early January is next year', () => {
    const now = sh('2025-12-30T10:00:00');
    expect(parseDepartureTime('01-02 08:30', now)).toEqual({ ok: true, value: sh('2026-01-02T08:30:00') });
  });
});

describe('parseDepartureTime: rejected times', () => {
  it.each([
    ['8 days ahead', '2025-12-04 08:30', 'too_far', { days: DEPARTURE_MAX_DAYS }],
    ['one minute past 7 days', '2025-12-03 10:01', 'too_far', { days: 7 }],
    ['8 days ahead without a year', '12-04 08:30', 'too_far', { days: 7 }],
    ['yesterday', '2025-11-25 08:30', 'past', undefined],
    ['yesterday without a year', '11-25 08:30', 'past', undefined],
    ['earlier today with 今天', '今天 08:00', 'past', undefined],
    ['Feb 29 of a non-leap year', '2025-02-29 08:30', 'date', undefined],
    ['Feb 30', '02-30 08:30', 'date', undefined],
    ['month 13', '2025-13-01 08:30', 'date', undefined],
    ['a bare number', '8', 'format', undefined],
    ['hour 25', '25:00', 'format', undefined],
    ['minute 60', '08:60', 'format', undefined],
    ['a date without a time', '明天', 'format', undefined],
    ['four digits without a colon', '0830', 'format', undefined],
    ['words', '早点走', 'format', undefined],
    ['an object property name as the day', 'constructor 08:30', 'format', undefined],
    ['nothing', '', 'format', undefined],
  ])('when it is %s, then the reason is %s', (_b, raw, reason, params) => {
    expect(parseDepartureTime(raw, NOW)).toEqual(params === undefined ? { ok: false, reason } : { ok: false, reason, params });
  });
});

describe('formatShanghai', () => {
  const departure = sh('2025-11-26T08:30:00');
  it.each([
    ['date', '2025-11-26'],
    ['time', '08:30'],
    ['datetime', '2025-11-26 08:30'],
    ['md_hm', '11/26 08:30'],
    ['md_hm_zh', '11月26日 08:30'],
  ] as const)('when the style is %s, then it renders %s', (style, expected) => {
    expect(formatShanghai(departure, style)).toBe(expected);
  });
  it('when the instant is 16:30 UTC, then it shows the next Shanghai day', () => {
    expect(formatShanghai(new Date('2025-11-26T16:30:00Z'), 'datetime')).toBe('2025-11-27 00:30');
  });
  it('when month and day are single digits, then md_hm pads them and md_hm_zh does not', () => {
    const date = sh('2026-01-05T08:00:00');
    expect([formatShanghai(date, 'md_hm'), formatShanghai(date, 'md_hm_zh')]).toEqual(['01/05 08:00', '1月5日 08:00']);
  });
});
