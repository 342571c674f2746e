/**
 * The outcome of every parser in this folder. Bad input is never an exception: it is a `Rejection` carrying a
 * machine `reason` (listed per parser in `reasons.ts`) and the `params` its locale text may show.
 */
export type Rejection = { ok: false; reason: string; params?: Record<string, string | number> };
export type Accepted<T> = { ok: true; value: T };
export type Validated<T> = Accepted<T> | Rejection;

export function accept<T>(value: T): Accepted<T> {
  return { ok: true, value };
}

export function reject(reason: string, params?: Record<string, string | number>): Rejection {
  return params === undefined ? { ok: false, reason } : { ok: false, reason, params };
}
