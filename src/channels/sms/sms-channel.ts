import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { Config, SmsKind } from '../../config.js';
import { SMS_KINDS } from '../../config.js';
import type { Reply } from '../../contracts/conversation.js';
import { jobId, type OutboundJob } from '../../contracts/jobs.js';
import type { ConversationService } from '../../conversation/service.js';
import type { SessionStore } from '../../conversation/session-store.js';
import type { FlowRegistry } from '../../engine/registry.js';
import { readPath, type ConversationState } from '../../engine/state.js';
import { UpstreamError } from '../../errors.js';
import type { Translator } from '../../i18n/i18n.js';
import { maskPhone } from '../../security/mask.js';
import { sealRecipient } from '../../security/recipient.js';
import type { TripContactRepository } from '../../store/oversight.js';
import type { SmsRepository, StoredUplink } from '../../store/sms.js';
import { addDays } from '../../store/time.js';
import type { Trip, TripRepository } from '../../store/trips.js';
import { renderTurn, type RenderedSms } from './sms-render.js';
import type { SmsSender } from './sms-sender.js';
import { isCnMobile, normalizeCnMobile } from './sms-phone.js';
import { fitParams } from './sms-templates.js';
import type { SmsReport, SmsUplink } from './uplink.js';
import { uplinkDedupeKey } from './uplink.js';

/**
 * The SMS channel end to end (issue 4): invitations, uplink batches, the outbound worker's send, delivery receipts.
 *
 * Uplinks: the route stores every new element (dedupe on `uplinkDedupeKey` AND on a keyed hash of number + send_time +
 * content, in `sms_uplinks`, number and text sealed), answers at once, and processes the stored elements in the
 * background of the same process: concurrently across numbers, strictly in send_time order per number (one chain per
 * number in this process). An element older than the newest one already processed for that number is `stale` and
 * changes nothing (out-of-order pushes). A crash between storing and processing leaves rows `pending`; `sweep()` (run
 * by the worker process every minute) processes those older than a minute.
 *
 * Outbound: each turn → at most one SMS (`renderTurn`), recorded in `sms_messages` and sent by the BullMQ outbound
 * worker (`{ kind: 'sms', messageId }`). Queuing a new message supersedes any still-unsent one to the same number, so
 * at most one question per number is ever open; and a new question is only produced by an uplink turn (or an
 * invitation). Send results:
 * - ok → `sent` (BizId kept; the receipt later makes it `delivered`/`failed`).
 * - flow_control → back to `queued` and a delayed job after `delayMs`, at most MAX_FLOW_CONTROL_RETRIES times and only
 *   when the wait is ≤ MAX_FLOW_CONTROL_DELAY_MS; otherwise `failed` and reported to the inviter.
 * - invalid_number → `failed`; the conversation is ended (the session is cancelled, nothing more is sent) and the
 *   inviter is told.
 * - retryable, not sent → back to `queued`, the job throws and BullMQ retries with backoff (at most MAX_SEND_ATTEMPTS).
 * - retryable, maybe sent (timeout, reset) → NOT resent: `uncertain`. A receipt naming our OutId settles it; if none
 *   arrived after RECHECK_MS a delayed re-check sends it once more (a lost SMS is worse for a waiting rider than a rare
 *   duplicate question, and the rider's reply is handled the same either way).
 * - permanent (configuration, template) → `failed`, logged at error, inviter told.
 *
 * Reporting a failure to whoever invited: when the inviter is the trip's creator and the trip has a WeChat contact (its
 * openid, sealed), a `wechat-text` job (`sms-notice.*`) goes to them; otherwise the failure stays visible to staff as
 * the message row's status and error code (`smsRepository.forTrip(tripId)`) and a warn log line with the trip id.
 *
 * Logs carry ids, kinds, template codes and error codes; never a number, a text or a template parameter.
 */
export const MAX_SEND_ATTEMPTS = 5;
export const MAX_FLOW_CONTROL_RETRIES = 3;
export const MAX_FLOW_CONTROL_DELAY_MS = 65 * 60_000;
export const RECHECK_MS = 10 * 60_000;
const PROCESS_CONCURRENCY = 16;
const SWEEP_AGE_MS = 60_000;
const JOB_OPTIONS = { attempts: MAX_SEND_ATTEMPTS, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: 1000, removeOnFail: 5000 } as const;

