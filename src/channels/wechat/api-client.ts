import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import QRCode from 'qrcode';
import { z } from 'zod';
import { AppError, InputError, PayloadTooLargeError, UpstreamError } from '../../errors.js';

/**
 * Outbound OA API (reference §5): access_token, parametric QR codes, media upload, customer-service and
 * template messages.
 *
 * access_token is the "central control" of Tencent's doc, built on Redis so every process shares it:
 * - cached at `<keyPrefix>:wx:token` with a TTL of expires_in − 300 s;
 * - one refresher at a time across processes (`SET NX PX` lock, released by compare-and-delete); the others
 *   sleep with back-off and re-read the cache; inside one process concurrent callers share one refresh;
 * - on 40001/40014/42001 the cached token is dropped only if it is still the one that failed (another process may
 *   have refreshed already), then the call is retried once with a fresh token.
 *
 * Errors: every errcode ≠ 0 becomes UpstreamError `UPSTREAM_WECHAT_<errcode>` with `details.errcode` and
 * `details.retryable` (false for codes that no retry can fix, so a BullMQ processor can throw UnrecoverableError).
 * Timeouts, network failures, HTTP errors and unreadable answers are UpstreamError too (retryable). Messages and
 * details never hold the token, the AppSecret or an OpenID; this module does not log.
 */

export interface OaApiClientOptions {
  appId: string;
  appSecret: string;
  /** e.g. `https://api.weixin.qq.com` (WECHAT_API_BASE); a path prefix is kept. */
  apiBase: string;
  redis: Redis;
  /** Redis key prefix shared by every process of this deployment (e.g. config.redisPrefix). */
  keyPrefix: string;
  fetchImpl?: typeof fetch;
  /** Per HTTP call, default 10 000 ms. */
  timeoutMs?: number;
  /** How long a caller waits for another process's token refresh before failing; default timeoutMs + 2 000 ms. */
  lockWaitMs?: number;
}

export interface TripQr {
  ticket: string;
  /** The QR payload (`http://weixin.qq.com/q/…`): render it locally with qrPng. */
  url: string;
  expireSeconds: number;
}

/** Template data: `{ keyword1: 'text' }` or `{ keyword1: { value: 'text', color: '#173177' } }`. */
export type TemplateData = Record<string, string | { value: string; color?: string }>;

export interface OaApiClient {
  /** A valid access_token (cached, shared, refreshed by one process at a time). */
  getAccessToken(): Promise<string>;
  /** Temporary string-scene QR code (`QR_STR_SCENE`): scene 1–64 characters, 1 ≤ expireSeconds ≤ 2 592 000. */
  createTripQr(sceneStr: string, expireSeconds: number): Promise<TripQr>;
  /** PNG of the QR code holding `url` (made locally; no request). */
  qrPng(url: string): Promise<Buffer>;
  /** Temporary media upload (`type=image`, multipart field `media`); returns the media_id (valid 3 days). */
  uploadImage(png: Buffer, filename: string): Promise<string>;
  /** Customer-service text (48-hour window after the user's last message; 45015/45047 are not retryable). */
  sendText(openid: string, text: string): Promise<void>;
  sendImage(openid: string, mediaId: string): Promise<void>;
  /**
   * Template message (needs the user to follow the OA; not bound to the 48-hour window). `clientMsgId` makes
   * WeChat drop a repeat to the same user within 10 minutes, which makes job retries safe. Returns WeChat's msgid
   * as a string (exact, not a float).
   */
  sendTemplate(openid: string, templateId: string, data: TemplateData, url?: string, options?: { clientMsgId?: string }): Promise<{ msgId?: string }>;
}

/** Token errors: refresh once (compare-and-invalidate) and retry once. */
export const TOKEN_ERRCODES: ReadonlySet<number> = new Set([40001, 40014, 42001]);

/** errcodes that no retry can fix (wrong recipient, closed window, used quota, bad request, account rights). */
export const NON_RETRYABLE_ERRCODES: ReadonlySet<number> = new Set([
  40003, // invalid openid
  40005, // invalid file type
  40007, // invalid media_id
  40008, // invalid message type
  40009, // invalid image size
  40013, // invalid appid
  40037, // invalid template_id
  40125, // invalid appsecret
  40200, // invalid account type
  43004, // require subscribe
  44002, // empty post data
  45002, // content size out of limit
  45008, // too many articles
  45015, // out of the 48-hour customer-service window, or the user unfollowed
  45047, // customer-service quota for this trigger used up
  47001, // data format error
  48001, // api unauthorized for this account type
]);

