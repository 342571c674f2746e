/**
 * A local stand-in for the WeChat OA API (api.weixin.qq.com), speaking its real JSON wire format, for tests that
 * point the real client (src/channels/wechat/api-client.ts, or anything using WECHAT_API_BASE) at 127.0.0.1.
 *
 *   const wx = await startWechatApiStub({ appId: 'wx-test', appSecret: 'secret' });
 *   // config: WECHAT_API_BASE = wx.baseUrl
 *   …
 *   expect(wx.messagesTo(openid)).toMatchObject([{ kind: 'custom', body: { msgtype: 'text' } }]);
 *   await wx.close();
 *
 * Endpoints (all answer HTTP 200 with `{"errcode":…,"errmsg":…}` on errors, like WeChat):
 * - GET  /cgi-bin/token?grant_type=client_credential&appid=…&secret=…  → `{access_token, expires_in}`; a wrong appid
 *   gives 40013, a wrong secret 40125. Every call issues a new token (`state.tokensIssued` counts them); older tokens
 *   stay valid (WeChat keeps the previous one alive for 5 minutes) until `expireToken()`.
 * - POST /cgi-bin/qrcode/create?access_token=…  (QR_SCENE, QR_STR_SCENE, QR_LIMIT_SCENE, QR_LIMIT_STR_SCENE) →
 *   `{ticket, expire_seconds, url: "http://weixin.qq.com/q/<id>"}`; bad arguments give 40097. Kept in `state.qrcodes`.
 * - POST /cgi-bin/media/upload?access_token=…&type=image  multipart, file field `media` → `{type, media_id, created_at}`;
 *   the file must start with the PNG or JPEG signature (else 40005), a missing field gives 41005. Kept in `state.media`.
 * - POST /cgi-bin/message/custom/send?access_token=…  → `{errcode:0}`; text needs `text.content`, image needs a
 *   `media_id` this stub issued (else 40007). Recorded per openid in `state.customMessages`.
 * - POST /cgi-bin/message/template/send?access_token=…  → `{errcode:0, msgid}` (msgid above 2^53, so clients must
 *   keep it exact); the same openid + client_msg_id is accepted once (like WeChat). Recorded in `state.templateMessages`.
 * Token checks on every authenticated endpoint: missing → 41001, unknown → 40001, expired → 42001.
 * Other paths → HTTP 404 with errcode 40066 (invalid url). Malformed JSON bodies → 47001.
 *
 * Controls: `failNext(path, errcode)` makes the next call to `path` answer that errcode (queued, FIFO; the call is
 * still recorded), `expireToken()` expires every issued token, `state.latencyMs` delays every answer (timeouts).
 * `calls` lists every request in order as `{ method, path, query, body }` (multipart bodies as a summary).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface WechatApiStubOptions {
  appId: string;
  appSecret: string;
  /** expires_in of issued tokens, default 7200. */
  tokenExpiresIn?: number;
}

export interface WechatApiCall {
  method: string;
  path: string;
  query: Record<string, string>;
  /** Parsed JSON body; for multipart `{ media: { filename, contentType, size } }`; undefined for GET. */
  body: unknown;
}

export interface StubQrCode { actionName: string; scene: string | number; expireSeconds?: number; url: string; createdAt: number }
export interface StubMedia { type: string; filename: string; contentType: string; bytes: Buffer; createdAt: number }
export type Json = Record<string, unknown>;
export interface SentMessage { kind: 'custom' | 'template'; body: Json }

export interface WechatApiStubState {
  tokensIssued: number;
  validTokens: Set<string>;
  expiredTokens: Set<string>;
  /** By ticket. */
  qrcodes: Map<string, StubQrCode>;
  /** By media_id. */
  media: Map<string, StubMedia>;
  /** By openid, in order. */
  customMessages: Map<string, Json[]>;
  templateMessages: Map<string, Json[]>;
  /** Added before every answer. */
  latencyMs: number;
}

