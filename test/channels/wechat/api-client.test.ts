import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
// jsqr arrives through wechaty-puppet-mock → file-box; it is a CommonJS module whose export also carries `.default`.
import jsqr from 'jsqr';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createOaApiClient, type OaApiClient, type OaApiClientOptions } from '../../../src/channels/wechat/api-client.js';
import { InputError, UpstreamError } from '../../../src/errors.js';
import { TEST_REDIS_URL } from '../../helpers/env.js';
import { testRedis } from '../../helpers/redis.js';
import { startWechatApiStub, type WechatApiStub } from '../../helpers/wechat-api-stub.js';
import { decodePng } from './png-decode.js';

const appId = 'wxstubapp000001';
const appSecret = 'stub-secret-do-not-log';
const openid = 'oBoardRollUser-0001_x';

let stub: WechatApiStub;
let store: ReturnType<typeof testRedis>;
/** A second connection: a second "process" sharing the same Redis. */
let otherRedis: Redis;

beforeEach(async () => {
  stub = await startWechatApiStub({ appId, appSecret });
  store = testRedis();
  otherRedis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
});

afterEach(async () => {
  await stub.close();
  otherRedis.disconnect();
  await store.cleanup();
});

function client(overrides: Partial<OaApiClientOptions> = {}): OaApiClient {
  return createOaApiClient({ appId, appSecret, apiBase: stub.baseUrl, redis: store.redis, keyPrefix: store.prefix, timeoutMs: 2_000, ...overrides });
}

async function upstreamError(promise: Promise<unknown>): Promise<UpstreamError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UpstreamError);
  return err as UpstreamError;
}

const callsTo = (path: string) => stub.calls.filter((c) => c.path === path);

