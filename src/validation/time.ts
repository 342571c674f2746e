/**
 * Departure times as drivers type them, read in Asia/Shanghai whatever the server's time zone, plus the
 * formatting helpers replies use. All arithmetic is in calendar.ts (fixed UTC+8).
 */
import { isRealDate, pad2, shanghaiDayPlus, shanghaiInstant, shanghaiParts } from './calendar.js';
import { normalizeText } from './normalize.js';
import type { ReasonOf } from './reasons.js';
import { accept, reject, type Rejection, type Validated } from './result.js';

/**
 * A departure must lie in the future (issue 2: "must be in the future and within 7 days"; contract: `HH:mm` = the
 * NEXT such time). A minute that has just passed is no exception: `HH:mm` then means tomorrow, a dated time is `past`.
 * The latest departure accepted is DEPARTURE_MAX_DAYS from now.
 */
export const DEPARTURE_MAX_DAYS = 7;

const MINUTE_MS = 60 * 1000;
const DAY_MS = 24 * 60 * MINUTE_MS;

type DepartureReason = ReasonOf<'departureTime'>;
const fail = (reason: DepartureReason, params?: Record<string, number>): Rejection => reject(reason, params);

/** `nextDay`: 晚上12点 is the midnight that ends the evening, i.e. 00:00 of the following day. */
type ClockTime = { hour: number; minute: number; nextDay: boolean };
type DatePart =
  | { kind: 'none' }
  | { kind: 'relative'; days: number }
  | { kind: 'month_day'; month: number; day: number }
  | { kind: 'full'; year: number; month: number; day: number };

const AFTERNOON = new Set(['下午', '晚上', '傍晚', 'pm']);
const MORNING = new Set(['上午', '早上', '早晨', '凌晨', 'am']);

/**
 * `8:30`, `08:30`, `8点`, `8点30`, `8点30分`, `8点半`, `8时30分`, with an optional 上午/下午/晚上… before it
 * or am/pm after it. Full-width digits and the full-width colon have become ASCII by then (NFKC).
 */
const TIME = /^(?:(上午|早上|早晨|凌晨|中午|下午|晚上|傍晚)\s*)?(\d{1,2})(?::(\d{2})|[点时](?:(\d{1,2})分?|(半))?)?\s*(am|pm)?$/;

function parseClock(text: string): ClockTime | null {
  const m = TIME.exec(text);
  if (!m) return null;
  const [, zhPeriod, hourText = '', colonMinute, zhMinute, half, enPeriod] = m;
  // A bare number is not a time ("8" could be a passenger count); it needs ':', 点/时 or am/pm.
  if (colonMinute === undefined && !/[点时]/.test(text) && enPeriod === undefined) return null;
  let hour = Number(hourText);
  const minute = half !== undefined ? 30 : Number(colonMinute ?? zhMinute ?? 0);
  if (minute > 59) return null;
  const period = zhPeriod ?? enPeriod;
  if (period === '晚上' && hour === 12) return { hour: 0, minute, nextDay: true };
  if (period !== undefined) {
    if (hour > 12) return null;
    if (AFTERNOON.has(period) && hour < 12) hour += 12;
    else if (period === '中午' && hour <= 2) hour += 12;
    else if (MORNING.has(period) && hour === 12) hour = 0;
  }
  if (hour > 23) return null;
  return { hour, minute, nextDay: false };
}

const RELATIVE_DAYS: ReadonlyMap<string, number> = new Map([['今天', 0], ['today', 0], ['明天', 1], ['tomorrow', 1], ['后天', 2]]);
const FULL_DATE = /^(\d{4})(?:[-/.](\d{1,2})[-/.](\d{1,2})|年(\d{1,2})月(\d{1,2})[日号]?)$/;
const MONTH_DAY = /^(?:(\d{1,2})[-/.](\d{1,2})|(\d{1,2})月(\d{1,2})[日号]?)$/;

function parseDatePart(text: string): DatePart | null {
  if (text === '') return { kind: 'none' };
  const relative = RELATIVE_DAYS.get(text);
  if (relative !== undefined) return { kind: 'relative', days: relative };
  const full = FULL_DATE.exec(text);
  if (full) {
    return { kind: 'full', year: Number(full[1]), month: Number(full[2] ?? full[4]), day: Number(full[3] ?? full[5]) };
  }
  const md = MONTH_DAY.exec(text);
  if (md) return { kind: 'month_day', month: Number(md[1] ?? md[3]), day: Number(md[2] ?? md[4]) };
  return null;
}

