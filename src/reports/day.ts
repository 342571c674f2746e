import { addDays, startOfChinaDate } from '../store/time.js';

/** Report days are calendar dates in Asia/Shanghai (UTC+8, no DST); a trip belongs to the day it departs. */
const CHINA_OFFSET_MS = 8 * 3_600_000;

/** True for a real calendar date written `YYYY-MM-DD` (`2026-02-30` is not one). */
export function isReportDate(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const at = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(at.getTime()) && at.toISOString().slice(0, 10) === value;
}

/** [from, to) of a report day: midnight to midnight China time. */
export function reportDayRange(date: string): { from: Date; to: Date } {
  const from = startOfChinaDate(date);
  return { from, to: addDays(from, 1) };
}

/** The China calendar date of an instant. */
export function chinaDate(at: Date): string {
  return new Date(at.getTime() + CHINA_OFFSET_MS).toISOString().slice(0, 10);
}

/** The China calendar date before the one `at` falls on (what the 06:00 run reports). */
export function previousChinaDate(at: Date): string {
  return chinaDate(addDays(at, -1));
}

/** `YYYY-MM-DD HH:mm` in China time (workbook cells and e-mails). */
export function chinaDateTime(at: Date): string {
  return new Date(at.getTime() + CHINA_OFFSET_MS).toISOString().slice(0, 16).replace('T', ' ');
}
