import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Services } from '../../services.js';
import { InputError, NotFoundError } from '../../errors.js';
import { renderText } from '../../i18n/render.js';
import { enqueueTripValidation } from '../../oversight/hooks.js';
import { ALERT_KINDS } from '../../store/schema-oversight.js';
import { addDays, startOfChinaDate } from '../../store/time.js';
import { ID_TYPES, parseIdNumber, type IdType } from '../../validation/identity.js';
import { parsePersonName } from '../../validation/name.js';
import { parseMobile } from '../../validation/phone.js';
import { parseTripNumber } from '../../validation/trip-fields.js';
import { bearerDoc, zodDocs } from '../ops/docs.js';
import { assertCity, authenticate, parseOr400, tripJson } from './api.js';

/**
 * Issue 5 over the API: ticketing pre-registration, arrivals, the health watch list and the validation alerts.
 * Every call is authenticated by role, city-scoped where it touches trips, and audited with the key id.
 */

const TicketPassenger = z.object({
  ticketId: z.string().trim().min(1).max(64).describe('the ticketing system\'s own id; a repeat is accepted once (idempotent)'),
  name: z.string().max(100),
  idType: z.union([z.number(), z.string()]).describe('1-7 as in the chat menu: 1 resident ID, 2 HK/Macau permit, 3 Taiwan permit, 4 Chinese passport, 5 foreign permanent residence ID, 6 HK/Macau/Taiwan residence permit, 7 foreign passport'),
  idNumber: z.string().max(64),
  phone: z.string().max(32).nullable().optional().describe('mainland mobile; empty or null when the rider has none'),
});
const TicketingBody = z.object({
  tripNumber: z.string().trim().min(1).max(40),
  departureDate: z.iso.date().describe('YYYY-MM-DD, China time'),
  origin: z.string().trim().min(1).max(100),
  passengers: z.array(TicketPassenger).min(1).max(1000),
});

const CodeParams = z.object({ code: z.string().regex(/^\d{6}$/, 'expected the 6-digit trip code') });
export const ArrivalsBody = z.union([
  z.strictObject({ all: z.literal(true).describe('mark every registered passenger of the trip as arrived') }),
  z.strictObject({
    passengers: z.array(z.number().int().min(1)).min(1).max(999)
      .describe('1-based positions in the roster, in the order GET /api/v1/trips/:code/roster lists them (the numbers the chat shows)'),
  }),
]).describe('either { "all": true } or { "passengers": [1, 3, 5] } (roster positions, not ids)');

const WatchlistBody = z.object({
  idNumbers: z.array(z.string().trim().regex(/^[0-9A-Za-z\s-]{5,40}$/, 'expected a document number of 5-40 letters and digits')).min(1).max(10_000)
    .describe('identity numbers; only their keyed blind indexes are stored'),
});

const AlertsQuery = z.object({
  tripCode: z.string().regex(/^\d{6}$/, 'expected the 6-digit trip code').optional(),
  kind: z.enum(ALERT_KINDS).optional(),
  since: z.iso.date().optional().describe('YYYY-MM-DD, China time'),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});

interface Rejection { ticketId: string; code: string; message: string }

