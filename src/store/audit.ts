import { and, desc, eq, gte, lt } from 'drizzle-orm';
import type { Db } from './db.js';
import { auditLog } from './schema.js';

export interface AuditInput {
  /** API key id, staff id, or 'system'. */
  actor: string;
  action: string;
  subject?: string | null | undefined;
  reason?: string | null | undefined;
  /** Ids, counts, masked values: never plain-text personal data (phone- and ID-like digit runs are redacted). */
  details?: Record<string, unknown> | null | undefined;
}

export interface AuditEntry {
  id: number;
  at: Date;
  actor: string;
  action: string;
  subject: string | null;
  reason: string | null;
  details: Record<string, unknown> | null;
}

export interface AuditQuery {
  from?: Date | undefined;
  to?: Date | undefined;
  actor?: string | undefined;
  action?: string | undefined;
  limit: number;
}

const REDACTED = '[redacted]';
// Mainland mobile numbers and 15/18-character resident ID numbers standing alone (not inside a uuid or word).
const PII_PATTERNS = [
  /(?<![0-9A-Za-z-])(?:\+?86)?1[3-9]\d{9}(?![0-9A-Za-z])/g,
  /(?<![0-9A-Za-z-])\d{17}[\dXx](?![0-9A-Za-z-])/g,
  /(?<![0-9A-Za-z-])\d{15}(?![0-9A-Za-z-])/g,
];

/** Replaces phone- and identity-number-like digit runs; a last guard, callers should not pass them at all. */
export function redactPii(text: string): string {
  return PII_PATTERNS.reduce((acc, pattern) => acc.replace(pattern, REDACTED), text);
}

function redactValue(value: unknown): unknown {
  if (typeof value === 'string') return redactPii(value);
  if (Array.isArray(value)) return value.map(redactValue);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactValue(v)]));
  }
  return value;
}

export function createAuditRepository({ db }: { db: Db }) {
  return {
    /** Appends one entry (inside the caller's transaction when given); returns its id. */
    async append(input: AuditInput, tx?: Db): Promise<number> {
      const [row] = await (tx ?? db).insert(auditLog).values({
        actor: input.actor,
        action: input.action,
        subject: input.subject == null ? null : redactPii(input.subject),
        reason: input.reason == null ? null : redactPii(input.reason),
        details: input.details == null ? null : (redactValue(input.details) as Record<string, unknown>),
      }).returning({ id: auditLog.id });
      if (!row) throw new Error('audit insert returned no row');
      return row.id;
    },

    /** Entries in [from, to), newest first. */
    async list(query: AuditQuery, tx?: Db): Promise<AuditEntry[]> {
      const rows = await (tx ?? db).select().from(auditLog)
        .where(and(
          query.from === undefined ? undefined : gte(auditLog.at, query.from),
          query.to === undefined ? undefined : lt(auditLog.at, query.to),
          query.actor === undefined ? undefined : eq(auditLog.actor, query.actor),
          query.action === undefined ? undefined : eq(auditLog.action, query.action),
        ))
        .orderBy(desc(auditLog.id))
        .limit(Math.max(1, Math.min(query.limit, 10_000)));
      return rows.map((r) => ({ ...r, details: r.details ?? null }));
    },
  };
}

export type AuditRepository = ReturnType<typeof createAuditRepository>;
