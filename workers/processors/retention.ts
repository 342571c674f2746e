import { UnrecoverableError, type Job } from 'bullmq';
import { z } from 'zod';
import { QUEUES } from '../../src/contracts/jobs.js';
import type { Services } from '../../src/services.js';
import { startQueueWorker, type QueueWorker } from '../queue-worker.js';
import { createRetention, type PurgeResult } from '../../src/store/retention.js';

/**
 * The `retention` queue: a daily job (job scheduler, 03:30 Asia/Shanghai) runs the same purge as `npm run purge`:
 * sensitive values of trips older than RETENTION_DAYS are deleted, counts stay, each run is audited. Dates only.
 */
export const RetentionJob = z.strictObject({ kind: z.literal('purge'), asOf: z.iso.datetime().optional() });
export type RetentionJob = z.infer<typeof RetentionJob>;

export const RETENTION_SCHEDULER = 'daily-retention';
export const RETENTION_CRON = '30 3 * * *';
export const RETENTION_TZ = 'Asia/Shanghai';

/** The purge as the worker and the CLI run it (actor names who started it in the audit log). */
export function runRetention(services: Pick<Services, 'database' | 'vault' | 'config' | 'repos'>, asOf: Date, actor: string): Promise<PurgeResult> {
  return createRetention({ db: services.database.db, vault: services.vault, retentionDays: services.config.retentionDays, audit: services.repos.audit })
    .purge(asOf, { actor });
}

export function createRetentionProcessor(services: Services) {
  return async function processRetention(job: Job): Promise<PurgeResult> {
    const parsed = RetentionJob.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`retention job ${job.id ?? '?'} has an invalid payload`);
    const asOf = parsed.data.asOf ? new Date(parsed.data.asOf) : new Date();
    const result = await runRetention(services, asOf, `job:${job.id ?? 'retention'}`);
    services.log.info({ jobId: job.id, asOf: asOf.toISOString(), ...result }, 'retention purge done');
    return result;
  };
}

/** The retention worker, its queue and the daily job scheduler (upsert: restarts never duplicate it). */
export async function startRetentionWorker(services: Services): Promise<QueueWorker> {
  const started = startQueueWorker(services, QUEUES.retention, () => createRetentionProcessor(services), { concurrency: 1 });
  await started.queue.upsertJobScheduler(
    RETENTION_SCHEDULER,
    { pattern: RETENTION_CRON, tz: RETENTION_TZ },
    { name: 'purge', data: { kind: 'purge' } satisfies RetentionJob, opts: { attempts: 5, backoff: { type: 'exponential', delay: 60_000 }, removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } } },
  );
  return started;
}
