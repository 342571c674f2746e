import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { SmsChannel } from '../../channels/sms/sms-channel.js';
import { parseReportBatch, parseUplinkBatch, type SkippedElement } from '../../channels/sms/uplink.js';
import { AuthError } from '../../errors.js';

export interface SmsRouteDeps {
  uplinkToken: string;
  channel: SmsChannel;
}

/** What Alibaba expects back from both pushes (it only checks that `code` is a number). */
const RECEIVED = { code: 0, msg: '成功' } as const;
/** A push of 1,000 elements of up to 2,000 characters each still fits. */
const BODY_LIMIT = 8 * 1024 * 1024;

function tokenMatches(expected: string, given: unknown): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

function checkToken(deps: SmsRouteDeps, request: FastifyRequest): void {
  const token = (request.query as Record<string, unknown>)['token'];
  if (!tokenMatches(deps.uplinkToken, token)) throw new AuthError('SMS_BAD_TOKEN', 'token: the push URL must carry the configured SMS_UPLINK_TOKEN');
}

function logSkipped(request: FastifyRequest, what: string, skipped: readonly SkippedElement[]): void {
  for (const s of skipped) request.log.warn({ index: s.index, issues: s.issues }, `${what} element skipped`);
}

/**
 * Alibaba Cloud SMS pushes (SmsUp, SmsReport), both guarded by `?token=` (Alibaba signs nothing).
 * Uplinks are stored (deduplicated) and answered at once; processing runs in the background (see sms-channel.ts).
 * A malformed element is logged (paths and messages, never values) and skipped; the rest of the batch is kept.
 */
export async function smsRoutes(app: FastifyInstance, deps: SmsRouteDeps): Promise<void> {
  app.post('/sms/aliyun/uplink', { bodyLimit: BODY_LIMIT }, async (request, reply) => {
    checkToken(deps, request);
    const batch = parseUplinkBatch(request.body);
    logSkipped(request, 'sms uplink', batch.skipped);
    const receipt = await deps.channel.receiveUplinks(batch.items);
    request.log.info({ elements: batch.items.length, stored: receipt.stored, duplicates: receipt.duplicates, skipped: batch.skipped.length }, 'sms uplink push');
    return reply.send(RECEIVED);
  });

  app.post('/sms/aliyun/report', { bodyLimit: BODY_LIMIT }, async (request, reply) => {
    checkToken(deps, request);
    const batch = parseReportBatch(request.body);
    logSkipped(request, 'sms report', batch.skipped);
    const changed = await deps.channel.applyReports(batch.items);
    request.log.info({ elements: batch.items.length, changed, skipped: batch.skipped.length }, 'sms report push');
    return reply.send(RECEIVED);
  });
}
