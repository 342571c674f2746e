/**
 * Calendar arithmetic in Asia/Shanghai (UTC+8 all year: China has had no daylight saving time since 1991),
 * done with a fixed offset so it needs no time-zone database and gives the same answer on every host.
 */
const SHANGHAI_OFFSET_MS = 8 * 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

export type ShanghaiParts = {
  year: number;
  /** 1-12 */
  month: number;
  day: number;
  hour: number;
  minute: number;
  /** 0 = Sunday … 6 = Saturday */
  weekday: number;
};

/** The wall-clock reading in Shanghai at `date`. */
export function shanghaiParts(date: Date): ShanghaiParts {
  const shifted = new Date(date.getTime() + SHANGHAI_OFFSET_MS);
  return {
    year: shifted.getUTCFullYear(),
    month: shifted.getUTCMonth() + 1,
    day: shifted.getUTCDate(),
    hour: shifted.getUTCHours(),
    minute: shifted.getUTCMinutes(),
    weekday: shifted.getUTCDay(),
  };
}

/** The instant whose Shanghai wall clock reads the given values (no range checks: see isRealDate). */
export function shanghaiInstant(year: number, month: number, day: number, hour = 0, minute = 0): Date {
  return new Date(Date.UTC(year, month - 1, day, hour, minute) - SHANGHAI_OFFSET_MS);
}

/** Shanghai's calendar date `days` after the date of `date` (days may be negative). */
export function shanghaiDayPlus(date: Date, days: number): { year: number; month: number; day: number } {
  const { year, month, day } = shanghaiParts(new Date(date.getTime() + days * DAY_MS));
  return { year, month, day };
}

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** True when year-month-day exists in the Gregorian calendar (Feb 29 only in leap years, no Feb 30, no Apr 31). */
export function isRealDate(year: number, month: number, day: number): boolean {
  if (!Number.isInteger(year) || !Number.isInteger(month) || !Number.isInteger(day)) return false;
  if (month < 1 || month > 12 || day < 1) return false;
  const lengths = [31, isLeapYear(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  return day <= (lengths[month - 1] ?? 0);
}

export function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** `YYYY-MM-DD` of the Shanghai calendar date at `date`. */
export function shanghaiIsoDate(date: Date): string {
  const { year, month, day } = shanghaiParts(date);
  return `${year}-${pad2(month)}-${pad2(day)}`;
}
