import type { ActionResult } from '../engine/step.js';
import { readPath, type Json } from '../engine/state.js';
import { shanghaiMonthDayTime } from '../engine/format.js';
import { maskIdNumber, maskName, maskPhone } from '../security/mask.js';
import type { TripRepository, Trip, TripDetails } from '../store/trips.js';
import type { PassengerRepository } from '../store/passengers.js';
import type { StaffRepository } from '../store/staff.js';
import type { AuditRepository } from '../store/audit.js';
import type { StaffRole } from '../store/schema.js';
import { parsePlate } from '../validation/plate.js';
import { AppError } from '../errors.js';
import type { ActionContext, ActionTable } from './service.js';

/** What the actions may call: repositories and the outbound SMS starter. All I/O of a turn happens here. */
export interface ActionDeps {
  trips: TripRepository;
  passengers: PassengerRepository;
  staff: StaffRepository;
  retentionDays: number;
  /** Finds a ticketing pre-registration for this trip by document number or phone (issue: ticketing). */
  findPreregistration?(trip: TripFacts, by: { idType: number; idNumber: string } | { phone: string }): Promise<SavedProfile | null>;
  /** Starts an SMS conversation with an invitation for this trip (returns 'busy' when the number has one open). */
  inviteBySms?(trip: Trip, phone: string, invitedBy: string): Promise<'sent' | 'busy'>;
  /** Records staff actions (who did what: staff id, trip and passenger ids, counts; never personal data). */
  audit?: Pick<AuditRepository, 'append'>;
  /** After a passenger was stored (not on a duplicate): claims a pre-registration, queues validation (issue 5). */
  afterRegistration?(event: RegistrationEvent): Promise<void>;
  /** After a chat created a trip: remembers whom to notify, schedules the departure check (issue 5). */
  afterTripCreated?(trip: Trip, by: { channel: string; userId: string; locale: string }): Promise<void>;
}

/** What the hooks need of a trip; the session holds it since the trip was loaded (no second read). */
export type TripFacts = Pick<Trip, 'id' | 'tripNumber' | 'departureAt'>;

/** `preregistrationMatched: false`: the rider's document number was already looked up and has no pre-registration. */
export interface RegistrationEvent { trip: TripFacts; passengerId: string; idNumber: string; phone: string | null; staffId: string | null; preregistrationMatched: boolean | null }

export interface SavedProfile { name: string; idType: number; idNumber: string; phone: string | null; addressBefore: string | null; addressBeijing: string | null }

const str = (v: Json | undefined): string | null => (typeof v === 'string' ? v : null);
const ok = (patch: { vars?: Record<string, Json>; values?: Record<string, Json> } = {}): ActionResult => ({ ok: true, ...patch });
const fail = (code: string, vars?: Record<string, Json>): ActionResult => (vars ? { ok: false, code, vars } : { ok: false, code });

/** Display-ready trip facts for prompts (`{trip_plate}`, `{trip_time}`, `{trip_route}` …). */
export function tripVars(trip: Trip, retentionDays: number): Record<string, Json> {
  return {
    id: trip.id, code: trip.code, plate: trip.plate, time: shanghaiMonthDayTime(trip.departureAt),
    route: `${trip.originText}→${trip.destinationText}`, tripNumber: trip.tripNumber ?? '', beijingBound: trip.beijingBound,
    retentionDays, declaredCount: trip.declaredCount, departureAt: trip.departureAt.toISOString(),
  };
}

function place(values: Record<string, Json>, field: string): { text: string; cityCode: string | null; beijing: boolean } {
  const v = values[field];
  if (v && typeof v === 'object' && !Array.isArray(v)) return { text: String(v['text'] ?? ''), cityCode: str(v['cityCode']), beijing: v['beijing'] === true };
  return { text: String(v ?? ''), cityCode: null, beijing: false };
}

function savedDisplay(p: SavedProfile): string {
  return [maskName(p.name), maskIdNumber(p.idNumber), p.phone ? maskPhone(p.phone) : ''].filter((s) => s !== '').join(' ');
}

