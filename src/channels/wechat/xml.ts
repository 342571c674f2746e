import { createHash } from 'node:crypto';
import { XMLBuilder, XMLParser, XMLValidator, type EntityDecoderOptions } from 'fast-xml-parser';
import { z } from 'zod';
import type { UserInput } from '../../contracts/conversation.js';
import { AppError, InputError, PayloadTooLargeError } from '../../errors.js';

/**
 * OA message XML: strict parsing of what WeChat posts, and building of passive replies.
 *
 * Parsing rules (reference wechat-oa.md §2, §4, §7.11):
 * - no value is coerced: every field stays a string (MsgId is a 64-bit integer > 2^53), CreateTime is checked
 *   and converted here;
 * - markup declarations (DOCTYPE, ENTITY…) outside CDATA are rejected before the parser sees the text, so no
 *   entity is ever defined or expanded. Only the five predefined XML escapes and numeric character references
 *   are decoded in non-CDATA text (WeChat itself wraps every string in CDATA);
 * - CDATA content is taken verbatim (not trimmed, no entity decoding).
 */

/** WeChat pushes are small (a text is ≤ 2048 bytes, a compatible-mode body ≈ 3×); anything bigger is refused. */
export const MAX_INBOUND_XML_BYTES = 64 * 1024;

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
const ENTITY_RE = /&(?:#x([0-9a-fA-F]{1,6})|#([0-9]{1,7})|(lt|gt|amp|quot|apos));/g;

function decodeCodePoint(cp: number, raw: string): string {
  const isXmlChar = cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
  return isXmlChar ? String.fromCodePoint(cp) : raw;
}

/** Decodes character references only; a DTD can never add entities (and cannot reach the parser anyway). */
const characterReferenceDecoder: EntityDecoderOptions = {
  setExternalEntities: (entities) => {
    if (Object.keys(entities).length > 0) throw new Error('entity definitions are not allowed');
  },
  addInputEntities: () => {
    throw new Error('DOCTYPE declarations are not allowed');
  },
  reset: () => undefined,
  setXmlVersion: () => undefined,
  decode: (text) =>
    text.replace(ENTITY_RE, (raw, hex: string | undefined, dec: string | undefined, name: string | undefined) => {
      if (hex !== undefined) return decodeCodePoint(Number.parseInt(hex, 16), raw);
      if (dec !== undefined) return decodeCodePoint(Number.parseInt(dec, 10), raw);
      return PREDEFINED[name ?? ''] ?? raw;
    }),
};

const parser = new XMLParser({
  parseTagValue: false,
  parseAttributeValue: false,
  ignoreAttributes: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  trimValues: true,
  processEntities: true,
  htmlEntities: false,
  entityDecoder: characterReferenceDecoder,
  isArray: () => false,
  maxNestedTags: 16,
});

const builder = new XMLBuilder({ cdataPropName: '__cdata', format: false, suppressEmptyNode: false, processEntities: true });

function badXml(message: string, details?: Record<string, unknown>, cause?: unknown): InputError {
  return new InputError('WECHAT_BAD_XML', message, {
    ...(details ? { details } : {}),
    ...(cause === undefined ? {} : { cause }),
  });
}

/** Index of the first `<!` that is neither a CDATA section nor a comment, or -1. */
function findMarkupDeclaration(xml: string): number {
  let i = xml.indexOf('<!');
  while (i !== -1) {
    let end: number;
    if (xml.startsWith('<![CDATA[', i)) end = xml.indexOf(']]>', i + 9);
    else if (xml.startsWith('<!--', i)) end = xml.indexOf('-->', i + 4);
    else return i;
    if (end === -1) return -1; // unterminated: the validator reports it with a position
    i = xml.indexOf('<!', end + 3);
  }
  return -1;
}

function lineOf(text: string, index: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < index; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `a repeated element (${value.length} times)`;
  return typeof value === 'object' ? 'nested elements' : typeof value;
}

/**
 * The safe first step shared by every WeChat XML reader: size, declarations, well-formedness, one `<xml>` root.
 * Returns the root's children as a plain object of strings (nested elements as objects, repeated ones as arrays).
 */
export function parseXmlRoot(body: string): Record<string, unknown> {
  if (typeof body !== 'string') throw badXml(`body: expected XML text, got ${describe(body)}`, { reason: 'not_text' });
  const bytes = Buffer.byteLength(body, 'utf8');
  if (bytes > MAX_INBOUND_XML_BYTES) {
    throw new PayloadTooLargeError('WECHAT_XML_TOO_LARGE', `body: expected at most ${MAX_INBOUND_XML_BYTES} bytes of XML, got ${bytes}`);
  }
  if (body.trim() === '') throw badXml('body: expected an <xml> document, got an empty body', { reason: 'empty' });
  const declaration = findMarkupDeclaration(body);
  if (declaration !== -1) {
    const isDoctype = body.startsWith('<!DOCTYPE', declaration) || body.slice(declaration, declaration + 9).toUpperCase() === '<!DOCTYPE';
    const what = isDoctype ? 'DOCTYPE' : 'markup declaration (<!…)';
    throw badXml(`body: ${what} at line ${lineOf(body, declaration)} is not allowed`, { reason: 'doctype', line: lineOf(body, declaration) });
  }
  const validation = XMLValidator.validate(body);
  if (validation !== true) {
    const { code, msg, line, col } = validation.err;
    throw badXml(`body: malformed XML at line ${line}${col === undefined ? '' : `, column ${col}`}: ${msg}`, { reason: 'malformed', xmlCode: code, line, col });
  }
  let doc: unknown;
  try {
    doc = parser.parse(body);
  } catch (err) {
    const msg = err instanceof Error ? err.message : 'unknown parser error';
    throw badXml(`body: XML rejected by the parser: ${msg}`, { reason: 'parser' }, err);
  }
  if (typeof doc !== 'object' || doc === null) throw badXml('body: expected an <xml> root element', { reason: 'root' });
  const roots = Object.keys(doc);
  if (roots.length !== 1 || roots[0] !== 'xml') {
    throw badXml(`body: expected exactly one <xml> root element, got <${roots.join('>, <') || 'nothing'}>`, { reason: 'root' });
  }
  const root: unknown = (doc as { xml: unknown }).xml;
  if (typeof root !== 'object' || root === null || Array.isArray(root)) {
    throw badXml('body: the <xml> root element has no child elements', { reason: 'root' });
  }
  return root as Record<string, unknown>;
}

function issuesError(issues: readonly z.core.$ZodIssue[]): InputError {
  const list = issues.map((i) => ({ path: i.path.map(String).join('.') || 'xml', message: i.message }));
  return badXml(list.map((i) => `${i.path}: ${i.message}`).join('; '), { reason: 'fields', issues: list });
}

const field = z.string({ error: (iss) => (iss.input === undefined ? 'required element is missing' : `expected text, got ${describe(iss.input)}`) });
const optionalField = field.optional();
const digits = (max: number, what: string) => field.regex(new RegExp(`^\\d{1,${max}}$`), `expected ${what}`);

function definedOnly<T extends Record<string, string | undefined>>(fields: T): { [K in keyof T]?: string } {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: string };
}

