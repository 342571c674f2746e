import { Queue, UnrecoverableError, type Job } from 'bullmq';
import { QUEUES } from '../../src/contracts/jobs.js';
import type { Services } from '../../src/services.js';
import { startQueueWorker, type QueueWorker } from '../queue-worker.js';
import { citiesWithTrips } from '../../src/reports/data.js';
import { previousChinaDate, reportDayRange } from '../../src/reports/day.js';
import { runCityReport } from '../../src/reports/deliver.js';
import { DEFAULT_REPORT_RETRY, ReportJob, cityJobOptions, scheduleDailyReports, type ReportRetry } from '../../src/reports/jobs.js';
import { createReportStore } from '../../src/reports/store.js';

/** Every city that gets a report for the day: those with trips, and those with recipients (an empty day is news too). */
export async function reportCities(services: Services, date: string): Promise<string[]> {
  const [withTrips, withRecipients] = await Promise.all([
    citiesWithTrips(services.database.db, reportDayRange(date)),
    createReportStore(services.database.db).recipientCities(),
  ]);
  return [...new Set([...withTrips, ...withRecipients])].sort();
}

/**
 * The `report` queue: `daily` (fired by the job scheduler at REPORT_TIME) fans out one `city` job per city for the
 * previous day; a `city` job builds the workbook and delivers it exactly once (src/reports/deliver.ts). A failed
 * delivery throws, so BullMQ retries it with exponential backoff.
 */
export function createReportProcessor(services: Services, queue: Queue, retry: ReportRetry = DEFAULT_REPORT_RETRY) {
  return async function processReport(job: Job): Promise<string> {
    const parsed = ReportJob.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`report job ${job.id ?? '?'} has an invalid payload`);
    const data = parsed.data;
    switch (data.kind) {
      case 'daily': {
        // The scheduler creates each run ahead with a delay: timestamp + delay is the instant it was due.
        const due = new Date(job.timestamp + (job.opts.delay ?? 0));
        const date = data.date ?? previousChinaDate(due);
        const cities = await reportCities(services, date);
        await queue.addBulk(cities.map((city) => ({ name: 'city', data: { kind: 'city', city, date } satisfies ReportJob, opts: cityJobOptions(city, date, retry) })));
        services.log.info({ jobId: job.id, date, cities: cities.length }, 'daily reports queued');
        return `queued ${cities.length}`;
      }
      case 'city': {
        const outcome = await runCityReport(services, { city: data.city, date: data.date, send: true, holder: `job:${job.id ?? 'unknown'}` });
        return outcome.status;
      }
      default: {
        const never: never = data;
        throw new UnrecoverableError(`unknown report job ${JSON.stringify(never)}`);
      }
    }
  };
}

/** The report worker, its queue (fan-out target) and the daily job scheduler from REPORT_TIME. */
export async function startReportWorker(services: Services, retry: ReportRetry = DEFAULT_REPORT_RETRY): Promise<QueueWorker> {
  const started = startQueueWorker(services, QUEUES.report, (queue) => createReportProcessor(services, queue, retry), { concurrency: 2 });
  await scheduleDailyReports(started.queue, services.config.reportTime);
  return started;
}