export interface SmsChannelDeps {
  config: Config;
  log: Logger;
  conversation: ConversationService;
  registry: FlowRegistry;
  translator: Translator;
  sessions: SessionStore;
  sms: SmsRepository;
  trips: TripRepository;
  tripContacts: TripContactRepository;
  outbound: Queue;
  userKeyOf(channel: string, userId: string): string;
  /** Null when ALIYUN_ACCESS_KEY_ID/SECRET are not set: messages are then marked failed with SMS_NOT_CONFIGURED. */
  sender: SmsSender | null;
  retentionDays: number;
  /** Seals the inviter's openid in `wechat-text` job data (src/security/recipient.ts). */
  sessionKey: Uint8Array;
  now?: () => Date;
}

export interface UplinkReceipt { stored: number; duplicates: number }

function tripCodeOf(state: ConversationState): string | null {
  const code = readPath(state.vars, 'trip.code');
  if (typeof code === 'string') return code;
  const scene = state.vars['scene'];
  if (typeof scene === 'string' && /^trip-\d{6}$/.test(scene)) return scene.slice(5);
  const value = state.values['tripCode'];
  return typeof value === 'string' ? value : null;
}

function tripIdOf(replies: readonly Reply[]): string | null {
  for (const r of [...replies].reverse()) {
    const id = r.type === 'text' ? r.params?.['trip_id'] : undefined;
    if (typeof id === 'string') return id;
  }
  return null;
}

function errorName(err: unknown): string {
  if (err instanceof Error) return 'code' in err && typeof err.code === 'string' ? err.code : err.name;
  return 'unknown';
}

/** The SMS key that asks the crew for help (src/engine/commands.ts maps it to help for the rider). */
const HELP_KEY = '8';