/** Splits "<date> <time>"; the space may be missing after a Chinese date (`明天8:30`, `11月26日8点`). */
function splitDateTime(text: string): { date: string; time: string } {
  if (text.includes(' ')) {
    // "11-26 08:30", "明天 8:30", also "明天 下午 3点": try each space from the left.
    const parts = text.split(' ');
    for (let i = 1; i < parts.length; i += 1) {
      const date = parts.slice(0, i).join(' ');
      const time = parts.slice(i).join(' ');
      if (parseDatePart(date) && parseClock(time)) return { date, time };
    }
  }
  const glued = /^(今天|明天|后天|\d{4}年\d{1,2}月\d{1,2}[日号]?|\d{1,2}月\d{1,2}[日号]?)(.+)$/.exec(text);
  if (glued?.[1] !== undefined && glued[2] !== undefined) return { date: glued[1], time: glued[2].trim() };
  return { date: '', time: text };
}

/**
 * A departure time, as the instant it denotes in Asia/Shanghai. Accepted forms (contract: DESIGN.md):
 * `YYYY-MM-DD HH:mm` (also `/` or `.` between parts, or `2025年11月26日`), `MM-DD HH:mm` (also `11月26日`;
 * the year is this year, or next year when this year's date has passed and next year's is within the window),
 * `HH:mm` (the next such time: today when it is still ahead, else tomorrow), `明天 HH:mm` /
 * `tomorrow HH:mm` (and `今天`/`today`, `后天`), and for every time part `H:mm`, `8点`, `8点30`, `8点半`,
 * `下午3点`, `3pm`.
 * Reasons: `format` (not one of these), `date` (no such calendar date, e.g. 02-30), `past` (not after now), `too_far` {days} (more than DEPARTURE_MAX_DAYS ahead).
 */
export function parseDepartureTime(raw: string, now: Date): Validated<Date> {
  const text = normalizeText(raw).toLowerCase();
  const split = splitDateTime(text);
  const datePart = parseDatePart(split.date);
  const clock = parseClock(split.time);
  if (!datePart || !clock) return fail('format');

  const nowMs = now.getTime();
  const latest = nowMs + DEPARTURE_MAX_DAYS * DAY_MS;
  const at = (year: number, month: number, day: number): Date =>
    shanghaiInstant(year, month, day + (clock.nextDay ? 1 : 0), clock.hour, clock.minute);
  const inWindow = (date: Date): Validated<Date> => {
    if (date.getTime() <= nowMs) return fail('past');
    if (date.getTime() > latest) return fail('too_far', { days: DEPARTURE_MAX_DAYS });
    return accept(date);
  };

  switch (datePart.kind) {
    case 'none': {
      const today = shanghaiDayPlus(now, 0);
      const candidate = at(today.year, today.month, today.day);
      if (candidate.getTime() > nowMs) return accept(candidate);
      const tomorrow = shanghaiDayPlus(now, 1);
      return accept(at(tomorrow.year, tomorrow.month, tomorrow.day));
    }
    case 'relative': {
      const day = shanghaiDayPlus(now, datePart.days);
      return inWindow(at(day.year, day.month, day.day));
    }
    case 'month_day': {
      const { year } = shanghaiParts(now);
      if (!isRealDate(year, datePart.month, datePart.day)) return fail('date');
      const thisYear = at(year, datePart.month, datePart.day);
      if (thisYear.getTime() > nowMs) return inWindow(thisYear);
      // This year's date has passed: late in December "01-02" means next year; otherwise it is a slip.
      if (isRealDate(year + 1, datePart.month, datePart.day)) {
        const nextYear = at(year + 1, datePart.month, datePart.day);
        if (nextYear.getTime() <= latest) return accept(nextYear);
      }
      return fail('past');
    }
    case 'full': {
      if (!isRealDate(datePart.year, datePart.month, datePart.day)) return fail('date');
      return inWindow(at(datePart.year, datePart.month, datePart.day));
    }
    default: {
      const unreachable: never = datePart;
      throw new TypeError(`unknown date form ${JSON.stringify(unreachable)}`);
    }
  }
}

/**
 * Locale-free renderings of an instant in Shanghai time; callers (locale texts) pick one:
 * `date` 2025-11-26, `time` 08:30, `datetime` 2025-11-26 08:30, `md_hm` 11/26 08:30 (short, for SMS),
 * `md_hm_zh` 11月26日 08:30 (month and day not zero-padded).
 */
export type ShanghaiFormat = 'date' | 'time' | 'datetime' | 'md_hm' | 'md_hm_zh';

export function formatShanghai(date: Date, style: ShanghaiFormat): string {
  const { year, month, day, hour, minute } = shanghaiParts(date);
  const time = `${pad2(hour)}:${pad2(minute)}`;
  switch (style) {
    case 'date': return `${year}-${pad2(month)}-${pad2(day)}`;
    case 'time': return time;
    case 'datetime': return `${year}-${pad2(month)}-${pad2(day)} ${time}`;
    case 'md_hm': return `${pad2(month)}/${pad2(day)} ${time}`;
    case 'md_hm_zh': return `${month}月${day}日 ${time}`;
    default: {
      const unreachable: never = style;
      throw new TypeError(`unknown format ${String(unreachable)}`);
    }
  }
}
