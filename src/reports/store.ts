import { and, desc, eq, isNull, lt, ne, or, sql } from 'drizzle-orm';
import type { Db } from '../store/db.js';
import { cityRecipients, reportRuns, type ReportStatus } from '../store/schema-reports.js';

export interface CityRecipients { city: string; emails: string[]; attach: boolean; updatedAt: Date }

export type ReportRun = typeof reportRuns.$inferSelect;

export interface ReportFile { path: string; size: number; sha256: string }

/** How long a claim holds when its holder vanishes (crashed worker): a retry by another holder waits this long. */
export const LEASE_MS = 10 * 60_000;

/** Recipients per city and the per-day run rows (the exactly-once ledger of deliveries). */
export function createReportStore(db: Db) {
  return {
    async recipients(city: string, tx?: Db): Promise<CityRecipients | null> {
      const [row] = await (tx ?? db).select().from(cityRecipients).where(eq(cityRecipients.city, city));
      return row ?? null;
    },

    async setRecipients(city: string, emails: readonly string[], attach: boolean, tx?: Db): Promise<CityRecipients> {
      const at = new Date();
      const [row] = await (tx ?? db).insert(cityRecipients)
        .values({ city, emails: [...emails], attach, updatedAt: at })
        .onConflictDoUpdate({ target: cityRecipients.city, set: { emails: [...emails], attach, updatedAt: at } })
        .returning();
      if (!row) throw new Error('recipients upsert returned no row');
      return row;
    },

    /** Cities that have recipients configured (they get a report even on a day without trips). */
    async recipientCities(tx?: Db): Promise<string[]> {
      const rows = await (tx ?? db).select({ city: cityRecipients.city }).from(cityRecipients)
        .where(sql`cardinality(${cityRecipients.emails}) > 0`);
      return rows.map((r) => r.city);
    },

    async run(city: string, date: string, tx?: Db): Promise<ReportRun | null> {
      const [row] = await (tx ?? db).select().from(reportRuns).where(and(eq(reportRuns.city, city), eq(reportRuns.date, date)));
      return row ?? null;
    },

    /**
     * Claims the (city, date) run for `holder`: the row is created when missing, and taken only when it is not sent
     * and nobody else holds a live lease (the same holder — a retried job — takes its own lease back).
     * Returns the claimed row, or null with the current row when it is sent or held by someone else.
     */
    async claim(city: string, date: string, holder: string, now: Date = new Date(), tx?: Db): Promise<{ claimed: ReportRun | null; current: ReportRun | null }> {
      const t = tx ?? db;
      await t.insert(reportRuns).values({ city, date }).onConflictDoNothing({ target: [reportRuns.city, reportRuns.date] });
      const [claimed] = await t.update(reportRuns)
        .set({ leaseHolder: holder, leaseUntil: new Date(now.getTime() + LEASE_MS), updatedAt: now })
        .where(and(
          eq(reportRuns.city, city), eq(reportRuns.date, date), ne(reportRuns.status, 'sent'),
          or(isNull(reportRuns.leaseHolder), eq(reportRuns.leaseHolder, holder), lt(reportRuns.leaseUntil, now)),
        ))
        .returning();
      if (claimed) return { claimed, current: claimed };
      return { claimed: null, current: await this.run(city, date, tx) };
    },

    /** Records the built file and counts; the status is left alone unless given (a sent run stays sent). */
    async recordFile(city: string, date: string, file: ReportFile, counts: Record<string, number>, status?: ReportStatus, tx?: Db): Promise<void> {
      const t = tx ?? db;
      await t.insert(reportRuns)
        .values({ city, date, status: status ?? 'built', filePath: file.path, fileSize: file.size, fileSha256: file.sha256, counts })
        .onConflictDoUpdate({
          target: [reportRuns.city, reportRuns.date],
          set: {
            filePath: file.path, fileSize: file.size, fileSha256: file.sha256, counts, updatedAt: new Date(),
            ...(status === undefined ? {} : { status: sql`case when ${reportRuns.status} = 'sent' then 'sent' else ${status} end` }),
          },
        });
    },

    /** Counts one delivery attempt before talking to the mail server (so a crash mid-send still shows it). */
    async countAttempt(city: string, date: string, holder: string, tx?: Db): Promise<void> {
      await (tx ?? db).update(reportRuns)
        .set({ attempts: sql`${reportRuns.attempts} + 1`, updatedAt: new Date() })
        .where(and(eq(reportRuns.city, city), eq(reportRuns.date, date), eq(reportRuns.leaseHolder, holder)));
    },

    /** Marks the run sent (only after the SMTP server accepted) and releases the lease. */
    async markSent(city: string, date: string, holder: string, fields: { messageId: string | null; recipientsCount: number; wechat: string | null }, tx?: Db): Promise<boolean> {
      const at = new Date();
      const rows = await (tx ?? db).update(reportRuns)
        .set({ status: 'sent', sentAt: at, lastError: null, leaseHolder: null, leaseUntil: null, updatedAt: at, ...fields })
        .where(and(eq(reportRuns.city, city), eq(reportRuns.date, date), eq(reportRuns.leaseHolder, holder)))
        .returning({ id: reportRuns.id });
      return rows.length > 0;
    },

    /** Ends a claim without sending: `built` (nothing to deliver to) or `failed` (with the reason; retried). */
    async release(city: string, date: string, holder: string, status: 'built' | 'failed', lastError: string | null, wechat: string | null = null, tx?: Db): Promise<void> {
      await (tx ?? db).update(reportRuns)
        .set({ status, lastError, wechat, leaseHolder: null, leaseUntil: null, updatedAt: new Date() })
        .where(and(eq(reportRuns.city, city), eq(reportRuns.date, date), eq(reportRuns.leaseHolder, holder), ne(reportRuns.status, 'sent')));
    },

    async list(filter: { city?: string | undefined; date?: string | undefined; limit: number }, tx?: Db): Promise<ReportRun[]> {
      return (tx ?? db).select().from(reportRuns)
        .where(and(
          filter.city === undefined ? undefined : eq(reportRuns.city, filter.city),
          filter.date === undefined ? undefined : eq(reportRuns.date, filter.date),
        ))
        .orderBy(desc(reportRuns.date), reportRuns.city)
        .limit(Math.max(1, Math.min(filter.limit, 1000)));
    },
  };
}

export type ReportStore = ReturnType<typeof createReportStore>;