describe('access_token shared through Redis', () => {
  it('when 20 callers in two processes need a token at once, then it is fetched once and every message goes out', async () => {
    const a = client();
    const b = client({ redis: otherRedis });
    await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).sendText(openid, `msg ${i}`)));

    expect(stub.state.tokensIssued).toBe(1);
    expect(callsTo('/cgi-bin/token')).toHaveLength(1);
    expect(stub.state.customMessages.get(openid)).toHaveLength(20);
    const tokens = new Set(callsTo('/cgi-bin/message/custom/send').map((c) => c.query['access_token']));
    expect(tokens.size).toBe(1);
  });

  it('when a token is fetched, then it is cached under <prefix>:wx:token for expires_in − 300 s and reused later', async () => {
    const a = client();
    const token = await a.getAccessToken();
    expect(await store.redis.get(`${store.prefix}:wx:token`)).toBe(token);
    const pttl = await store.redis.pttl(`${store.prefix}:wx:token`);
    expect(pttl).toBeGreaterThan(6_890_000);
    expect(pttl).toBeLessThanOrEqual(6_900_000);

    await client({ redis: otherRedis }).sendText(openid, 'later');
    expect(stub.state.tokensIssued).toBe(1);
    expect(await store.redis.exists(`${store.prefix}:wx:token:lock`)).toBe(0);
  });

  it('when the token has expired (42001), then the client refreshes once and retries once', async () => {
    const a = client();
    await a.sendText(openid, 'first');
    const first = await a.getAccessToken();
    stub.expireToken();

    await a.sendText(openid, 'second');

    expect(stub.state.tokensIssued).toBe(2);
    const sends = callsTo('/cgi-bin/message/custom/send');
    expect(sends.map((c) => c.query['access_token'] === first)).toEqual([true, true, false]);
    expect(await a.getAccessToken()).not.toBe(first);
    expect(stub.state.customMessages.get(openid)?.map((m) => (m['text'] as { content: string }).content)).toEqual(['first', 'second']);
  });

  it('when another process refreshed while this call was in flight (40001), then the newer token is kept, not dropped', async () => {
    const b = client({ redis: otherRedis });
    let injected = false;
    const a = client({
      fetchImpl: async (input, init) => {
        const url = new URL(input instanceof Request ? input.url : String(input));
        if (!injected && url.pathname === '/cgi-bin/message/custom/send') {
          injected = true;
          // Process B finds the cache empty and refreshes; then WeChat rejects A's (older) token.
          await otherRedis.del(`${store.prefix}:wx:token`);
          await b.getAccessToken();
          stub.failNext('/cgi-bin/message/custom/send', 40001);
        }
        return fetch(input, init);
      },
    });
    const first = await a.getAccessToken();

    await a.sendText(openid, 'x');

    const newer = await store.redis.get(`${store.prefix}:wx:token`);
    expect(newer).not.toBe(first);
    expect(stub.state.tokensIssued).toBe(2); // A did not fetch a third token
    expect(callsTo('/cgi-bin/message/custom/send').map((c) => c.query['access_token'])).toEqual([first, newer]);
  });

  it('when the token is rejected twice in a row, then the second failure is thrown (one retry only)', async () => {
    const a = client();
    stub.failNext('/cgi-bin/message/custom/send', 42001);
    stub.failNext('/cgi-bin/message/custom/send', 42001);

    const err = await upstreamError(a.sendText(openid, 'x'));

    expect(err.code).toBe('UPSTREAM_WECHAT_42001');
    expect(err.details).toMatchObject({ errcode: 42001, retryable: true, path: '/cgi-bin/message/custom/send' });
    expect(callsTo('/cgi-bin/message/custom/send')).toHaveLength(2);
    expect(stub.state.tokensIssued).toBe(2);
  });

  it('when another process holds the refresh lock, then this one waits, re-reads the cache and fetches nothing', async () => {
    const lockKey = `${store.prefix}:wx:token:lock`;
    const tokenKey = `${store.prefix}:wx:token`;
    const other = otherRedis;
    await other.set(lockKey, 'other-process', 'PX', 5_000);
    const otherProcessRefresh = sleep(150).then(() => other.set(tokenKey, 'token-from-other-process', 'PX', 60_000));

    expect(await client().getAccessToken()).toBe('token-from-other-process');
    await otherProcessRefresh;
    expect(stub.state.tokensIssued).toBe(0);
    expect(await other.get(lockKey)).toBe('other-process'); // never released by someone who does not own it
  });

  it('when the lock holder never delivers a token, then the caller gives up after lockWaitMs with a retryable error', async () => {
    await otherRedis.set(`${store.prefix}:wx:token:lock`, 'stuck', 'PX', 10_000);
    const started = Date.now();
    const err = await upstreamError(client({ lockWaitMs: 300 }).getAccessToken());
    expect(err.code).toBe('UPSTREAM_WECHAT_TOKEN_WAIT');
    expect(err.details?.['retryable']).toBe(true);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(stub.state.tokensIssued).toBe(0);
  });

  it('when the AppSecret is wrong, then UPSTREAM_WECHAT_40125, not retryable, and the secret appears nowhere in the error', async () => {
    const err = await upstreamError(client({ appSecret: 'wrong-secret-value' }).sendText(openid, 'x'));
    expect(err.code).toBe('UPSTREAM_WECHAT_40125');
    expect(err.details).toMatchObject({ errcode: 40125, retryable: false });
    expect(JSON.stringify({ message: err.message, details: err.details })).not.toContain('wrong-secret-value');
    expect(await store.redis.exists(`${store.prefix}:wx:token:lock`)).toBe(0);
  });
});

