import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Services } from '../../services.js';
import { AuthError, ForbiddenError, InputError, NotFoundError } from '../../errors.js';
import { maskIdNumber, maskName, maskPhone } from '../../security/mask.js';
import type { ApiKeyRecord } from '../../store/api-keys.js';
import type { ApiKeyRole } from '../../store/schema.js';
import type { Trip } from '../../store/trips.js';
import type { RosterEntry } from '../../store/passengers.js';
import { bearerDoc, zodDocs } from '../ops/docs.js';

declare module 'fastify' {
  interface FastifyRequest { apiKey: ApiKeyRecord | null }
}

/** Resolves the bearer key (401 when missing, unknown, revoked or expired) and checks its role (403). */
export async function authenticate(services: Services, request: FastifyRequest, roles: readonly ApiKeyRole[]): Promise<ApiKeyRecord> {
  const header = request.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  if (!match?.[1]) throw new AuthError('AUTH_MISSING', 'Authorization: expected "Bearer <key>"');
  const key = await services.repos.apiKeys.verify(match[1]);
  if (!key) throw new AuthError('AUTH_INVALID', 'the API key is unknown, revoked or expired');
  if (!roles.includes(key.role)) throw new ForbiddenError('AUTH_ROLE', `this needs one of the roles ${roles.join(', ')}; the key has ${key.role}`);
  request.apiKey = key;
  return key;
}

/** A city-scoped key sees only trips reported to its city. */
export function assertCity(key: ApiKeyRecord, trip: Trip): void {
  if (key.city !== null && key.role !== 'admin' && trip.reportingCity !== key.city) {
    throw new ForbiddenError('AUTH_CITY', `this key is limited to city ${key.city}`);
  }
}

export function tripJson(trip: Trip) {
  return {
    code: trip.code, plate: trip.plate, departureAt: trip.departureAt.toISOString(), origin: trip.originText,
    destination: trip.destinationText, declaredCount: trip.declaredCount, tripNumber: trip.tripNumber,
    reportingCity: trip.reportingCity, status: trip.status, purged: trip.purgedAt !== null,
  };
}

/** A passenger as the API shows it; `masked` masks opened values (entries from maskedRoster are masked already). */
export function passengerJson(p: RosterEntry, masked: boolean) {
  return {
    name: masked ? maskName(p.name) : p.name,
    idType: p.idType,
    idNumber: masked ? maskIdNumber(p.idNumber) : p.idNumber,
    phone: p.phone === null ? null : masked ? maskPhone(p.phone) : p.phone,
    channel: p.channel,
    registeredBy: p.registeredBy,
    arrivedAt: p.arrivedAt?.toISOString() ?? null,
  };
}

const CodeParams = z.object({ code: z.string().regex(/^\d{6}$/, 'expected the 6-digit trip code') });
const TraceQuery = z.object({
  idNumber: z.string().min(1).optional(),
  phone: z.string().min(1).optional(),
  plate: z.string().min(1).optional(),
  from: z.iso.date().optional(),
  to: z.iso.date().optional(),
  reason: z.string().trim().min(3, 'reason: say why you need this data (at least 3 characters)').max(500),
}).refine((q) => [q.idNumber, q.phone, q.plate].filter(Boolean).length === 1, 'give exactly one of idNumber, phone, plate');

const RosterQuery = z.object({
  unmasked: z.enum(['true', 'false'], 'unmasked: expected true or false').optional(),
  reason: z.string().trim().min(3, 'reason: say why you need this data (at least 3 characters)').max(500).optional(),
}).refine((q) => q.unmasked !== 'true' || q.reason !== undefined, { message: 'reason: an unmasked roster needs a reason (why you need this data, at least 3 characters)', path: ['reason'] });
/** Roles that may read a roster unmasked (of their own city; audited with the reason). */
const UNMASKED_ROLES: readonly ApiKeyRole[] = ['authority', 'health'];

export function parseOr400<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new InputError('INPUT_INVALID', z.prettifyError(parsed.error), { details: { issues: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) } });
}

const SHANGHAI_DAY = (date: string, endOfDay: boolean) => new Date(`${date}T${endOfDay ? '23:59:59.999' : '00:00:00'}+08:00`);