function savedVars(p: SavedProfile): Record<string, Json> {
  return { saved: { ...p, idType: String(p.idType), display: savedDisplay(p) } };
}

function tripValuesForRepeat(t: TripDetails): Record<string, Json> {
  return {
    plate: t.plate, passengerCount: t.declaredCount, driverName: t.driver.name, driverPhone: t.driver.phone,
    registrantIsDriver: t.registrant ? '2' : '1', ...(t.registrant ? { registrantName: t.registrant.name, registrantPhone: t.registrant.phone } : {}),
    hasCrew: t.crew ? '1' : '2',
    ...(t.crew ? { crewName: t.crew.name, crewPhone: t.crew.phone, crewIdType: String(t.crew.idType), crewIdNumber: t.crew.idNumber } : {}),
    tripNumber: t.tripNumber,
    origin: { text: t.originText, cityCode: t.originCity, cityName: t.originText, beijing: false },
    destination: { text: t.destinationText, cityCode: t.destinationCity, cityName: t.destinationText, beijing: t.beijingBound },
  };
}

const STAFF_ROLES_FOR_ASSIST: readonly StaffRole[] = ['crew', 'station', 'admin'];

export function createActions(deps: ActionDeps): ActionTable {
  async function tripOfState(ctx: ActionContext): Promise<Trip | null> {
    const known = str(readPath(ctx.state.vars, 'trip.code') ?? undefined);
    const code = str(ctx.state.values['tripCode']) ?? known;
    if (code) return deps.trips.byCode(code);
    const scene = str(ctx.state.vars['scene']);
    if (scene) return /^trip-\d{6}$/.test(scene) ? deps.trips.byCode(scene.slice(5)) : null;
    return null;
  }

  /** The trip loaded at the start of this conversation (vars.trip), or from the store when the session has none. */
  async function tripFactsOf(ctx: ActionContext): Promise<TripFacts | null> {
    const id = str(readPath(ctx.state.vars, 'trip.id') ?? undefined);
    const departureAt = str(readPath(ctx.state.vars, 'trip.departureAt') ?? undefined);
    if (id && departureAt) {
      const tripNumber = str(readPath(ctx.state.vars, 'trip.tripNumber') ?? undefined);
      return { id, departureAt: new Date(departureAt), tripNumber: tripNumber === '' ? null : tripNumber };
    }
    return tripOfState(ctx);
  }

  return {
    async loadTrip(ctx) {
      const trip = await tripOfState(ctx);
      if (!trip) return fail('not_found');
      if (trip.status !== 'open') return fail('closed');
      return ok({ vars: { trip: tripVars(trip, deps.retentionDays) } });
    },

    async loadSavedProfile(ctx) {
      const profile = await deps.passengers.latestProfileForUser(ctx.userKey);
      if (profile) return ok({ vars: savedVars(profile) });
      if (ctx.inbound.channel === 'sms' && deps.findPreregistration) {
        const trip = await tripOfState(ctx);
        const prereg = trip ? await deps.findPreregistration(trip, { phone: ctx.inbound.userId }) : null;
        if (prereg) return ok({ vars: savedVars(prereg) });
      }
      return fail('none');
    },

    async matchPreregistration(ctx) {
      if (!deps.findPreregistration) return fail('none');
      const trip = await tripFactsOf(ctx);
      const idNumber = str(ctx.state.values['idNumber']);
      if (!trip || !idNumber) return fail('none');
      const prereg = await deps.findPreregistration(trip, { idType: Number(ctx.state.values['idType'] ?? 1), idNumber });
      // Remember the miss: the registration hook then need not look the same number up again.
      return prereg ? ok({ vars: savedVars(prereg) }) : fail('none', { noPreregistrationFor: idNumber });
    },

    async registerPassenger(ctx) {
      const trip = await tripFactsOf(ctx);
      if (!trip) return fail('closed');
      const v = ctx.state.values;
      const assisted = ctx.call.flow === 'assisted';
      const staffId = str(readPath(ctx.state.vars, 'staff.id') ?? undefined);
      // The registration transaction itself refuses a trip that is no longer open.
      const result = await deps.passengers.register({
        tripId: trip.id, name: String(v['name']), idType: Number(v['idType']), idNumber: String(v['idNumber']),
        phone: str(v['phone']), addressBefore: str(v['addressBefore']), addressBeijing: str(v['addressBeijing']),
        channel: ctx.inbound.channel, registeredBy: assisted ? 'crew' : 'self', staffId: assisted ? staffId : null,
        userKey: assisted ? null : ctx.userKey,
      }).catch((err: unknown) => {
        if (err instanceof AppError && err.code === 'TRIP_CLOSED') return null;
        throw err;
      });
      if (!result) return fail('closed');
      if (!result.duplicate) {
        // matchPreregistration already found no pre-registration for this very number: nothing to claim.
        const matched = ctx.state.vars['noPreregistrationFor'] === String(v['idNumber']) ? false : null;
        await deps.afterRegistration?.({ trip, passengerId: result.id, idNumber: String(v['idNumber']), phone: str(v['phone']), staffId: assisted ? staffId : null, preregistrationMatched: matched });
        if (assisted && staffId) {
          await deps.audit?.append({ actor: `staff:${staffId}`, action: 'passenger.register.assisted', subject: result.id, details: { tripId: trip.id, channel: ctx.inbound.channel } });
        }
      }
      // Only crew see the running count; a rider's own registration skips the extra query.
      const count = assisted ? (await deps.passengers.counts(trip.id)).registered : 0;
      const registered = { name: maskName(String(v['name'])), count };
      if (result.duplicate) return fail('duplicate', { registered });
      return ok({ vars: { registered } });
    },

    async createTrip(ctx) {
      const v = ctx.state.values;
      const plate = String(v['plate']);
      const parsedPlate = parsePlate(plate);
      const origin = place(v, 'origin');
      const destination = place(v, 'destination');
      const trip = await deps.trips.create({
        plate, plateCity: parsedPlate.ok ? parsedPlate.value.cityCode : null, declaredCount: Number(v['passengerCount']),
        driver: { name: String(v['driverName']), phone: String(v['driverPhone']) },
        registrant: v['registrantIsDriver'] === '2' ? { name: String(v['registrantName']), phone: String(v['registrantPhone']) } : null,
        crew: v['hasCrew'] === '1' ? { name: String(v['crewName']), phone: String(v['crewPhone']), idType: Number(v['crewIdType']), idNumber: String(v['crewIdNumber']) } : null,
        tripNumber: str(v['tripNumber']), departureAt: new Date(String(v['departureAt'])),
        originText: origin.text, originCity: origin.cityCode, destinationText: destination.text, destinationCity: destination.cityCode,
        beijingBound: destination.beijing,
        reportingCity: origin.cityCode ?? (parsedPlate.ok ? parsedPlate.value.cityCode : null),
        createdBy: ctx.userKey,
      });
      await deps.afterTripCreated?.(trip, { channel: ctx.inbound.channel, userId: ctx.inbound.userId, locale: ctx.state.locale });
      return ok({ vars: { trip: tripVars(trip, deps.retentionDays) } });
    },

    async loadLastTrip(ctx) {
      const plate = str(ctx.state.values['plate']) ?? str(readPath(ctx.state.vars, 'lastTrip.plate') ?? undefined);
      const last = plate ? await deps.trips.lastByPlate(plate) : await deps.trips.lastByCreator(ctx.userKey);
      if (!last) return fail('none');
      return ok({
        values: tripValuesForRepeat(last),
        vars: { last: { plate: last.plate, route: `${last.originText}→${last.destinationText}`, tripNumber: last.tripNumber ?? '' } },
      });
    },

    async requireStaff(ctx) {
      const member = await deps.staff.byUserKey(ctx.userKey);
      if (!member || !STAFF_ROLES_FOR_ASSIST.includes(member.role)) return fail('forbidden');
      return ok({ vars: { staff: { id: member.id, role: member.role } } });
    },

    async requireStationStaff(ctx) {
      const member = await deps.staff.byUserKey(ctx.userKey);
      if (!member || (member.role !== 'station' && member.role !== 'admin')) return fail('forbidden');
      return ok({ vars: { staff: { id: member.id, role: member.role } } });
    },

    async loadRoster(ctx) {
      const trip = await tripOfState(ctx);
      if (!trip) return fail('not_found');
      const roster = await deps.passengers.maskedRoster(trip.id);
      const lines = roster.map((p, i) => `${i + 1} ${p.name} ${p.idNumber}${p.arrivedAt ? ' ✓' : ''}`);
      const arrived = roster.filter((p) => p.arrivedAt).length;
      return ok({
        vars: {
          trip: tripVars(trip, deps.retentionDays),
          roster: { size: roster.length, lines: lines.length > 0 ? lines.join('\n') : { key: 'verify.empty' }, ids: roster.map((p) => p.id), declared: trip.declaredCount, registered: roster.length, arrived },
        },
      });
    },

    async markArrivals(ctx) {
      const trip = await tripOfState(ctx);
      if (!trip) return fail('not_found');
      const marks = ctx.state.values['marks'];
      const ids = readPath(ctx.state.vars, 'roster.ids');
      const chosen = marks === 'all' ? 'all' : Array.isArray(marks) && Array.isArray(ids) ? marks.flatMap((n) => (typeof n === 'number' && typeof ids[n - 1] === 'string' ? [ids[n - 1] as string] : [])) : [];
      const marked = await deps.passengers.markArrived(trip.id, chosen, ctx.now);
      const staffId = str(readPath(ctx.state.vars, 'staff.id') ?? undefined);
      await deps.audit?.append({ actor: staffId ? `staff:${staffId}` : 'unknown', action: 'arrivals.mark', subject: trip.id, details: { marked, all: chosen === 'all', via: ctx.inbound.channel } });
      const counts = await deps.passengers.counts(trip.id);
      return ok({
        vars: { counts: { arrived: counts.arrived, registered: counts.registered, declared: trip.declaredCount, absent: counts.registered - counts.arrived, missing: Math.max(0, trip.declaredCount - counts.registered) } },
      });
    },

    async enrollStaff(ctx) {
      const member = await deps.staff.enroll(String(ctx.state.values['code']), {
        userKey: ctx.userKey, channel: ctx.inbound.channel, ...(ctx.inbound.channel === 'wechat' ? { openid: ctx.inbound.userId } : {}),
      });
      if (!member) return fail('invalid');
      await deps.audit?.append({ actor: `staff:${member.id}`, action: 'staff.enroll', subject: member.id, details: { role: member.role, city: member.city, station: member.station, channel: ctx.inbound.channel } });
      const where = [member.city ?? '', member.station ?? ''].filter((s) => s !== '').join(' ');
      return ok({ vars: { staff: { id: member.id, role: member.role, roleName: { key: `staff.roles.${member.role}` }, where } } });
    },

    async sendSmsInvite(ctx) {
      if (!deps.inviteBySms) return fail('forbidden');
      const phone = String(ctx.state.values['phone']);
      const lastCode = str(readPath(ctx.state.vars, 'lastTrip.code') ?? undefined);
      const trip = (lastCode ? await deps.trips.byCode(lastCode) : null) ?? (await deps.trips.lastByCreator(ctx.userKey));
      if (!trip || trip.status !== 'open') return fail('no_trip');
      const member = await deps.staff.byUserKey(ctx.userKey);
      if (trip.createdBy !== ctx.userKey && !member) return fail('forbidden');
      const outcome = await deps.inviteBySms(trip, phone, member?.id ?? ctx.userKey);
      if (outcome === 'busy') return fail('busy');
      return ok({ vars: { invite: { phone: maskPhone(phone), trip: `${trip.plate} ${shanghaiMonthDayTime(trip.departureAt)}` } } });
    },
  };
}