describe('trip QR code: create, render, upload, send', () => {
  it('when a trip QR is created, rendered, uploaded and sent, then WeChat receives a PNG whose QR holds the returned url', async () => {
    const a = client();
    const qr = await a.createTripQr('trip-2024-0001', 604_800);
    expect(qr.url).toMatch(/^http:\/\/weixin\.qq\.com\/q\/\S+$/);
    expect(qr.expireSeconds).toBe(604_800);
    expect(stub.state.qrcodes.get(qr.ticket)).toMatchObject({ actionName: 'QR_STR_SCENE', scene: 'trip-2024-0001', expireSeconds: 604_800, url: qr.url });
    expect(callsTo('/cgi-bin/qrcode/create')[0]?.body).toEqual({
      expire_seconds: 604_800,
      action_name: 'QR_STR_SCENE',
      action_info: { scene: { scene_str: 'trip-2024-0001' } },
    });

    const png = await a.qrPng(qr.url);
    const { width, height, rgba } = decodePng(png);
    expect(jsqr.default(rgba, width, height)?.data).toBe(qr.url);

    const mediaId = await a.uploadImage(png, 'trip-2024-0001.png');
    const media = stub.state.media.get(mediaId);
    expect(media).toMatchObject({ type: 'image', filename: 'trip-2024-0001.png', contentType: 'image/png' });
    expect(media?.bytes.equals(png)).toBe(true);
    expect(callsTo('/cgi-bin/media/upload')[0]?.query['type']).toBe('image');

    await a.sendImage(openid, mediaId);
    expect(stub.messagesTo(openid)).toEqual([{ kind: 'custom', body: { touser: openid, msgtype: 'image', image: { media_id: mediaId } } }]);
    // No second host: every request went to the API base.
    expect(stub.calls.map((c) => c.path)).toEqual(['/cgi-bin/token', '/cgi-bin/qrcode/create', '/cgi-bin/media/upload', '/cgi-bin/message/custom/send']);
  });

  it('when the token expires between QR creation and upload, then the multipart upload is rebuilt and retried', async () => {
    const a = client();
    const qr = await a.createTripQr('trip-x', 60);
    stub.expireToken();
    const mediaId = await a.uploadImage(await a.qrPng(qr.url), 'qr.png');
    expect(stub.state.media.has(mediaId)).toBe(true);
    expect(callsTo('/cgi-bin/media/upload')).toHaveLength(2);
  });

  it.each([
    ['an empty scene', '', 60, 'WECHAT_BAD_SCENE', 'sceneStr: expected 1-64 characters, got 0'],
    ['a 65-character scene', 's'.repeat(65), 60, 'WECHAT_BAD_SCENE', 'sceneStr: expected 1-64 characters, got 65'],
    ['31 days', 'trip', 2_678_400, 'WECHAT_BAD_QR_EXPIRY', 'expireSeconds: expected an integer from 1 to 2592000, got 2678400'],
    ['0 seconds', 'trip', 0, 'WECHAT_BAD_QR_EXPIRY', 'expireSeconds: expected an integer from 1 to 2592000, got 0'],
  ])('when a QR is asked with %s, then InputError before any request', async (_what, scene, expire, code, message) => {
    const err = await client().createTripQr(scene, expire).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InputError);
    expect(err).toMatchObject({ code, message });
    expect(stub.calls).toHaveLength(0);
  });

  it('when 30 days (2 592 000 s) is asked, then it is accepted', async () => {
    expect((await client().createTripQr('trip', 2_592_000)).expireSeconds).toBe(2_592_000);
  });

  it('when the upload is not a PNG or JPEG, then InputError WECHAT_BAD_MEDIA before any request', async () => {
    await expect(client().uploadImage(Buffer.from('GIF89a...'), 'x.gif')).rejects.toMatchObject({ code: 'WECHAT_BAD_MEDIA' });
    expect(stub.calls).toHaveLength(0);
  });
});

