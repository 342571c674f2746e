/**
 * Plays WeChat's servers in tests: builds the XML WeChat posts, signs (and in safe mode encrypts) it exactly as
 * WeChat does, and opens the passive reply the service sends back (checking MsgSignature and decrypting).
 *
 *   const req = signRequest({ token, body: textXml({ from: openid, content: '辽A12345', msgId: '1' }), aesKey, appId });
 *   const res = await app.inject({ method: 'POST', url: '/wechat', query: req.query, payload: req.body,
 *                                  headers: { 'content-type': 'text/xml' } });
 *   const reply = openReply(res.body, { token, aesKey, appId });   // null for `success` / empty
 *   expect(reply?.content).toContain('…');
 *
 * Bodies are built with fast-xml-parser's builder (strings in CDATA, numbers bare), never by interpolation.
 * Malformed bodies can still be signed (for negative tests): `openid` is then left out of the query.
 */
import { randomInt } from 'node:crypto';
import { XMLBuilder } from 'fast-xml-parser';
import { z } from 'zod';
import { signatureMatches, wechatSignature } from '../../src/channels/wechat/signature.js';
import { createWechatCrypto } from '../../src/channels/wechat/wechat-crypto.js';
import { parseXmlRoot } from '../../src/channels/wechat/xml.js';

/** The OA original id used when a test does not name one. */
export const DEFAULT_OA_ID = 'gh_boardroll0001';

const builder = new XMLBuilder({ cdataPropName: '__cdata', format: false, suppressEmptyNode: false, processEntities: true });
const cdata = (value: string) => ({ __cdata: value });
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** A user's text message. `msgId` is the 64-bit MsgId (give a string; numbers above 2^53 are not exact). */
export function textXml(args: { from: string; to?: string; content: string; msgId: string | bigint; createTime?: number }): string {
  return builder.build({
    xml: {
      ToUserName: cdata(args.to ?? DEFAULT_OA_ID),
      FromUserName: cdata(args.from),
      CreateTime: args.createTime ?? nowSeconds(),
      MsgType: cdata('text'),
      Content: cdata(args.content),
      MsgId: String(args.msgId),
    },
  }) as string;
}

/** A voice message; `recognition` is WeChat's speech-to-text (empty when recognition is off). */
export function voiceXml(args: { from: string; to?: string; recognition?: string; msgId: string | bigint; createTime?: number; mediaId?: string }): string {
  return builder.build({
    xml: {
      ToUserName: cdata(args.to ?? DEFAULT_OA_ID),
      FromUserName: cdata(args.from),
      CreateTime: args.createTime ?? nowSeconds(),
      MsgType: cdata('voice'),
      MediaId: cdata(args.mediaId ?? 'voice-media-id'),
      Format: cdata('amr'),
      Recognition: cdata(args.recognition ?? ''),
      MsgId: String(args.msgId),
    },
  }) as string;
}

/**
 * An event push: `subscribe` (eventKey `qrscene_<scene>` when the follow came from a trip QR code), `SCAN` (eventKey =
 * bare scene), `unsubscribe`, `CLICK`… `ticket` defaults to a fixed value when an eventKey is given.
 */
export function eventXml(args: { from: string; to?: string; event: string; eventKey?: string; ticket?: string; createTime: number }): string {
  const withKey = args.eventKey !== undefined;
  return builder.build({
    xml: {
      ToUserName: cdata(args.to ?? DEFAULT_OA_ID),
      FromUserName: cdata(args.from),
      CreateTime: args.createTime,
      MsgType: cdata('event'),
      Event: cdata(args.event),
      ...(withKey ? { EventKey: cdata(args.eventKey ?? '') } : {}),
      ...(withKey || args.ticket !== undefined ? { Ticket: cdata(args.ticket ?? 'gQTESTTICKET') } : {}),
    },
  }) as string;
}

function fieldOf(body: string, name: string): string | undefined {
  try {
    const value = parseXmlRoot(body)[name];
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined; // a deliberately malformed body: sign it anyway
  }
}

export interface SignedRequest {
  query: Record<string, string>;
  body: string;
}

/**
 * Signs a push like WeChat: plaintext mode → `signature`, `timestamp`, `nonce`, `openid`; with `aesKey` → safe mode
 * (`encrypt_type=aes`, `msg_signature`, body `<xml><ToUserName/><Encrypt/></xml>`), or compatible mode with
 * `compatible: true` (the plaintext fields and `<Encrypt>` in one body).
 */