export interface WechatApiStub {
  baseUrl: string;
  calls: WechatApiCall[];
  state: WechatApiStubState;
  failNext(path: string, errcode: number, errmsg?: string): void;
  expireToken(): void;
  /** Customer-service and template messages sent to one openid, in order. */
  messagesTo(openid: string): SentMessage[];
  close(): Promise<void>;
}

const ERRMSG: Record<number, string> = {
  40001: 'invalid credential, access_token is invalid or not latest',
  40002: 'invalid grant_type',
  40003: 'invalid openid',
  40004: 'invalid media type',
  40005: 'invalid file type',
  40007: 'invalid media_id',
  40013: 'invalid appid',
  40014: 'invalid access_token',
  40037: 'invalid template_id',
  40066: 'invalid url',
  40097: 'invalid args',
  40125: 'invalid appsecret',
  41001: 'access_token missing',
  41005: 'media data missing',
  42001: 'access_token expired',
  43004: 'require subscribe',
  44002: 'empty post data',
  45015: 'response out of time limit or subscription is canceled',
  45047: 'out of response count limit',
  47001: 'data format error',
  48001: 'api unauthorized',
};

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const JPEG_MAGIC = Buffer.from([0xff, 0xd8, 0xff]);
const MAX_BODY = 20 * 1024 * 1024;

class StubHttpError extends Error {
  constructor(readonly errcode: number, readonly status = 200, errmsg?: string) {
    super(errmsg ?? ERRMSG[errcode] ?? `error ${errcode}`);
  }
}

function isRecord(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_BODY) throw new StubHttpError(47001, 413);
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

