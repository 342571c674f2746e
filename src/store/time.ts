const DAY_MS = 86_400_000;

/** `at` plus whole days (retention arithmetic; UTC, no DST in China). */
export function addDays(at: Date, days: number): Date {
  return new Date(at.getTime() + days * DAY_MS);
}

/** Start of a calendar date (`YYYY-MM-DD`) in China (UTC+8), the zone trip dates are given in. */
export function startOfChinaDate(date: string): Date {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new TypeError(`expected a YYYY-MM-DD date, got ${date.length} characters`);
  return new Date(`${date}T00:00:00+08:00`);
}