describe('API errors become UpstreamError with a retryable flag', () => {
  it.each([
    [45015, false],
    [45047, false],
    [40003, false],
    [43004, false],
    [48001, false],
    [-1, true],
    [45009, true],
    [45011, true],
  ])('when custom/send answers errcode %i, then UPSTREAM_WECHAT_<errcode> with retryable=%s and no openid or token in it', async (errcode, retryable) => {
    const a = client();
    const token = await a.getAccessToken();
    stub.failNext('/cgi-bin/message/custom/send', errcode, `failure for ${openid} with ${token}`);

    const err = await upstreamError(a.sendText(openid, 'hello'));

    expect(err.code).toBe(`UPSTREAM_WECHAT_${errcode}`);
    expect(err.statusCode).toBe(502);
    expect(err.details).toMatchObject({ errcode, retryable, path: '/cgi-bin/message/custom/send' });
    const visible = JSON.stringify({ message: err.message, details: err.details });
    expect(visible).not.toContain(openid);
    expect(visible).not.toContain(token);
    expect(callsTo('/cgi-bin/message/custom/send')).toHaveLength(1);
  });

  it('when an image is sent with an unknown media_id, then UPSTREAM_WECHAT_40007, not retryable', async () => {
    const err = await upstreamError(client().sendImage(openid, 'no-such-media'));
    expect(err.details).toMatchObject({ errcode: 40007, retryable: false });
  });

  it('when WeChat does not answer in time, then UPSTREAM_WECHAT_TIMEOUT (retryable)', async () => {
    const a = client({ timeoutMs: 150 });
    await a.getAccessToken();
    stub.state.latencyMs = 600;
    const err = await upstreamError(a.sendText(openid, 'x'));
    expect(err.code).toBe('UPSTREAM_WECHAT_TIMEOUT');
    expect(err.message).toBe('WeChat API /cgi-bin/message/custom/send: no answer within 150 ms');
    expect(err.details).toMatchObject({ retryable: true });
  });

  it('when the API host refuses connections, then UPSTREAM_WECHAT_NETWORK (retryable) without the secret in the message', async () => {
    const base = stub.baseUrl;
    await stub.close();
    const err = await upstreamError(client({ apiBase: base }).getAccessToken());
    expect(err.code).toBe('UPSTREAM_WECHAT_NETWORK');
    expect(err.message).toBe('WeChat API /cgi-bin/token: request failed');
    expect(err.details).toMatchObject({ retryable: true });
    stub = await startWechatApiStub({ appId, appSecret }); // for afterEach
  });

  it('when the answer is not JSON, then UPSTREAM_WECHAT_BAD_RESPONSE', async () => {
    const a = client({ fetchImpl: async () => new Response('<html>gateway</html>', { status: 200 }) });
    const err = await upstreamError(a.getAccessToken());
    expect(err.code).toBe('UPSTREAM_WECHAT_BAD_RESPONSE');
  });

  it('when the answer is HTTP 503, then UPSTREAM_WECHAT_HTTP_503 (retryable)', async () => {
    const a = client({ fetchImpl: async () => new Response('busy', { status: 503 }) });
    const err = await upstreamError(a.getAccessToken());
    expect(err.code).toBe('UPSTREAM_WECHAT_HTTP_503');
    expect(err.details).toMatchObject({ status: 503, retryable: true });
  });
});

describe('template messages', () => {
  it('when a template is sent, then data is normalized, client_msg_id passed, and the msgid kept exact (> 2^53)', async () => {
    const a = client();
    const result = await a.sendTemplate(openid, 'TPL-1', { first: '行程已登记', keyword1: { value: '辽A12345', color: '#173177' } }, 'https://example.test/t/1', {
      clientMsgId: 'trip-1-confirm',
    });

    expect(result.msgId).toBe('9007199254740993');
    expect(stub.state.templateMessages.get(openid)).toEqual([
      {
        touser: openid,
        template_id: 'TPL-1',
        url: 'https://example.test/t/1',
        client_msg_id: 'trip-1-confirm',
        data: { first: { value: '行程已登记' }, keyword1: { value: '辽A12345', color: '#173177' } },
      },
    ]);
  });

  it('when the same client_msg_id is sent twice (a job retry), then WeChat delivers it once', async () => {
    const a = client();
    await a.sendTemplate(openid, 'TPL-1', { first: 'x' }, undefined, { clientMsgId: 'same' });
    await a.sendTemplate(openid, 'TPL-1', { first: 'x' }, undefined, { clientMsgId: 'same' });
    expect(stub.state.templateMessages.get(openid)).toHaveLength(1);
  });

  it('when the user does not follow the OA (43004), then UPSTREAM_WECHAT_43004, not retryable', async () => {
    const a = client();
    stub.failNext('/cgi-bin/message/template/send', 43004);
    const err = await upstreamError(a.sendTemplate(openid, 'TPL-1', { first: 'x' }));
    expect(err.details).toMatchObject({ errcode: 43004, retryable: false });
  });
});