const MAX_SCENE_CHARS = 64;
const MAX_QR_EXPIRE_SECONDS = 2_592_000;
const MAX_IMAGE_BYTES = 10 * 1024 * 1024;
const TOKEN_MARGIN_SECONDS = 300;
const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const JPEG_MAGIC = Buffer.from([0xff, 0xd8, 0xff]);

/** Deletes KEYS[1] only while it still holds ARGV[1] (lock release; dropping only the token that failed). */
const COMPARE_AND_DELETE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

const ApiStatusSchema = z.object({ errcode: z.number().int().optional(), errmsg: z.string().optional() });
const TokenSchema = z.object({ access_token: z.string().min(1), expires_in: z.number().int().positive() });
const QrSchema = z.object({ ticket: z.string().min(1), url: z.string().min(1), expire_seconds: z.number().int().positive().optional() });
const MediaSchema = z.object({ media_id: z.string().min(1) });

type Json = Record<string, unknown>;
interface CallContext {
  path: string;
  /** Strings that must never appear in an error (token, secret, openid). */
  secrets: string[];
}

export function createOaApiClient(options: OaApiClientOptions): OaApiClient {
  const { appId, appSecret, redis, keyPrefix } = options;
  const fetchImpl = options.fetchImpl ?? globalThis.fetch.bind(globalThis);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const lockWaitMs = options.lockWaitMs ?? timeoutMs + 2_000;
  const lockTtlMs = timeoutMs + 5_000;
  const tokenKey = `${keyPrefix}:wx:token`;
  const lockKey = `${keyPrefix}:wx:token:lock`;
  if (appId === '' || appSecret === '') throw new AppError('WECHAT_CONFIG', 'WECHAT_APPID and WECHAT_APPSECRET are required for the OA API client');
  let base: string;
  try {
    base = new URL(options.apiBase).href.replace(/\/+$/, '');
  } catch (err) {
    throw new AppError('WECHAT_CONFIG', 'WECHAT_API_BASE: expected an absolute URL', 500, { cause: err });
  }

  function urlFor(path: string, query: Record<string, string>): URL {
    const url = new URL(`${base}${path}`);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    return url;
  }

  function redact(text: string, secrets: readonly string[]): string {
    let out = text;
    for (const s of secrets) if (s !== '') out = out.split(s).join('[redacted]');
    return out;
  }

  /** One HTTP exchange; returns the JSON object and its raw text (for exact big integers). */
  async function exchange(url: URL, init: RequestInit, ctx: CallContext): Promise<{ json: Json; text: string }> {
    let text: string;
    let status: number;
    try {
      const res = await fetchImpl(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
      status = res.status;
      text = await res.text();
    } catch (err) {
      const isTimeout = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
      throw new UpstreamError(
        isTimeout ? 'UPSTREAM_WECHAT_TIMEOUT' : 'UPSTREAM_WECHAT_NETWORK',
        isTimeout ? `WeChat API ${ctx.path}: no answer within ${timeoutMs} ms` : `WeChat API ${ctx.path}: request failed`,
        { cause: err, details: { path: ctx.path, retryable: true } },
      );
    }
    if (status < 200 || status > 299) {
      throw new UpstreamError(`UPSTREAM_WECHAT_HTTP_${status}`, `WeChat API ${ctx.path}: HTTP ${status}`, {
        details: { path: ctx.path, status, retryable: true },
      });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new UpstreamError('UPSTREAM_WECHAT_BAD_RESPONSE', `WeChat API ${ctx.path}: answer is not JSON (${text.length} characters)`, {
        cause: err,
        details: { path: ctx.path, retryable: true },
      });
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
      throw new UpstreamError('UPSTREAM_WECHAT_BAD_RESPONSE', `WeChat API ${ctx.path}: answer is not a JSON object`, {
        details: { path: ctx.path, retryable: true },
      });
    }
    return { json: json as Json, text };
  }

  function errcodeOf(json: Json, ctx: CallContext): { errcode: number; errmsg: string } {
    const parsed = ApiStatusSchema.safeParse(json);
    if (!parsed.success) {
      throw new UpstreamError('UPSTREAM_WECHAT_BAD_RESPONSE', `WeChat API ${ctx.path}: errcode is not an integer`, {
        details: { path: ctx.path, retryable: true },
      });
    }
    return { errcode: parsed.data.errcode ?? 0, errmsg: parsed.data.errmsg ?? '' };
  }

  function apiError(errcode: number, errmsg: string, ctx: CallContext): UpstreamError {
    return new UpstreamError(`UPSTREAM_WECHAT_${errcode}`, `WeChat API ${ctx.path} answered errcode ${errcode}`, {
      details: { path: ctx.path, errcode, errmsg: redact(errmsg, ctx.secrets), retryable: !NON_RETRYABLE_ERRCODES.has(errcode) },
    });
  }

  function parseBody<T>(schema: z.ZodType<T>, json: Json, ctx: CallContext): T {
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const fields = parsed.error.issues.map((i) => i.path.map(String).join('.')).join(', ');
      throw new UpstreamError('UPSTREAM_WECHAT_BAD_RESPONSE', `WeChat API ${ctx.path}: unexpected answer (fields: ${fields})`, {
        details: { path: ctx.path, retryable: true },
      });
    }
    return parsed.data;
  }

  // ------------------------------------------------------------------------------------------ access_token

  async function fetchAndStoreToken(): Promise<string> {
    const ctx: CallContext = { path: '/cgi-bin/token', secrets: [appSecret] };
    const url = urlFor(ctx.path, { grant_type: 'client_credential', appid: appId, secret: appSecret });
    const { json } = await exchange(url, { method: 'GET' }, ctx);
    const { errcode, errmsg } = errcodeOf(json, ctx);
    if (errcode !== 0) throw apiError(errcode, errmsg, ctx);
    const { access_token: token, expires_in: expiresIn } = parseBody(TokenSchema, json, ctx);
    const ttlSeconds = expiresIn > 2 * TOKEN_MARGIN_SECONDS ? expiresIn - TOKEN_MARGIN_SECONDS : Math.max(1, Math.floor(expiresIn / 2));
    await redis.set(tokenKey, token, 'PX', ttlSeconds * 1000);
    return token;
  }

  async function refreshShared(): Promise<string> {
    const deadline = Date.now() + lockWaitMs;
    let delayMs = 20;
    for (;;) {
      const owner = randomUUID();
      if ((await redis.set(lockKey, owner, 'PX', lockTtlMs, 'NX')) === 'OK') {
        try {
          // Another process may have stored a token between our cache miss and our lock.
          return (await redis.get(tokenKey)) ?? (await fetchAndStoreToken());
        } finally {
          await redis.eval(COMPARE_AND_DELETE, 1, lockKey, owner);
        }
      }
      if (Date.now() >= deadline) {
        throw new UpstreamError('UPSTREAM_WECHAT_TOKEN_WAIT', `WeChat access_token: no token after waiting ${lockWaitMs} ms for another refresher`, {
          details: { path: '/cgi-bin/token', retryable: true },
        });
      }
      await sleep(delayMs);
      delayMs = Math.min(delayMs * 2, 250);
      const token = await redis.get(tokenKey);
      if (token !== null) return token;
    }
  }

  let inflight: Promise<string> | undefined;

  async function getAccessToken(): Promise<string> {
    const cached = await redis.get(tokenKey);
    if (cached !== null) return cached;
    inflight ??= refreshShared().finally(() => {
      inflight = undefined;
    });
    return inflight;
  }

  /** Calls an authenticated endpoint; on a token error drops that token (if still cached), refreshes, retries once. */
  async function callWithToken(
    path: string,
    makeInit: () => RequestInit,
    query: Record<string, string>,
    secrets: string[],
  ): Promise<{ json: Json; text: string }> {
    let token = await getAccessToken();
    for (let attempt = 1; ; attempt++) {
      const ctx: CallContext = { path, secrets: [...secrets, token, appSecret] };
      const result = await exchange(urlFor(path, { ...query, access_token: token }), makeInit(), ctx);
      const { errcode, errmsg } = errcodeOf(result.json, ctx);
      if (errcode === 0) return result;
      if (attempt === 1 && TOKEN_ERRCODES.has(errcode)) {
        await redis.eval(COMPARE_AND_DELETE, 1, tokenKey, token);
        token = await getAccessToken();
        continue;
      }
      throw apiError(errcode, errmsg, ctx);
    }
  }

  function postJson(path: string, body: Json, secrets: string[]): Promise<{ json: Json; text: string }> {
    const payload = JSON.stringify(body);
    return callWithToken(path, () => ({ method: 'POST', headers: { 'content-type': 'application/json; charset=utf-8' }, body: payload }), {}, secrets);
  }

  // ------------------------------------------------------------------------------------------ endpoints

  async function createTripQr(sceneStr: string, expireSeconds: number): Promise<TripQr> {
    if (sceneStr.length < 1 || sceneStr.length > MAX_SCENE_CHARS) {
      throw new InputError('WECHAT_BAD_SCENE', `sceneStr: expected 1-${MAX_SCENE_CHARS} characters, got ${sceneStr.length}`);
    }
    if (!Number.isInteger(expireSeconds) || expireSeconds < 1 || expireSeconds > MAX_QR_EXPIRE_SECONDS) {
      throw new InputError('WECHAT_BAD_QR_EXPIRY', `expireSeconds: expected an integer from 1 to ${MAX_QR_EXPIRE_SECONDS}, got ${expireSeconds}`);
    }
    const path = '/cgi-bin/qrcode/create';
    const { json } = await postJson(path, { expire_seconds: expireSeconds, action_name: 'QR_STR_SCENE', action_info: { scene: { scene_str: sceneStr } } }, []);
    const qr = parseBody(QrSchema, json, { path, secrets: [] });
    return { ticket: qr.ticket, url: qr.url, expireSeconds: qr.expire_seconds ?? expireSeconds };
  }

  async function qrPng(url: string): Promise<Buffer> {
    if (url.length === 0 || url.length > 1024) throw new InputError('WECHAT_BAD_QR_URL', `url: expected 1-1024 characters, got ${url.length}`);
    return QRCode.toBuffer(url, { type: 'png', errorCorrectionLevel: 'M', margin: 2, scale: 8 });
  }

  async function uploadImage(png: Buffer, filename: string): Promise<string> {
    if (png.length > MAX_IMAGE_BYTES) {
      throw new PayloadTooLargeError('WECHAT_MEDIA_TOO_LARGE', `image: expected at most ${MAX_IMAGE_BYTES} bytes, got ${png.length}`);
    }
    const type = png.subarray(0, 8).equals(PNG_MAGIC) ? 'image/png' : png.subarray(0, 3).equals(JPEG_MAGIC) ? 'image/jpeg' : undefined;
    if (type === undefined) throw new InputError('WECHAT_BAD_MEDIA', `image: expected PNG or JPEG bytes, got ${png.length} bytes of something else`);
    if (!/^[\w.-]{1,64}$/.test(filename)) throw new InputError('WECHAT_BAD_MEDIA', 'filename: expected 1-64 letters, digits, "_", "-" or "."');
    const path = '/cgi-bin/media/upload';
    const bytes = new Uint8Array(png);
    const { json } = await callWithToken(
      path,
      () => {
        const form = new FormData();
        form.append('media', new Blob([bytes], { type }), filename);
        return { method: 'POST', body: form };
      },
      { type: 'image' },
      [],
    );
    return parseBody(MediaSchema, json, { path, secrets: [] }).media_id;
  }

  async function sendText(openid: string, text: string): Promise<void> {
    if (text.length === 0) throw new InputError('WECHAT_EMPTY_TEXT', 'text: expected a non-empty message');
    await postJson('/cgi-bin/message/custom/send', { touser: openid, msgtype: 'text', text: { content: text } }, [openid]);
  }

  async function sendImage(openid: string, mediaId: string): Promise<void> {
    await postJson('/cgi-bin/message/custom/send', { touser: openid, msgtype: 'image', image: { media_id: mediaId } }, [openid]);
  }

  async function sendTemplate(
    openid: string,
    templateId: string,
    data: TemplateData,
    url?: string,
    opts?: { clientMsgId?: string },
  ): Promise<{ msgId?: string }> {
    const body: Json = {
      touser: openid,
      template_id: templateId,
      data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, typeof v === 'string' ? { value: v } : v])),
    };
    if (url !== undefined) body['url'] = url;
    if (opts?.clientMsgId !== undefined) body['client_msg_id'] = opts.clientMsgId;
    const { text } = await postJson('/cgi-bin/message/template/send', body, [openid]);
    // msgid may exceed 2^53: read the digits from the raw text instead of the parsed number.
    const msgId = /"msgid"\s*:\s*"?(\d+)/.exec(text)?.[1];
    return msgId === undefined ? {} : { msgId };
  }

  return { getAccessToken, createTripQr, qrPng, uploadImage, sendText, sendImage, sendTemplate };
}
