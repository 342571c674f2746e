import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import { jobId, type ValidateTripJob } from '../contracts/jobs.js';
import type { RegistrationEvent, SavedProfile, TripFacts } from '../conversation/actions.js';
import type { TripContactRepository } from '../store/oversight.js';
import type { PreregistrationRepository } from '../store/preregistrations.js';
import { addDays } from '../store/time.js';
import type { Trip } from '../store/trips.js';
import { shanghaiIsoDate } from '../validation/calendar.js';

export interface OversightHookDeps {
  preregistrations: PreregistrationRepository;
  tripContacts: TripContactRepository;
  validateQueue: Queue;
  retentionDays: number;
  log: Logger;
}

const VALIDATE_ATTEMPTS = { attempts: 5, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: { age: 86_400, count: 10_000 }, removeOnFail: { age: 7 * 86_400 } } as const;

/** Queues a trip check (ids only in the job). `key` makes the job id unique per cause, so a retried turn queues it once. */
export async function enqueueTripValidation(queue: Queue, trip: Pick<Trip, 'id' | 'departureAt'>, reason: ValidateTripJob['reason'], key: string, now = new Date()): Promise<void> {
  const data: ValidateTripJob = { kind: 'validate-trip', tripId: trip.id, reason };
  const delay = reason === 'departure' ? Math.max(0, trip.departureAt.getTime() - now.getTime()) : 0;
  await queue.add('validate-trip', data, { ...VALIDATE_ATTEMPTS, jobId: jobId('validate', reason, trip.id, key), delay });
}

/** The trip's departure date in China, as ticketing systems give it. */
export function tripDepartureDate(trip: Pick<Trip, 'departureAt'>): string {
  return shanghaiIsoDate(trip.departureAt);
}

/**
 * The action hooks of issue 5: pre-registration lookup (by trip number + departure date + typed document number or
 * phone), claiming it once the rider is registered, the trip contact for alerts, and validation jobs.
 */
export function createOversightHooks(deps: OversightHookDeps) {
  const { preregistrations, tripContacts, validateQueue, log } = deps;

  async function findPreregistration(trip: TripFacts, by: { idType: number; idNumber: string } | { phone: string }): Promise<SavedProfile | null> {
    if (!trip.tripNumber) return null;
    const found = await preregistrations.findForRider({
      tripNumber: trip.tripNumber, departureDate: tripDepartureDate(trip),
      ...('idNumber' in by ? { idNumber: by.idNumber } : { phone: by.phone }),
    });
    if (!found) return null;
    return { name: found.name, idType: found.idType, idNumber: found.idNumber, phone: found.phone, addressBefore: null, addressBeijing: null };
  }

  async function afterRegistration(event: RegistrationEvent): Promise<void> {
    const { trip, passengerId } = event;
    try {
      if (trip.tripNumber && event.preregistrationMatched !== false) {
        // Claimed by the document number the rider confirmed: a shared family phone never claims someone else's ticket.
        const prereg = await preregistrations.findForRider({ tripNumber: trip.tripNumber, departureDate: tripDepartureDate(trip), idNumber: event.idNumber });
        if (prereg && await preregistrations.claim(prereg.id, passengerId)) log.info({ tripId: trip.id, passengerId, preregistrationId: prereg.id }, 'pre-registration claimed');
      }
      await enqueueTripValidation(validateQueue, trip, 'registration', passengerId);
      await enqueueTripValidation(validateQueue, trip, 'departure', 'at');
    } catch (err) {
      // The registration itself is committed; a missed check is caught by the departure run.
      log.warn({ err: err instanceof Error ? err.message : String(err), tripId: trip.id, passengerId }, 'post-registration work failed');
    }
  }

  async function afterTripCreated(trip: Trip, by: { channel: string; userId: string; locale: string }): Promise<void> {
    try {
      if (by.channel === 'wechat') {
        await tripContacts.remember(trip.id, { channel: by.channel, openid: by.userId, locale: by.locale, purgeAfter: addDays(trip.departureAt, deps.retentionDays) });
      }
      await enqueueTripValidation(validateQueue, trip, 'departure', 'at');
    } catch (err) {
      log.warn({ err: err instanceof Error ? err.message : String(err), tripId: trip.id }, 'post-trip-creation work failed');
    }
  }

  return { findPreregistration, afterRegistration, afterTripCreated };
}