export function signRequest(args: {
  token: string;
  body: string;
  aesKey?: string;
  appId?: string;
  timestamp?: string | number;
  nonce?: string;
  compatible?: boolean;
}): SignedRequest {
  const timestamp = String(args.timestamp ?? nowSeconds());
  const nonce = args.nonce ?? String(randomInt(100_000_000, 2_000_000_000));
  const openid = fieldOf(args.body, 'FromUserName');
  const query: Record<string, string> = {
    signature: wechatSignature(args.token, timestamp, nonce),
    timestamp,
    nonce,
    ...(openid === undefined ? {} : { openid }),
  };
  if (args.aesKey === undefined) return { query, body: args.body };
  if (args.appId === undefined) throw new Error('signRequest: safe mode (aesKey) needs appId');
  const encrypt = createWechatCrypto(args.aesKey, args.appId).encrypt(args.body);
  let body: string;
  if (args.compatible === true) {
    const close = args.body.lastIndexOf('</xml>');
    if (close === -1) throw new Error('signRequest: compatible mode needs a body ending in </xml>');
    // Encrypt is base64, so inserting its element next to the plaintext fields cannot change the structure.
    body = `${args.body.slice(0, close)}${builder.build({ Encrypt: cdata(encrypt) }) as string}${args.body.slice(close)}`;
  } else {
    const toUser = fieldOf(args.body, 'ToUserName');
    body = builder.build({ xml: { ...(toUser === undefined ? {} : { ToUserName: cdata(toUser) }), Encrypt: cdata(encrypt) } }) as string;
  }
  return {
    query: { ...query, encrypt_type: 'aes', msg_signature: wechatSignature(args.token, timestamp, nonce, encrypt) },
    body,
  };
}

export interface OpenedReply {
  toUser: string;
  fromUser: string;
  createTime: number;
  msgType: string;
  content?: string;
  mediaId?: string;
  /** True when the reply came in a verified, decrypted safe-mode envelope. */
  encrypted: boolean;
  /** Every field of the (decrypted) reply as parsed. */
  raw: Record<string, unknown>;
}

const ReplySchema = z.object({
  ToUserName: z.string().min(1),
  FromUserName: z.string().min(1),
  CreateTime: z.string().regex(/^\d{1,10}$/, 'expected Unix seconds'),
  MsgType: z.string().min(1),
  Content: z.string().optional(),
  Image: z.object({ MediaId: z.string().min(1) }).optional(),
});
const EnvelopeSchema = z.object({
  Encrypt: z.string().min(1),
  MsgSignature: z.string().regex(/^[0-9a-f]{40}$/),
  TimeStamp: z.string().regex(/^\d{1,10}$/, 'expected Unix seconds'),
  Nonce: z.string().min(1),
});

/**
 * Opens a passive reply. `success` or an empty body → null ("nothing to say"). With `aesKey` the reply must be a
 * safe-mode envelope whose MsgSignature verifies (unless `allowPlaintext`, for compatible mode); it is decrypted
 * with `appId`. Throws an Error naming what is wrong otherwise.
 */
export function openReply(
  body: string,
  opts: { token: string; aesKey?: string; appId?: string; allowPlaintext?: boolean },
): OpenedReply | null {
  if (body === '' || body === 'success') return null;
  let root = parseXmlRoot(body);
  let encrypted = false;
  if ('Encrypt' in root) {
    if (opts.aesKey === undefined || opts.appId === undefined) throw new Error('openReply: the reply is encrypted but no aesKey/appId was given');
    const envelope = EnvelopeSchema.parse(root);
    const expected = wechatSignature(opts.token, envelope.TimeStamp, envelope.Nonce, envelope.Encrypt);
    if (!signatureMatches(envelope.MsgSignature, expected)) throw new Error('openReply: MsgSignature does not match the encrypted reply');
    root = parseXmlRoot(createWechatCrypto(opts.aesKey, opts.appId).decrypt(envelope.Encrypt));
    encrypted = true;
  } else if (opts.aesKey !== undefined && opts.allowPlaintext !== true) {
    throw new Error('openReply: safe mode requires an encrypted reply, got plaintext XML');
  }
  const reply = ReplySchema.parse(root);
  return {
    toUser: reply.ToUserName,
    fromUser: reply.FromUserName,
    createTime: Number(reply.CreateTime),
    msgType: reply.MsgType,
    ...(reply.Content === undefined ? {} : { content: reply.Content }),
    ...(reply.Image === undefined ? {} : { mediaId: reply.Image.MediaId }),
    encrypted,
    raw: root,
  };
}