/** What WeChat posts (plaintext, or the decrypted `Encrypt` text), with the PascalCase names of the wire. */
const RawInboundSchema = z
  .object({
    ToUserName: field.min(1, 'expected a non-empty OA id'),
    FromUserName: field.min(1, 'expected a non-empty OpenID'),
    CreateTime: digits(12, 'integer Unix seconds'),
    MsgType: field.min(1, 'expected a non-empty message type'),
    MsgId: digits(20, 'a decimal message id').optional(),
    // TEMPLATESENDJOBFINISH spells it with a capital D.
    MsgID: digits(20, 'a decimal message id').optional(),
    Content: optionalField,
    Event: optionalField,
    EventKey: optionalField,
    Ticket: optionalField,
    Encrypt: optionalField,
    Recognition: optionalField,
    MediaId: optionalField,
    Format: optionalField,
    PicUrl: optionalField,
    ThumbMediaId: optionalField,
    Location_X: optionalField,
    Location_Y: optionalField,
    Scale: optionalField,
    Label: optionalField,
    Title: optionalField,
    Description: optionalField,
    Url: optionalField,
    Latitude: optionalField,
    Longitude: optionalField,
    Precision: optionalField,
    MenuId: optionalField,
    Status: optionalField,
    MsgDataId: optionalField,
    Idx: optionalField,
    bizmsgmenuid: optionalField,
  })
  .superRefine((raw, ctx) => {
    if (raw.MsgType === 'text' && raw.Content === undefined) {
      ctx.addIssue({ code: 'custom', path: ['Content'], message: 'required element is missing (MsgType is text)' });
    }
    if (raw.MsgType === 'event' && (raw.Event === undefined || raw.Event === '')) {
      ctx.addIssue({ code: 'custom', path: ['Event'], message: 'required element is missing (MsgType is event)' });
    }
  });