export async function startWechatApiStub(options: WechatApiStubOptions): Promise<WechatApiStub> {
  const tokenExpiresIn = options.tokenExpiresIn ?? 7200;
  const calls: WechatApiCall[] = [];
  const failures = new Map<string, { errcode: number; errmsg?: string }[]>();
  const sent: Map<string, SentMessage[]> = new Map();
  const clientMsgIds = new Set<string>();
  let nextId = 1;
  let nextTemplateMsgId = 9_007_199_254_740_993n; // 2^53 + 1: a JS number cannot hold it exactly
  const state: WechatApiStubState = {
    tokensIssued: 0,
    validTokens: new Set(),
    expiredTokens: new Set(),
    qrcodes: new Map(),
    media: new Map(),
    customMessages: new Map(),
    templateMessages: new Map(),
    latencyMs: 0,
  };

  function record(kind: SentMessage['kind'], openid: string, body: Json): void {
    const map = kind === 'custom' ? state.customMessages : state.templateMessages;
    map.set(openid, [...(map.get(openid) ?? []), body]);
    sent.set(openid, [...(sent.get(openid) ?? []), { kind, body }]);
  }

  function checkToken(query: Record<string, string>): void {
    const token = query['access_token'];
    if (token === undefined || token === '') throw new StubHttpError(41001);
    if (state.expiredTokens.has(token)) throw new StubHttpError(42001);
    if (!state.validTokens.has(token)) throw new StubHttpError(40001);
  }

  function jsonBody(raw: Buffer): Json {
    if (raw.length === 0) throw new StubHttpError(44002);
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw.toString('utf8'));
    } catch {
      throw new StubHttpError(47001);
    }
    if (!isRecord(parsed)) throw new StubHttpError(47001);
    return parsed;
  }

  function token(query: Record<string, string>): Json {
    if (query['grant_type'] !== 'client_credential') throw new StubHttpError(40002);
    if (query['appid'] !== options.appId) throw new StubHttpError(40013);
    if (query['secret'] !== options.appSecret) throw new StubHttpError(40125);
    state.tokensIssued += 1;
    const accessToken = `stub-token-${state.tokensIssued}-${randomBytes(12).toString('hex')}`;
    state.validTokens.add(accessToken);
    return { access_token: accessToken, expires_in: tokenExpiresIn };
  }

  function qrcodeCreate(body: Json): Json {
    const actionName = body['action_name'];
    const info = body['action_info'];
    const scene = isRecord(info) && isRecord(info['scene']) ? info['scene'] : undefined;
    if (scene === undefined || typeof actionName !== 'string') throw new StubHttpError(40097);
    const isStr = actionName === 'QR_STR_SCENE' || actionName === 'QR_LIMIT_STR_SCENE';
    const isInt = actionName === 'QR_SCENE' || actionName === 'QR_LIMIT_SCENE';
    const value = isStr ? scene['scene_str'] : isInt ? scene['scene_id'] : undefined;
    if (isStr && (typeof value !== 'string' || value.length < 1 || value.length > 64)) throw new StubHttpError(40097);
    if (isInt && (typeof value !== 'number' || !Number.isInteger(value) || value < 1)) throw new StubHttpError(40097);
    if (!isStr && !isInt) throw new StubHttpError(40097);
    const temporary = !actionName.startsWith('QR_LIMIT_');
    let expireSeconds: number | undefined;
    if (temporary) {
      const e = body['expire_seconds'] ?? 60;
      if (typeof e !== 'number' || !Number.isInteger(e) || e < 1 || e > 2_592_000) throw new StubHttpError(40097);
      expireSeconds = e;
    }
    const id = `${randomBytes(9).toString('base64url')}${nextId++}`;
    const ticket = `gQ${randomBytes(24).toString('base64')}==`;
    const url = `http://weixin.qq.com/q/${id}`;
    state.qrcodes.set(ticket, {
      actionName,
      scene: value as string | number,
      url,
      createdAt: Math.floor(Date.now() / 1000),
      ...(expireSeconds === undefined ? {} : { expireSeconds }),
    });
    return expireSeconds === undefined ? { ticket, url } : { ticket, expire_seconds: expireSeconds, url };
  }

  async function mediaUpload(req: IncomingMessage, raw: Buffer, query: Record<string, string>, call: WechatApiCall): Promise<Json> {
    const type = query['type'];
    if (type !== 'image' && type !== 'voice' && type !== 'video' && type !== 'thumb') throw new StubHttpError(40004);
    const contentType = req.headers['content-type'] ?? '';
    if (!contentType.startsWith('multipart/form-data')) throw new StubHttpError(41005);
    let form: FormData;
    try {
      form = await new Response(new Uint8Array(raw), { headers: { 'content-type': contentType } }).formData();
    } catch {
      throw new StubHttpError(41005);
    }
    const media = form.get('media');
    if (media === null || typeof media === 'string') throw new StubHttpError(41005);
    const bytes = Buffer.from(await media.arrayBuffer());
    const filename = media instanceof File ? media.name : '';
    call.body = { media: { filename, contentType: media.type, size: bytes.length } };
    const isImage = bytes.subarray(0, 8).equals(PNG_MAGIC) || bytes.subarray(0, 3).equals(JPEG_MAGIC);
    if ((type === 'image' || type === 'thumb') && !isImage) throw new StubHttpError(40005);
    const mediaId = `stub-media-${nextId++}-${randomBytes(8).toString('hex')}`;
    const createdAt = Math.floor(Date.now() / 1000);
    state.media.set(mediaId, { type, filename, contentType: media.type, bytes, createdAt });
    return { type, media_id: mediaId, created_at: createdAt };
  }

  function customSend(body: Json): Json {
    const touser = body['touser'];
    const msgtype = body['msgtype'];
    if (typeof touser !== 'string' || touser === '') throw new StubHttpError(40003);
    if (msgtype === 'text') {
      const text = body['text'];
      if (!isRecord(text) || typeof text['content'] !== 'string' || text['content'] === '') throw new StubHttpError(47001);
    } else if (msgtype === 'image') {
      const image = body['image'];
      if (!isRecord(image) || typeof image['media_id'] !== 'string' || !state.media.has(image['media_id'])) throw new StubHttpError(40007);
    } else if (typeof msgtype !== 'string') {
      throw new StubHttpError(47001);
    }
    record('custom', touser, body);
    return { errcode: 0, errmsg: 'ok' };
  }

  function templateSend(body: Json): string {
    const touser = body['touser'];
    if (typeof touser !== 'string' || touser === '') throw new StubHttpError(40003);
    if (typeof body['template_id'] !== 'string' || body['template_id'] === '') throw new StubHttpError(40037);
    if (!isRecord(body['data'])) throw new StubHttpError(47001);
    const clientMsgId = body['client_msg_id'];
    const msgid = nextTemplateMsgId++;
    if (typeof clientMsgId === 'string') {
      const key = `${touser}\u0000${clientMsgId}`;
      if (clientMsgIds.has(key)) return `{"errcode":0,"errmsg":"ok","msgid":${msgid}}`;
      clientMsgIds.add(key);
    }
    record('template', touser, body);
    // Written by hand: the msgid is deliberately beyond Number.MAX_SAFE_INTEGER.
    return `{"errcode":0,"errmsg":"ok","msgid":${msgid}}`;
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname;
    const query = Object.fromEntries(url.searchParams);
    const method = req.method ?? 'GET';
    const call: WechatApiCall = { method, path, query, body: undefined };
    let status = 200;
    let payload: string;
    try {
      const raw = await readBody(req);
      if (method === 'POST' && path !== '/cgi-bin/media/upload' && raw.length > 0) {
        try {
          call.body = JSON.parse(raw.toString('utf8'));
        } catch {
          call.body = raw.toString('utf8');
        }
      }
      calls.push(call);
      const failure = failures.get(path)?.shift();
      if (failure) throw new StubHttpError(failure.errcode, 200, failure.errmsg);
      if (path === '/cgi-bin/token' && method === 'GET') {
        payload = JSON.stringify(token(query));
      } else if (path === '/cgi-bin/qrcode/create' && method === 'POST') {
        checkToken(query);
        payload = JSON.stringify(qrcodeCreate(jsonBody(raw)));
      } else if (path === '/cgi-bin/media/upload' && method === 'POST') {
        checkToken(query);
        payload = JSON.stringify(await mediaUpload(req, raw, query, call));
      } else if (path === '/cgi-bin/message/custom/send' && method === 'POST') {
        checkToken(query);
        payload = JSON.stringify(customSend(jsonBody(raw)));
      } else if (path === '/cgi-bin/message/template/send' && method === 'POST') {
        checkToken(query);
        payload = templateSend(jsonBody(raw));
      } else {
        throw new StubHttpError(40066, 404);
      }
    } catch (err) {
      if (!(err instanceof StubHttpError)) throw err;
      if (!calls.includes(call)) calls.push(call);
      status = err.status;
      payload = JSON.stringify({ errcode: err.errcode, errmsg: `${err.message} rid: ${randomBytes(6).toString('hex')}` });
    }
    if (state.latencyMs > 0) await sleep(state.latencyMs);
    if (res.destroyed) return;
    res.writeHead(status, { 'content-type': 'application/json; encoding=utf-8', 'content-length': Buffer.byteLength(payload) });
    res.end(payload);
  }

  const server = createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      // A bug in the stub itself: answer 500 so the test sees it instead of hanging.
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(err instanceof Error ? err.message : 'stub error');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    calls,
    state,
    failNext(path, errcode, errmsg) {
      failures.set(path, [...(failures.get(path) ?? []), errmsg === undefined ? { errcode } : { errcode, errmsg }]);
    },
    expireToken() {
      for (const t of state.validTokens) state.expiredTokens.add(t);
      state.validTokens.clear();
    },
    messagesTo(openid) {
      return [...(sent.get(openid) ?? [])];
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}