export async function apiRoutes(app: FastifyInstance, opts: { services: Services }): Promise<void> {
  const { services } = opts;
  const { trips, passengers, audit } = services.repos;
  app.decorateRequest('apiKey', null);

  app.get('/api/v1/trips/:code/roster', {
    schema: bearerDoc({ summary: 'Masked roster of a trip with declared, registered and arrived counts', tags: ['trips'], description: 'Roles: station, authority, health, admin; a city-scoped key sees only its city\'s trips. `unmasked=true&reason=…`: authority and health only, audited. After the retention purge: `purged: true`, no passengers, counts kept.' }),
    config: zodDocs({ params: CodeParams, querystring: RosterQuery }),
  }, async (request) => {
    const key = await authenticate(services, request, ['station', 'authority', 'health', 'admin']);
    const { code } = parseOr400(CodeParams, request.params);
    const q = parseOr400(RosterQuery, request.query);
    const unmasked = q.unmasked === 'true';
    if (unmasked && !UNMASKED_ROLES.includes(key.role)) throw new ForbiddenError('AUTH_ROLE', `an unmasked roster needs one of the roles ${UNMASKED_ROLES.join(', ')}; the key has ${key.role}`);
    const trip = await trips.byCode(code);
    if (!trip) throw new NotFoundError('TRIP_NOT_FOUND', `no trip with code ${code}`);
    assertCity(key, trip);
    // A masked reader gets the masked forms kept on the rows: the vault is opened only for an audited, unmasked read.
    const roster = trip.purgedAt ? [] : unmasked ? await passengers.roster(trip.id) : await passengers.maskedRoster(trip.id);
    const counts = await passengers.counts(trip.id);
    if (unmasked) {
      await audit.append({ actor: `key:${key.id}`, action: 'roster.unmasked', subject: trip.code, reason: q.reason, details: { role: key.role, city: key.city, tripId: trip.id, passengers: roster.length, purged: trip.purgedAt !== null } });
    }
    return {
      trip: tripJson(trip),
      registeredCount: counts.registered,
      arrivedCount: counts.arrived,
      purged: trip.purgedAt !== null,
      passengers: roster.map((p) => passengerJson(p, false)),
    };
  });

  app.get('/api/v1/trace', {
    schema: bearerDoc({ summary: 'Trips and co-passengers of a person or vehicle in a date range (audited)', tags: ['trace'], description: 'Roles: authority, health (unmasked), admin (masked). Give exactly one of idNumber, phone, plate; reason is required.' }),
    config: zodDocs({ querystring: TraceQuery }),
  }, async (request) => {
    const key = await authenticate(services, request, ['authority', 'health', 'admin']);
    const q = parseOr400(TraceQuery, request.query);
    const window = { from: q.from ? SHANGHAI_DAY(q.from, false) : undefined, to: q.to ? SHANGHAI_DAY(q.to, true) : undefined };
    const masked = key.role !== 'health' && key.role !== 'authority';
    const by = q.idNumber ? 'idNumber' : q.phone ? 'phone' : 'plate';
    await audit.append({ actor: `key:${key.id}`, action: 'trace', subject: by, reason: q.reason, details: { role: key.role, city: key.city, from: q.from ?? null, to: q.to ?? null } });

    const matches: unknown[] = [];
    if (q.plate) {
      const list = await trips.listByPlate(q.plate.normalize('NFKC').toUpperCase().replace(/\s/g, ''), { from: window.from ?? new Date(0), to: window.to ?? new Date(8.64e15) });
      for (const trip of list) {
        if (key.city !== null && trip.reportingCity !== key.city) continue;
        const roster = await passengers.roster(trip.id);
        matches.push({ trip: tripJson(trip), passenger: null, coPassengers: roster.map((p) => passengerJson(p, masked)) });
      }
      return { matches };
    }
    const found = q.idNumber ? await passengers.findByIdNumber(q.idNumber, window) : await passengers.findByPhone(q.phone ?? '', window);
    for (const record of found) {
      const trip = await trips.byId(record.tripId);
      if (!trip || (key.city !== null && trip.reportingCity !== key.city)) continue;
      const roster = await passengers.roster(trip.id);
      const self = roster.find((p) => p.id === record.id);
      matches.push({
        trip: tripJson(trip),
        passenger: self ? passengerJson(self, masked) : null,
        coPassengers: roster.filter((p) => p.id !== record.id).map((p) => passengerJson(p, masked)),
      });
    }
    return { matches };
  });
}
