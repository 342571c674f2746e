import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Queue } from 'bullmq';
import type { Reply } from '../../contracts/conversation.js';
import { jobId, type OutboundJob } from '../../contracts/jobs.js';
import type { ConversationService } from '../../conversation/service.js';
import { AuthError, InputError } from '../../errors.js';
import type { Translator } from '../../i18n/i18n.js';
import { renderText } from '../../i18n/render.js';
import { openEncryptedRequest, sealReply } from '../../channels/wechat/safe-mode.js';
import { verifyQuerySignature } from '../../channels/wechat/signature.js';
import type { WechatCrypto } from '../../channels/wechat/wechat-crypto.js';
import { buildTextReply, dedupeKeyOf, MAX_INBOUND_XML_BYTES, parseInboundXml, toUserInput } from '../../channels/wechat/xml.js';

export interface WechatRouteDeps {
  token: string;
  crypto: WechatCrypto | null;
  conversation: ConversationService;
  translator: Translator;
  outbound: Queue;
  /** Seals the openid put into job data. */
  sealRecipient(openid: string): string;
}

type Query = Record<string, unknown>;

/** Joins the text replies of a turn into one passive reply (WeChat allows exactly one). */
export function renderPassiveText(translator: Translator, locale: Parameters<Translator['t']>[0], replies: Reply[]): string {
  return replies.flatMap((r) => (r.type === 'text' ? [renderText(translator, locale, r)] : [])).join('\n\n');
}

/**
 * The OA message endpoint: signature first (401, nothing stored), XML parsed without entities, one engine turn,
 * passive reply (encrypted in safe mode). Retries get the first reply and no second effect (the service dedupes).
 */
export async function wechatRoutes(app: FastifyInstance, deps: WechatRouteDeps): Promise<void> {
  // WeChat posts XML only: anything else (JSON, forms, plain text) is 415 in this scope.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(['text/xml', 'application/xml'], { parseAs: 'string', bodyLimit: MAX_INBOUND_XML_BYTES }, (_req, body, done) => done(null, body));

  app.get('/wechat', async (request, reply) => {
    const query = request.query as Query;
    if (!verifyQuerySignature(deps.token, query)) throw new AuthError('WECHAT_BAD_SIGNATURE', 'signature does not match token, timestamp and nonce');
    const echostr = query['echostr'];
    if (typeof echostr !== 'string') throw new InputError('WECHAT_NO_ECHOSTR', 'echostr: expected a string in the query');
    return reply.type('text/plain').send(echostr);
  });

  app.post('/wechat', { bodyLimit: MAX_INBOUND_XML_BYTES }, async (request, reply) => {
    const query = request.query as Query;
    const body = bodyText(request);
    const safeMode = query['encrypt_type'] === 'aes';
    let xml: string;
    if (safeMode) {
      if (!deps.crypto) throw new InputError('WECHAT_SAFE_MODE_OFF', 'encrypt_type=aes but no WECHAT_AES_KEY is configured');
      xml = openEncryptedRequest({ token: deps.token, crypto: deps.crypto, query, body });
    } else {
      if (!verifyQuerySignature(deps.token, query)) throw new AuthError('WECHAT_BAD_SIGNATURE', 'signature does not match token, timestamp and nonce');
      xml = body;
    }
    const message = parseInboundXml(xml);
    const input = toUserInput(message);
    if (!input) return reply.type('text/plain').send('success');
    const dedupeKey = dedupeKeyOf(message);
    request.log.info({ dedupeKey, kind: input.type }, 'wechat message');
    const turn = await deps.conversation.handle({ channel: 'wechat', userId: message.fromUser, dedupeKey, input });
    if (!turn.duplicate) await enqueueAttachments(deps.outbound, turn.replies, deps.sealRecipient(message.fromUser), dedupeKey);
    const [content = '', ...rest] = splitForPassiveReply(renderPassiveText(deps.translator, turn.locale, turn.replies));
    if (!turn.duplicate && rest.length > 0) await enqueueContinuation(deps, rest, message.fromUser, dedupeKey);
    if (content === '') return reply.type('text/plain').send('success');
    const replyXml = buildTextReply({ toUser: message.fromUser, fromUser: message.toUser, createTime: Math.floor(Date.now() / 1000), content });
    if (!safeMode || !deps.crypto) return reply.type('application/xml').send(replyXml);
    const nonce = typeof query['nonce'] === 'string' ? query['nonce'] : '';
    return reply.type('application/xml').send(sealReply({ token: deps.token, crypto: deps.crypto, replyXml, timestamp: Math.floor(Date.now() / 1000), nonce }));
  });
}

/** WeChat shows at most about 2048 bytes of a passive text reply: split on line breaks into parts under that. */
export const PASSIVE_REPLY_MAX_BYTES = 2000;
export function splitForPassiveReply(text: string): string[] {
  if (Buffer.byteLength(text) <= PASSIVE_REPLY_MAX_BYTES) return [text];
  const parts: string[] = [];
  let current = '';
  for (const line of text.split('\n')) {
    const candidate = current === '' ? line : `${current}\n${line}`;
    if (Buffer.byteLength(candidate) > PASSIVE_REPLY_MAX_BYTES && current !== '') { parts.push(current); current = line; } else current = candidate;
  }
  if (current !== '') parts.push(current);
  return parts;
}

async function enqueueContinuation(deps: WechatRouteDeps, parts: string[], openid: string, reqId: string): Promise<void> {
  for (const [index, part] of parts.entries()) {
    const job: OutboundJob = { kind: 'wechat-continuation', openid: deps.sealRecipient(openid), text: deps.sealRecipient(part), reqId };
    await deps.outbound.add(job.kind, job, { jobId: jobId('more', reqId, String(index)), attempts: 5, backoff: { type: 'exponential', delay: 2000 }, removeOnComplete: 1000, removeOnFail: 5000 });
  }
}

function bodyText(request: FastifyRequest): string {
  if (typeof request.body === 'string') return request.body;
  throw new InputError('WECHAT_BAD_XML', 'body: expected an XML document (Content-Type text/xml)');
}

/** The trip QR image goes out through the customer-service API from a worker: slow, and must not risk WeChat's 5 s deadline. */
async function enqueueAttachments(outbound: Queue, replies: Reply[], sealedOpenid: string, reqId: string): Promise<void> {
  for (const r of replies) {
    if (r.type !== 'qr') continue;
    const job: OutboundJob = { kind: 'wechat-trip-qr', tripId: r.tripId, openid: sealedOpenid, reqId };
    await outbound.add(job.kind, job, { jobId: jobId('qr', r.tripId), attempts: 5, backoff: { type: 'exponential', delay: 2000 }, removeOnComplete: 1000, removeOnFail: 5000 });
  }
}
