import { createHash, randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { XMLBuilder } from 'fast-xml-parser';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { wechatSignature } from '../channels/wechat/signature.js';
import { parseXmlRoot } from '../channels/wechat/xml.js';
import { tripQrPng } from '../channels/wechaty/trip-qr.js';
import { ConflictError, InputError, UpstreamError } from '../errors.js';
import { parseOr400 } from '../routes/api/api.js';
import type { Services } from '../services.js';

/**
 * The channel simulator (`GET /simulator`, on when `config.simulator`: by default with the embedded store only).
 * The page holds no secret: it calls these helpers, which play the outside parties against the REAL endpoints
 * through `app.inject` — WeChat's servers (XML push signed with WECHAT_TOKEN to `POST /wechat`) and Alibaba Cloud's
 * SMS uplink push (`POST /sms/aliyun/uplink?token=SMS_UPLINK_TOKEN`). Because it lets anyone speak as any user, it
 * must never be switched on for a public production service (SIMULATOR=false is the default with DATABASE_URL).
 */

const PAGE = readFileSync(new URL('./page.html', import.meta.url), 'utf8');
const OA_ID = 'gh_simulator00001';
const SMS_UPLINK_PATH = '/sms/aliyun/uplink';

const builder = new XMLBuilder({ cdataPropName: '__cdata', format: false, suppressEmptyNode: false, processEntities: true });
const cdata = (value: string) => ({ __cdata: value });

const WechatBody = z.union([
  z.strictObject({ user: z.string().trim().min(1).max(40), text: z.string().min(1, 'text: type a message').max(2000) }),
  z.strictObject({ user: z.string().trim().min(1).max(40), scan: z.string().regex(/^\d{6}$/, 'scan: expected the 6-digit trip code of the QR image') }),
]);
const SmsBody = z.strictObject({
  phone: z.string().trim().regex(/^1\d{10}$/, 'phone: expected an 11-digit mainland mobile number starting with 1'),
  text: z.string().min(1, 'text: type a message').max(500),
});
const OutboxQuery = z.object({ phone: z.string().trim().regex(/^1\d{10}$/, 'phone: expected an 11-digit mainland mobile number starting with 1') });

/** A stable fake OpenID for a simulated user name (OpenIDs are [A-Za-z0-9_-]). */
export function simulatedOpenid(user: string): string {
  return `osim${createHash('sha256').update(user, 'utf8').digest('base64url').slice(0, 24)}`;
}

let msgCounter = BigInt(Date.now()) * 1000n;
function nextMsgId(): string {
  msgCounter += 1n;
  return (7_000_000_000_000_000_000n + msgCounter).toString();
}

function pushXml(openid: string, body: { text: string } | { scan: string }): string {
  const head = { ToUserName: cdata(OA_ID), FromUserName: cdata(openid), CreateTime: Math.floor(Date.now() / 1000) };
  if ('text' in body) return builder.build({ xml: { ...head, MsgType: cdata('text'), Content: cdata(body.text), MsgId: nextMsgId() } }) as string;
  return builder.build({ xml: { ...head, MsgType: cdata('event'), Event: cdata('subscribe'), EventKey: cdata(`qrscene_trip-${body.scan}`), Ticket: cdata('gQSIMULATOR') } }) as string;
}

/**
 * The carrier stamps uplinks to the second, and the same text at the same second counts as a duplicate push;
 * an operator typing `1` twice within a second is not one, so the simulated carrier never reuses a second per phone.
 */
const lastStamp = new Map<string, number>();
function carrierClock(phone: string): Date {
  const now = Math.floor(Date.now() / 1000);
  const stamp = Math.max(now, (lastStamp.get(phone) ?? 0) + 1);
  lastStamp.set(phone, stamp);
  if (lastStamp.size > 10_000) lastStamp.clear();
  return new Date(stamp * 1000);
}

function chinaTime(date: Date): string {
  return new Date(date.getTime() + 8 * 3600_000).toISOString().slice(0, 19).replace('T', ' ');
}

/** Provided by the SMS layer when it records outgoing messages: the texts sent to a number, oldest first. */
export type SmsOutbox = (phone: string) => Promise<{ text: string; sentAt: string }[]>;

export async function simulatorRoutes(app: FastifyInstance, opts: { services: Services; smsOutbox?: SmsOutbox }): Promise<void> {
  const { services } = opts;
  const hide = { hide: true };

  app.get('/simulator', { schema: hide }, async (_request, reply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(PAGE));

  app.get('/simulator/qr/:file', { schema: hide }, async (request, reply) => {
    const file = (request.params as { file?: string }).file ?? '';
    const code = /^(\d{6})\.png$/.exec(file)?.[1];
    if (!code) throw new InputError('INPUT_INVALID', 'file: expected <6-digit trip code>.png');
    return reply.type('image/png').header('cache-control', 'public, max-age=86400').send(await tripQrPng(code));
  });

  function smsState(): { enabled: true } | { enabled: false; message: string } {
    if (!services.config.sms.uplinkToken) return { enabled: false, message: 'SMS channel not configured: set SMS_UPLINK_TOKEN (and the Alibaba Cloud SMS settings).' };
    if (!app.hasRoute({ method: 'POST', url: SMS_UPLINK_PATH })) return { enabled: false, message: 'SMS channel not configured: this build has no SMS uplink endpoint.' };
    return { enabled: true };
  }

  app.get('/simulator/api/status', { schema: hide }, async () => ({
    wechat: services.wechat ? { enabled: true } : { enabled: false, message: 'WeChat channel not configured: set WECHAT_TOKEN.' },
    sms: { ...smsState(), outbox: opts.smsOutbox !== undefined },
  }));

  app.post('/simulator/api/wechat', { schema: hide }, async (request) => {
    const body = parseOr400(WechatBody, request.body);
    const wechat = services.wechat;
    if (!wechat) throw new ConflictError('WECHAT_NOT_CONFIGURED', 'WeChat channel not configured: set WECHAT_TOKEN');
    const openid = simulatedOpenid(body.user);
    const timestamp = String(Math.floor(Date.now() / 1000));
    const nonce = String(randomInt(100_000_000, 2_000_000_000));
    const res = await app.inject({
      method: 'POST', url: '/wechat', headers: { 'content-type': 'text/xml' },
      query: { signature: wechatSignature(wechat.token, timestamp, nonce), timestamp, nonce, openid },
      payload: pushXml(openid, 'text' in body ? { text: body.text } : { scan: body.scan }),
    });
    if (res.statusCode !== 200) throw new UpstreamError('SIMULATOR_UPSTREAM', `POST /wechat answered ${res.statusCode}: ${res.body.slice(0, 300)}`);
    const content = res.body === '' || res.body === 'success' ? '' : String(parseXmlRoot(res.body)['Content'] ?? '');
    const qr: { code: string; url: string }[] = [];
    for (const match of content.matchAll(/(?<![\d*])(\d{6})(?![\d*])/g)) {
      const code = match[1] ?? '';
      if (qr.some((q) => q.code === code)) continue;
      if (await services.repos.trips.byCode(code)) qr.push({ code, url: `/simulator/qr/${code}.png` });
    }
    return { openid, reply: content, qr };
  });

  app.post('/simulator/api/sms', { schema: hide }, async (request) => {
    const body = parseOr400(SmsBody, request.body);
    const state = smsState();
    if (!state.enabled) throw new ConflictError('SMS_NOT_CONFIGURED', state.message);
    const push = [{
      phone_number: body.phone, send_time: chinaTime(carrierClock(body.phone)), content: body.text, sign_name: services.config.sms.signName,
      dest_code: '0000', sequence_id: String(Date.now() * 1000 + randomInt(1000)),
    }];
    const res = await app.inject({ method: 'POST', url: SMS_UPLINK_PATH, query: { token: services.config.sms.uplinkToken ?? '' }, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(push) });
    if (res.statusCode !== 200) throw new UpstreamError('SIMULATOR_UPSTREAM', `POST ${SMS_UPLINK_PATH} answered ${res.statusCode}: ${res.body.slice(0, 300)}`);
    return { accepted: true };
  });

  app.get('/simulator/api/sms/outbox', { schema: hide }, async (request) => {
    const { phone } = parseOr400(OutboxQuery, request.query);
    if (!opts.smsOutbox) throw new ConflictError('SMS_NOT_CONFIGURED', 'SMS channel not configured: the SMS layer records no outgoing messages in this build.');
    return { phone, messages: await opts.smsOutbox(phone) };
  });
}