/** A parsed inbound OA message or event; field names are camelCase, every value but createTime is a string. */
export const OaInboundSchema = RawInboundSchema.transform((r) => ({
  toUser: r.ToUserName,
  fromUser: r.FromUserName,
  createTime: Number(r.CreateTime),
  msgType: r.MsgType,
  // Only the fields that arrived, so the object stays small and `'content' in msg` means something.
  ...definedOnly({
    msgId: r.MsgId ?? r.MsgID,
    content: r.Content,
    event: r.Event,
    eventKey: r.EventKey,
    ticket: r.Ticket,
    encrypt: r.Encrypt,
    recognition: r.Recognition,
    mediaId: r.MediaId,
    format: r.Format,
    picUrl: r.PicUrl,
    thumbMediaId: r.ThumbMediaId,
    locationX: r.Location_X,
    locationY: r.Location_Y,
    scale: r.Scale,
    label: r.Label,
    title: r.Title,
    description: r.Description,
    url: r.Url,
    latitude: r.Latitude,
    longitude: r.Longitude,
    precision: r.Precision,
    menuId: r.MenuId,
    status: r.Status,
    msgDataId: r.MsgDataId,
    idx: r.Idx,
    bizMsgMenuId: r.bizmsgmenuid,
  }),
}));
export type OaInbound = z.infer<typeof OaInboundSchema>;

/** Parses a plaintext push (or the decrypted text of `<Encrypt>`). Throws InputError WECHAT_BAD_XML. */
export function parseInboundXml(body: string): OaInbound {
  const parsed = OaInboundSchema.safeParse(parseXmlRoot(body));
  if (!parsed.success) throw issuesError(parsed.error.issues);
  return parsed.data;
}

const EnvelopeSchema = z.object({ ToUserName: optionalField, Encrypt: field.min(1, 'expected base64 text, got an empty element') });
export interface EncryptedEnvelope { toUser?: string; encrypt: string }

/** Reads the safe/compatible-mode envelope: `<xml><ToUserName/>?<Encrypt/></xml>` (other fields ignored). */
export function parseEncryptedEnvelope(body: string): EncryptedEnvelope {
  const parsed = EnvelopeSchema.safeParse(parseXmlRoot(body));
  if (!parsed.success) throw issuesError(parsed.error.issues);
  const { ToUserName, Encrypt } = parsed.data;
  return ToUserName === undefined ? { encrypt: Encrypt } : { toUser: ToUserName, encrypt: Encrypt };
}

// ---------------------------------------------------------------------------------------------- replies

// Characters XML 1.0 cannot carry at all (C0 controls but tab/LF/CR, U+FFFE/U+FFFF, lone surrogates): a reply
// holding one would be malformed and WeChat would show "该公众号暂时无法提供服务". They are dropped.
const NON_XML_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function cdata(value: string): { __cdata: string } {
  return { __cdata: value.replace(NON_XML_CHARS, '') };
}

function seconds(value: number | string, name: string): string {
  const s = String(value);
  if (!/^\d{1,12}$/.test(s)) throw new AppError('WECHAT_BAD_REPLY', `${name}: expected integer Unix seconds, got ${JSON.stringify(s)}`);
  return s;
}

export interface ReplyAddress {
  /** The user's OpenID (the inbound FromUserName). */
  toUser: string;
  /** The OA's original id (the inbound ToUserName). */
  fromUser: string;
  /** Unix seconds. */
  createTime: number;
}

/** `<xml>…<MsgType>text</MsgType><Content>…</Content></xml>`; `]]>` in content is split across CDATA sections. */
export function buildTextReply(reply: ReplyAddress & { content: string }): string {
  return builder.build({
    xml: {
      ToUserName: cdata(reply.toUser),
      FromUserName: cdata(reply.fromUser),
      CreateTime: seconds(reply.createTime, 'createTime'),
      MsgType: cdata('text'),
      Content: cdata(reply.content),
    },
  }) as string;
}

/** Image passive reply; `mediaId` must come from a media upload. */
export function buildImageReply(reply: ReplyAddress & { mediaId: string }): string {
  return builder.build({
    xml: {
      ToUserName: cdata(reply.toUser),
      FromUserName: cdata(reply.fromUser),
      CreateTime: seconds(reply.createTime, 'createTime'),
      MsgType: cdata('image'),
      Image: { MediaId: cdata(reply.mediaId) },
    },
  }) as string;
}

