import { UnrecoverableError, type Job } from 'bullmq';
import { jobId, ValidateTripJob, type OutboundJob } from '../../src/contracts/jobs.js';
import { shanghaiMonthDayTime } from '../../src/engine/format.js';
import { renderText } from '../../src/i18n/render.js';
import { sealRecipient } from '../../src/security/recipient.js';
import type { Services } from '../../src/services.js';
import { overlappingTrips, type Alert, type Finding } from '../../src/store/oversight.js';
import type { Trip } from '../../src/store/trips.js';

/** Outbound attempts for an alert text; WeChat's quota errors (45015 window closed, 45047 count) end the job at once. */
const NOTIFY_OPTIONS = { attempts: 5, backoff: { type: 'exponential', delay: 2000 }, removeOnComplete: { age: 86_400 }, removeOnFail: { age: 7 * 86_400 } } as const;

/** What the checks found for one trip (pure over the loaded facts). */
export async function findingsFor(services: Services, trip: Trip, atDeparture: boolean): Promise<Finding[]> {
  const { passengers, watchlist } = services.repos;
  const base = { tripId: trip.id, city: trip.reportingCity };
  const findings: Finding[] = [];
  const counts = await passengers.counts(trip.id);
  if (counts.registered > trip.declaredCount) {
    findings.push({ ...base, kind: 'over_capacity', subject: 'trip', details: { registered: counts.registered, declared: trip.declaredCount } });
  }
  const seen = new Set<string>();
  for (const overlap of await overlappingTrips(services.database.db, trip)) {
    if (seen.has(overlap.passengerId)) continue;
    seen.add(overlap.passengerId);
    findings.push({ ...base, kind: 'duplicate_trip', subject: overlap.passengerId, details: { otherTripId: overlap.otherTripId, otherTripCode: overlap.otherTripCode } });
  }
  if (atDeparture && counts.registered < trip.declaredCount) {
    findings.push({ ...base, kind: 'missing_at_departure', subject: 'trip', details: { declared: trip.declaredCount, registered: counts.registered, missing: trip.declaredCount - counts.registered } });
  }
  for (const passengerId of await watchlist.hitsOnTrip(trip.id)) findings.push({ ...base, kind: 'watchlist', subject: passengerId, details: {} });
  return findings;
}

/** One line per alert in the reader's language; counts and trip codes only, never who. */
function alertLine(services: Services, locale: 'zh-CN' | 'en', alert: Alert): string {
  const params: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(alert.details)) if (typeof v === 'string' || typeof v === 'number') params[k] = v;
  return renderText(services.translator, locale, { key: `alerts.kinds.${alert.kind}`, params });
}

/**
 * The `validate` queue: runs the checks for a trip, stores new findings (deduplicated per trip + kind + subject) and
 * tells the trip's creator (its OA openid kept in the vault) in ONE customer-service text per run, so a busy trip
 * does not spend the user's customer-service quota; the outbound worker ends the job on WeChat's quota errors.
 */
export function createValidateProcessor(services: Services) {
  return async function processValidate(job: Job): Promise<string> {
    const parsed = ValidateTripJob.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`validate job ${job.id ?? '?'} has an invalid payload`);
    const { tripId, reason } = parsed.data;
    const trip = await services.repos.trips.byId(tripId);
    if (!trip) throw new UnrecoverableError('trip not found');
    if (trip.purgedAt !== null) return 'purged';
    const atDeparture = reason === 'departure' || Date.now() >= trip.departureAt.getTime();
    const created = await services.repos.alerts.record(await findingsFor(services, trip, atDeparture));
    if (created.length > 0) services.log.info({ jobId: job.id, tripId, kinds: created.map((a) => a.kind) }, 'validation findings');

    const pending = await services.repos.alerts.unnotified(trip.id);
    if (pending.length === 0) return `findings:${created.length}`;
    const contact = await services.repos.tripContacts.resolve(trip.id);
    if (!contact || contact.channel !== 'wechat' || !services.wechat?.api) return `findings:${created.length};unnotified:${pending.length}`;
    const lines = pending.map((a) => alertLine(services, contact.locale, a)).join('\n');
    const notice: OutboundJob = {
      kind: 'wechat-text', openid: sealRecipient(services.keys.session, contact.openid), key: 'alerts.driverNotice', locale: contact.locale,
      params: { plate: trip.plate, time: shanghaiMonthDayTime(trip.departureAt), code: trip.code, lines },
    };
    const first = pending[0];
    await services.queues.outbound.add('wechat-text', notice, { ...NOTIFY_OPTIONS, jobId: jobId('alert', trip.id, first ? first.id : 'none', String(pending.length)) });
    await services.repos.alerts.markNotified(pending.map((a) => a.id), new Date());
    return `findings:${created.length};notified:${pending.length}`;
  };
}