export function createSmsChannel(deps: SmsChannelDeps) {
  const { log, sms } = deps;
  const now = deps.now ?? (() => new Date());
  const inFlight = new Set<Promise<unknown>>();
  const chains = new Map<string, Promise<void>>();
  const sessionIdOf = (phone: string) => `sms:${deps.userKeyOf('sms', phone)}`;

  function track<T>(promise: Promise<T>): void {
    const p = promise.catch((err: unknown) => {
      try { log.error({ err: errorName(err) }, 'sms background work failed'); } catch { /* a failing log sink must not crash the process */ }
    });
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  }

  /** Runs `fn` after every earlier task of the same number in this process (strict order per number). */
  function serial(key: string, fn: () => Promise<void>): Promise<void> {
    const prev = chains.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    chains.set(key, next);
    void next.finally(() => { if (chains.get(key) === next) chains.delete(key); }).catch(() => undefined);
    return next;
  }

  async function enqueue(messageId: string, options: { delay?: number; suffix?: string; reqId?: string } = {}): Promise<void> {
    const job: OutboundJob = { kind: 'sms', messageId, ...(options.reqId === undefined ? {} : { reqId: options.reqId }) };
    await deps.outbound.add(job.kind, job, { ...JOB_OPTIONS, jobId: jobId('sms', messageId, ...(options.suffix ? [options.suffix] : [])), ...(options.delay ? { delay: options.delay } : {}) });
  }

  /** Records one rendered SMS and queues its send job. */
  async function queueSms(phone: string, rendered: RenderedSms, meta: { tripId: string | null; departureAt: Date | null; ref: string; invitedBy: string | null }): Promise<string> {
    const params = fitParams(rendered.kind, rendered.params);
    const purgeAfter = addDays(meta.departureAt && meta.departureAt > now() ? meta.departureAt : now(), deps.retentionDays);
    const { id, superseded } = await sms.queue({
      phone, kind: rendered.kind, templateCode: deps.config.sms.templates[rendered.kind], params, tripId: meta.tripId, conversationRef: meta.ref,
      invitedBy: meta.invitedBy, purgeAfter,
    });
    await enqueue(id, { reqId: meta.ref });
    log.info({ messageId: id, smsKind: rendered.kind, tripId: meta.tripId, superseded, reqId: meta.ref }, 'sms queued');
    return id;
  }

  /**
   * Starts (or restarts) an SMS registration for this trip with an invitation. 'busy' when the number is in an
   * active SMS conversation for ANOTHER trip; the same trip gets the invitation again.
   * Also the entry point for ticketing pre-registrations that carry a phone: `inviteBySms(trip, phone, 'ticketing:<ticketId>')`.
   */
  async function inviteBySms(trip: Trip, rawPhone: string, invitedBy: string): Promise<'sent' | 'busy'> {
    const phone = normalizeCnMobile(rawPhone);
    const { state } = await deps.sessions.load(sessionIdOf(phone));
    const active = state !== null && state.flow !== null && now().getTime() - state.updatedAt <= deps.config.sessionTtlSeconds * 1000;
    if (active && tripCodeOf(state) !== trip.code) {
      log.info({ tripId: trip.id }, 'sms invitation refused: number busy with another trip');
      return 'busy';
    }
    const ref = `invite-${randomUUID()}`;
    const turn = await deps.conversation.handle(
      { channel: 'sms', userId: phone, dedupeKey: ref, input: { type: 'text', text: '' } },
      { type: 'start', flow: 'passenger', vars: { scene: `trip-${trip.code}` } },
    );
    const rendered = renderTurn(turn.replies, { translator: deps.translator, registry: deps.registry, plate: trip.plate });
    if (!rendered) {
      log.warn({ tripId: trip.id }, 'sms invitation produced no message');
      return 'sent';
    }
    await queueSms(phone, rendered, { tripId: trip.id, departureAt: trip.departureAt, ref, invitedBy });
    return 'sent';
  }

  /** Does this number have (or had) an SMS conversation with us? */
  async function isKnown(phone: string): Promise<boolean> {
    const { state } = await deps.sessions.load(sessionIdOf(phone));
    if (state !== null) return true;
    return (await sms.latestTo(phone)) !== null;
  }

  async function processNumber(items: StoredUplink[], lastProcessed: Date | undefined): Promise<void> {
    const first = items[0];
    if (!first) return;
    const phone = first.phone;
    let known = await isKnown(phone);
    let last = lastProcessed;
    const done: string[] = [];
    const stale: string[] = [];
    const ignored: string[] = [];
    const failed: string[] = [];
    let outgoing: { replies: Reply[]; ref: string } | null = null;
    for (const item of items) {
      if (last && item.sentAt && item.sentAt < last) { stale.push(item.id); log.info({ reqId: item.dedupeKey }, 'sms uplink older than one already processed: ignored'); continue; }
      let text = item.content.trim();
      if (!known) {
        const code = deps.config.sms.acceptsCold ? /(?<!\d)\d{6}(?!\d)/.exec(text)?.[0] : undefined;
        if (!code) { ignored.push(item.id); log.info({ reqId: item.dedupeKey, length: text.length }, 'sms uplink from a number without a conversation: ignored'); continue; }
        text = code;
      }
      try {
        const turn = await deps.conversation.handle({ channel: 'sms', userId: phone, dedupeKey: item.dedupeKey, input: { type: 'text', text } });
        known = true;
        done.push(item.id);
        if (item.sentAt && (!last || item.sentAt > last)) last = item.sentAt;
        log.info({ reqId: item.dedupeKey, duplicate: turn.duplicate, replies: turn.replies.length }, 'sms uplink handled');
        if (!turn.duplicate) outgoing = { replies: turn.replies, ref: item.dedupeKey };
        if (!turn.duplicate && text === HELP_KEY) await askCrewForHelp(phone, item.dedupeKey);
      } catch (err) {
        failed.push(item.id);
        log.warn({ reqId: item.dedupeKey, err: errorName(err) }, 'sms uplink failed');
      }
    }
    await sms.markUplinks(done, 'done');
    await sms.markUplinks(stale, 'stale');
    await sms.markUplinks(ignored, 'ignored');
    await sms.markUplinks(failed, 'failed');
    if (!outgoing) return;
    const latest = await sms.latestTo(phone);
    const tripId = tripIdOf(outgoing.replies) ?? latest?.tripId ?? null;
    const trip = tripId ? await deps.trips.byId(tripId) : null;
    const rendered = renderTurn(outgoing.replies, { translator: deps.translator, registry: deps.registry, plate: trip?.plate });
    if (!rendered) return;
    await queueSms(phone, rendered, { tripId: trip?.id ?? null, departureAt: trip?.departureAt ?? null, ref: outgoing.ref, invitedBy: null });
  }

  async function processStored(stored: readonly StoredUplink[]): Promise<void> {
    const groups = new Map<string, StoredUplink[]>();
    for (const item of stored) groups.set(item.phoneBlind, [...(groups.get(item.phoneBlind) ?? []), item]);
    for (const items of groups.values()) {
      items.sort((a, b) => (a.sentAt?.getTime() ?? 0) - (b.sentAt?.getTime() ?? 0) || a.dedupeKey.localeCompare(b.dedupeKey));
    }
    const last = await sms.lastProcessed([...groups.keys()]);
    const queue = [...groups.entries()];
    const runners = Array.from({ length: Math.min(PROCESS_CONCURRENCY, queue.length) }, async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const [blind, items] = next;
        await serial(blind, () => processNumber(items, last.get(blind)));
      }
    });
    await Promise.all(runners);
  }

  /**
   * Stores a parsed SmsUp batch and processes it in the background (the caller answers Alibaba right away).
   * Returns how many elements were new.
   */
  async function receiveUplinks(items: readonly SmsUplink[]): Promise<UplinkReceipt> {
    const seen = new Set<string>();
    const fresh = items.filter((item) => {
      const key = uplinkDedupeKey(item);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    const stored = await sms.storeUplinks(fresh.map((item) => ({ dedupeKey: uplinkDedupeKey(item), phone: item.phone, content: item.content, sendTime: item.sendTime, sentAt: item.sentAt })));
    if (stored.length > 0) track(processStored(stored));
    return { stored: stored.length, duplicates: items.length - stored.length };
  }

  /** Processes uplinks left pending by a crash (older than a minute). */
  async function sweep(): Promise<number> {
    const pending = await sms.pendingUplinks(new Date(now().getTime() - SWEEP_AGE_MS), 1000);
    if (pending.length > 0) await processStored(pending);
    return pending.length;
  }

  /** A failed SMS is reported to whoever invited the rider (the trip's registrant, over WeChat). */
  async function reportFailure(row: { id: string; kind: string; phoneBlind: string; tripId: string | null; invitedBy: string | null }, phone: string, reason: 'invalidNumber' | 'failed'): Promise<void> {
    await notifyInviter(row, phone, reason, jobId('smsfail', row.id));
  }

  /**
   * Tells the rider's inviter something about the rider (a failure, or `8`: a call for help) over WeChat; without a
   * reachable inviter it stays in the log and in the message's status for the staff.
   */
  async function notifyInviter(row: { id: string; kind: string; phoneBlind: string; tripId: string | null; invitedBy: string | null }, phone: string, reason: 'invalidNumber' | 'failed' | 'help', notifyJobId: string): Promise<void> {
    const invitation = row.kind === 'invite' ? row : await sms.invitationOf(row);
    if (!invitation?.invitedBy || !invitation.tripId) {
      log.warn({ messageId: row.id, tripId: row.tripId, reason }, 'sms failure kept for staff: no inviter');
      return;
    }
    const trip = await deps.trips.byId(invitation.tripId);
    const contact = trip && trip.createdBy === invitation.invitedBy ? await deps.tripContacts.resolve(trip.id) : null;
    if (!trip || !contact) {
      log.warn({ messageId: row.id, tripId: invitation.tripId, reason }, 'sms failure kept for staff: inviter not reachable by WeChat');
      return;
    }
    const job: OutboundJob = { kind: 'wechat-text', openid: sealRecipient(deps.sessionKey, contact.openid), key: `sms-notice.${reason}`, params: { phone: maskPhone(phone), plate: trip.plate }, locale: contact.locale };
    await deps.outbound.add(job.kind, job, { ...JOB_OPTIONS, jobId: notifyJobId });
    log.info({ messageId: row.id, tripId: trip.id, reason }, 'rider notice sent to the inviter');
  }

  /** `8` on a feature phone: the crew who invited the rider are told to come and help (the rider also gets the help text). */
  async function askCrewForHelp(phone: string, ref: string): Promise<void> {
    const latest = await sms.latestTo(phone);
    if (!latest) return;
    await notifyInviter(latest, phone, 'help', jobId('smshelp', ref)).catch((err: unknown) => log.warn({ err: errorName(err) }, 'help request not passed on'));
  }

  /** Ends the rider's conversation (an unreachable number): the session is cancelled; nothing is sent. */
  async function endConversation(phone: string, messageId: string): Promise<void> {
    await deps.conversation.handle({ channel: 'sms', userId: phone, dedupeKey: `smsend-${messageId}`, input: { type: 'text', text: '取消' } });
  }

  /** The outbound worker's send of one recorded message (idempotent: only a claimable message is sent). */
  async function sendMessage(messageId: string): Promise<void> {
    const row = await sms.claim(messageId, RECHECK_MS);
    if (!row) { log.debug({ messageId }, 'sms not claimable (sent, superseded or taken)'); return; }
    if (!deps.sender) {
      await sms.settle(row.id, { status: 'failed', errorCode: 'SMS_NOT_CONFIGURED' });
      log.warn({ messageId }, 'sms not sent: ALIYUN_ACCESS_KEY_ID/SECRET are not configured');
      return;
    }
    const kind = (SMS_KINDS as readonly string[]).includes(row.kind) ? row.kind as SmsKind : null;
    if (!kind) { await sms.settle(row.id, { status: 'failed', errorCode: 'UNKNOWN_KIND' }); return; }
    const result = await deps.sender.send({ phone: row.phone, kind, params: row.params, outId: row.id });
    if (result.ok) {
      await sms.settle(row.id, { status: 'sent', bizId: result.bizId, errorCode: null });
      return;
    }
    switch (result.kind) {
      case 'flow_control':
        if (row.attempts <= MAX_FLOW_CONTROL_RETRIES && result.delayMs <= MAX_FLOW_CONTROL_DELAY_MS) {
          await sms.settle(row.id, { status: 'queued', errorCode: result.code });
          await enqueue(row.id, { delay: result.delayMs, suffix: `fc${row.attempts}` });
          log.warn({ messageId, code: result.code, delayMs: result.delayMs }, 'sms flow-controlled: re-scheduled');
          return;
        }
        await sms.settle(row.id, { status: 'failed', errorCode: result.code });
        await reportFailure(row, row.phone, 'failed');
        return;
      case 'invalid_number':
        await sms.settle(row.id, { status: 'failed', errorCode: result.code });
        await endConversation(row.phone, row.id);
        await reportFailure(row, row.phone, 'invalidNumber');
        return;
      case 'retryable':
        if (result.maybeSent) {
          await sms.settle(row.id, { status: 'uncertain', errorCode: result.code });
          await enqueue(row.id, { delay: RECHECK_MS + 1000, suffix: `chk${row.attempts}` });
          log.warn({ messageId, code: result.code }, 'sms may have been sent: waiting for its receipt before any resend');
          return;
        }
        if (row.attempts >= MAX_SEND_ATTEMPTS) {
          await sms.settle(row.id, { status: 'failed', errorCode: result.code });
          await reportFailure(row, row.phone, 'failed');
          return;
        }
        await sms.settle(row.id, { status: 'queued', errorCode: result.code });
        throw new UpstreamError('UPSTREAM_SMS_FAILED', `SendSms failed with ${result.code}; retrying`, { details: { retryable: true } });
      case 'permanent':
        await sms.settle(row.id, { status: 'failed', errorCode: result.code });
        log.error({ messageId, code: result.code, templateCode: row.templateCode }, 'sms refused permanently: check SMS configuration');
        await reportFailure(row, row.phone, 'failed');
        return;
      default: {
        const never: never = result;
        throw new Error(`unknown sms result ${JSON.stringify(never)}`);
      }
    }
  }

  /** SmsReport batch: delivered / failed by BizId or OutId; a failed invitation is reported to the inviter. */
  async function applyReports(items: readonly SmsReport[]): Promise<number> {
    let changed = 0;
    for (const item of items) {
      const rows = await sms.applyReceipt({ bizId: item.bizId, outId: item.outId, success: item.success, errCode: item.errCode });
      changed += rows.length;
      for (const row of rows) {
        if (!item.success && row.kind === 'invite' && isCnMobile(item.phone)) await reportFailure(row, item.phone, 'failed');
      }
    }
    return changed;
  }

  /** Waits for the background processing started by this process (graceful close, tests). */
  async function drain(): Promise<void> {
    while (inFlight.size > 0) await Promise.all([...inFlight]);
  }

  return { inviteBySms, receiveUplinks, sweep, sendMessage, applyReports, drain, queueSms };
}

export type SmsChannel = ReturnType<typeof createSmsChannel>;