export async function oversightRoutes(app: FastifyInstance, opts: { services: Services }): Promise<void> {
  const { services } = opts;
  const { trips, passengers, audit, preregistrations, alerts, watchlist } = services.repos;
  const en = (field: string, key: string, params: Record<string, string | number> | undefined) => `${field}: ${renderText(services.translator, 'en', { key, ...(params ? { params } : {}) })}`;

  app.post('/api/v1/ticketing/passengers', {
    schema: bearerDoc({ summary: 'Pre-register passengers of a trip (role ticketing); idempotent by ticketId', tags: ['trips'] }),
    config: zodDocs({ body: TicketingBody }),
  }, async (request) => {
    const key = await authenticate(services, request, ['ticketing', 'admin']);
    const body = parseOr400(TicketingBody, request.body);
    const tripNumber = parseTripNumber(body.tripNumber);
    if (!tripNumber.ok || tripNumber.value === null) {
      throw new InputError('INPUT_INVALID', `tripNumber: ${tripNumber.ok ? 'a pre-registration needs a trip number' : renderText(services.translator, 'en', { key: `validation.tripNumber.${tripNumber.reason}`, params: tripNumber.params ?? {} })}`);
    }
    const now = new Date();
    const rejected: Rejection[] = [];
    const fresh: { id: string; phone: string }[] = [];
    let accepted = 0;
    for (const p of body.passengers) {
      const reject = (code: string, message: string) => { rejected.push({ ticketId: p.ticketId, code, message }); };
      const name = parsePersonName(p.name);
      if (!name.ok) { reject('NAME_INVALID', en('name', `validation.personName.${name.reason}`, name.params)); continue; }
      const idType = Number(p.idType);
      if (!Number.isInteger(idType) || idType < 1 || idType > 7) { reject('ID_TYPE_INVALID', `idType: expected 1-7 as in the chat menu, got ${String(p.idType).slice(0, 10)}`); continue; }
      const typeKey = ID_TYPES[idType - 1]?.key ?? 'resident_id';
      const idNumber = parseIdNumber(idType as IdType, p.idNumber, now);
      if (!idNumber.ok) { reject('ID_NUMBER_INVALID', en('idNumber', `validation.idNumber.${typeKey}.${idNumber.reason}`, idNumber.params)); continue; }
      let phone: string | null = null;
      if (p.phone !== undefined && p.phone !== null && p.phone.trim() !== '') {
        const parsed = parseMobile(p.phone);
        if (!parsed.ok) { reject('PHONE_INVALID', en('phone', `validation.mobile.${parsed.reason}`, parsed.params)); continue; }
        phone = parsed.value;
      }
      const stored = await preregistrations.upsert({
        ticketId: p.ticketId, tripNumber: tripNumber.value, departureDate: body.departureDate, originText: body.origin,
        name: name.value, idType, idNumber: idNumber.value, phone,
      });
      accepted += 1;
      if (!stored.duplicate && phone !== null) fresh.push({ id: stored.id, phone });
    }
    await audit.append({
      actor: `key:${key.id}`, action: 'ticketing.preregister', subject: tripNumber.value,
      details: { departureDate: body.departureDate, accepted, rejected: rejected.length, withPhone: fresh.length },
    });
    await inviteFresh(tripNumber.value, body.departureDate, fresh, key.id);
    return { accepted, rejected };
  });

  /**
   * SMS invitations for new pre-registrations that carry a phone, when the trip is already registered. The SMS layer
   * provides `inviteBySms` (ActionDeps); until it is wired this is a no-op and riders confirm by scanning.
   */
  async function inviteFresh(tripNumber: string, departureDate: string, fresh: { id: string; phone: string }[], keyId: string): Promise<void> {
    const invite = services.actionDeps.inviteBySms;
    if (!invite || fresh.length === 0) return;
    const from = startOfChinaDate(departureDate);
    const trip = (await trips.listByTripNumber(tripNumber, { from, to: addDays(from, 1) })).find((t) => t.status === 'open');
    if (!trip) return;
    for (const f of fresh) {
      try {
        await invite(trip, f.phone, `ticketing:${keyId}`);
      } catch (err) {
        services.log.warn({ err: err instanceof Error ? err.message : String(err), tripId: trip.id, preregistrationId: f.id }, 'ticketing SMS invitation failed');
      }
    }
  }

  app.post('/api/v1/trips/:code/arrivals', {
    schema: bearerDoc({ summary: 'Mark passengers arrived (role station): all, or by roster position', tags: ['trips'] }),
    config: zodDocs({ params: CodeParams, body: ArrivalsBody }),
  }, async (request) => {
    const key = await authenticate(services, request, ['station', 'admin']);
    const { code } = parseOr400(CodeParams, request.params);
    const body = parseOr400(ArrivalsBody, request.body);
    const trip = await trips.byCode(code);
    if (!trip) throw new NotFoundError('TRIP_NOT_FOUND', `no trip with code ${code}`);
    assertCity(key, trip);
    let chosen: string[] | 'all' = 'all';
    if ('passengers' in body) {
      const roster = await passengers.roster(trip.id);
      const beyond = body.passengers.filter((n) => n > roster.length);
      if (beyond.length > 0) {
        throw new InputError('INPUT_INVALID', `passengers: position ${beyond[0]} is beyond the roster (${roster.length} passengers)`, { details: { issues: [{ path: 'passengers', message: `expected positions 1-${roster.length}` }] } });
      }
      chosen = [...new Set(body.passengers)].map((n) => roster[n - 1]?.id ?? '').filter((id) => id !== '');
    }
    const marked = await passengers.markArrived(trip.id, chosen, new Date());
    const counts = await passengers.counts(trip.id);
    await audit.append({ actor: `key:${key.id}`, action: 'arrivals.mark', subject: trip.id, details: { marked, all: chosen === 'all', via: 'api' } });
    return { trip: tripJson(trip), marked, arrivedCount: counts.arrived, registeredCount: counts.registered, declaredCount: trip.declaredCount };
  });

  app.post('/api/v1/watchlist', {
    schema: bearerDoc({ summary: 'Add identity numbers to the watch list (role health); stored as blind indexes only', tags: ['trace'] }),
    config: zodDocs({ body: WatchlistBody }),
  }, async (request) => {
    const key = await authenticate(services, request, ['health', 'admin']);
    const body = parseOr400(WatchlistBody, request.body);
    const { added, blinds } = await watchlist.add(body.idNumbers, { addedBy: `key:${key.id}`, city: key.city });
    // Trips already carrying these people (departing from yesterday on) are checked again now.
    const tripIds = await watchlist.tripsCarrying(blinds, addDays(new Date(), -1));
    const batch = randomUUID();
    for (const tripId of tripIds) {
      const trip = await trips.byId(tripId);
      if (trip) await enqueueTripValidation(services.queues.validate, trip, 'watchlist', batch);
    }
    await audit.append({ actor: `key:${key.id}`, action: 'watchlist.add', details: { received: body.idNumbers.length, added, tripsRechecked: tripIds.length } });
    return { received: body.idNumbers.length, added, tripsRechecked: tripIds.length };
  });

  app.get('/api/v1/alerts', {
    schema: bearerDoc({ summary: 'Validation alerts (over capacity, same person on two trips, missing at departure, watch list), scoped by the key\'s city', tags: ['trace'] }),
    config: zodDocs({ querystring: AlertsQuery }),
  }, async (request) => {
    const key = await authenticate(services, request, ['authority', 'health', 'station', 'admin']);
    const q = parseOr400(AlertsQuery, request.query);
    let tripId: string | undefined;
    if (q.tripCode) {
      const trip = await trips.byCode(q.tripCode);
      if (!trip) throw new NotFoundError('TRIP_NOT_FOUND', `no trip with code ${q.tripCode}`);
      assertCity(key, trip);
      tripId = trip.id;
    }
    const city = key.city !== null && key.role !== 'admin' ? key.city : undefined;
    const list = await alerts.list({ city, tripId, kind: q.kind, since: q.since ? startOfChinaDate(q.since) : undefined, limit: q.limit });
    await audit.append({ actor: `key:${key.id}`, action: 'alerts.list', details: { role: key.role, city: key.city, count: list.length } });
    return {
      alerts: list.map((a) => ({
        id: a.id, kind: a.kind, trip: tripJson(a.trip),
        passengerId: a.subject === 'trip' ? null : a.subject,
        details: a.details, createdAt: a.createdAt.toISOString(), notified: a.notifiedAt !== null,
      })),
    };
  });
}