/** The safe-mode reply envelope. `signature` = wechatSignature(token, timestamp, nonce, encrypt). */
export function buildEncryptedReply(reply: { encrypt: string; signature: string; timestamp: number | string; nonce: string }): string {
  return builder.build({
    xml: {
      Encrypt: cdata(reply.encrypt),
      MsgSignature: cdata(reply.signature),
      TimeStamp: seconds(reply.timestamp, 'timestamp'),
      Nonce: cdata(reply.nonce),
    },
  }) as string;
}

// ---------------------------------------------------------------------------------------------- normalization

const QR_SCENE_PREFIX = 'qrscene_';
/** Events that need no answer and start nothing (an unsubscribed user sees no reply; reports are bookkeeping). */
const SILENT_EVENTS = new Set([
  'unsubscribe', 'location', 'view', 'view_miniprogram', 'templatesendjobfinish', 'masssendjobfinish', 'publishjobfinish',
  'subscribe_msg_popup_event', 'subscribe_msg_change_event', 'subscribe_msg_sent_event',
]);

/**
 * Maps a parsed OA message to the project's normalized input, or null when there is nothing to do
 * (unsubscribe, location reports, delivery reports…).
 */
export function toUserInput(msg: OaInbound): UserInput | null {
  switch (msg.msgType) {
    case 'text':
      return { type: 'text', text: msg.content ?? '' };
    case 'voice': {
      const recognition = msg.recognition?.trim() ?? '';
      return recognition === '' ? { type: 'unsupported', what: 'voice' } : { type: 'text', text: recognition };
    }
    case 'event':
      return eventInput(msg);
    default:
      return { type: 'unsupported', what: msg.msgType };
  }
}

function eventInput(msg: OaInbound): UserInput | null {
  const event = msg.event ?? '';
  const key = msg.eventKey ?? '';
  switch (event.toLowerCase()) {
    case 'subscribe':
      // A plain follow has no EventKey (or an empty one); a follow through a parametric QR code has qrscene_<scene>.
      return key.startsWith(QR_SCENE_PREFIX) && key.length > QR_SCENE_PREFIX.length
        ? { type: 'scan', scene: key.slice(QR_SCENE_PREFIX.length) }
        : { type: 'follow' };
    case 'scan':
      return key === '' ? { type: 'unsupported', what: 'event.SCAN' } : { type: 'scan', scene: key };
    default:
      return SILENT_EVENTS.has(event.toLowerCase()) ? null : { type: 'unsupported', what: `event.${event}` };
  }
}

/** URI-encoding removes `:` (BullMQ job ids must not contain one). */
function keyPart(value: string): string {
  return encodeURIComponent(value);
}

/**
 * The sender as it appears in a key: a SHA-256 digest (32 hex digits) of the OpenID, never the OpenID itself. Keys
 * travel into logs (`dedupeKey`), Redis key names and BullMQ job ids/data, and an OpenID is personal data (issue 3).
 */
function senderPart(openid: string): string {
  return createHash('sha256').update(openid, 'utf8').digest('hex').slice(0, 32);
}

/**
 * Idempotency key of one delivery (STYLE: job ids never hold `:` and are never all digits):
 * - messages: `wx-<MsgId>-<sender>` (MsgIds collide across users, reference §3.4);
 * - events (and the rare message without MsgId): `wxev-<sender>-<CreateTime>-<Event or MsgType>[-<EventKey>]`.
 * `<sender>` is a digest of FromUserName (senderPart), so the OpenID never shows. The event part is URI-encoded with
 * its `-` escaped and the other parts are hex or digits, so a key never contains `:` and different deliveries never
 * share a key.
 */
export function dedupeKeyOf(msg: OaInbound): string {
  if (msg.msgType !== 'event' && msg.msgId !== undefined) return `wx-${keyPart(msg.msgId)}-${senderPart(msg.fromUser)}`;
  // The EventKey too (as WxJava does): two scans of different trip codes within one second are two deliveries.
  const eventKey = msg.eventKey ? `-${keyPart(msg.eventKey).replace(/-/g, '%2D')}` : '';
  return `wxev-${senderPart(msg.fromUser)}-${msg.createTime}-${keyPart(msg.event ?? msg.msgType).replace(/-/g, '%2D')}${eventKey}`;
}
