import type { JobsOptions, Queue } from 'bullmq';
import { z } from 'zod';
import { jobId } from '../contracts/jobs.js';

/**
 * Jobs of the `report` queue (src/contracts/jobs.ts QUEUES.report): the daily fan-out fired by the job scheduler,
 * and one job per city and day. Ids and dates only.
 */
export const DailyReportJob = z.strictObject({ kind: z.literal('daily'), date: z.iso.date().optional() });
export const CityReportJob = z.strictObject({ kind: z.literal('city'), city: z.string().regex(/^\d{6}$/), date: z.iso.date() });
export const ReportJob = z.discriminatedUnion('kind', [DailyReportJob, CityReportJob]);
export type ReportJob = z.infer<typeof ReportJob>;

export const DAILY_REPORT_SCHEDULER = 'daily-report';
export const REPORT_TZ = 'Asia/Shanghai';

/** `REPORT_TIME` (`HH:mm`, China time) as a cron pattern: `06:00` → `0 6 * * *`. */
export function reportCron(reportTime: string): string {
  const match = /^(\d{2}):(\d{2})$/.exec(reportTime);
  const hours = Number(match?.[1]);
  const minutes = Number(match?.[2]);
  if (!match || hours > 23 || minutes > 59) throw new TypeError(`REPORT_TIME: expected HH:mm (00:00-23:59), got ${reportTime.length} characters`);
  return `${minutes} ${hours} * * *`;
}

export function cityReportJobId(city: string, date: string): string {
  return jobId('report', city, date);
}

export interface ReportRetry {
  /** Delivery attempts per city and day. */
  attempts: number;
  /** First retry delay; doubles each time. */
  backoffMs: number;
}

export const DEFAULT_REPORT_RETRY: ReportRetry = { attempts: 8, backoffMs: 60_000 };

export function cityJobOptions(city: string, date: string, retry: ReportRetry = DEFAULT_REPORT_RETRY): JobsOptions {
  return {
    jobId: cityReportJobId(city, date),
    attempts: retry.attempts,
    backoff: { type: 'exponential', delay: retry.backoffMs },
    removeOnComplete: { count: 1000 },
    removeOnFail: { count: 5000 },
  };
}

/** Queues one city's report for a day; a second add of the same city and day is a no-op (same job id). */
export async function enqueueCityReport(queue: Queue, city: string, date: string, retry: ReportRetry = DEFAULT_REPORT_RETRY): Promise<void> {
  await queue.add('city', { kind: 'city', city, date } satisfies ReportJob, cityJobOptions(city, date, retry));
}

/** The repeatable daily fan-out at REPORT_TIME in Asia/Shanghai (upsert: restarting workers never duplicates it). */
export async function scheduleDailyReports(queue: Queue, reportTime: string): Promise<void> {
  await queue.upsertJobScheduler(
    DAILY_REPORT_SCHEDULER,
    { pattern: reportCron(reportTime), tz: REPORT_TZ },
    { name: 'daily', data: { kind: 'daily' } satisfies ReportJob, opts: { attempts: 3, backoff: { type: 'exponential', delay: 30_000 }, removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } } },
  );
}
