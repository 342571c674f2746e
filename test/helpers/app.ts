import { randomBytes, randomUUID } from 'node:crypto';
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { openServices, type OpenServicesOptions, type Services } from '../../src/services.js';
import { startWorkers } from '../../workers/main.js';
import { BACKENDS, type TestDatabase } from './db.js';
import { TEST_REDIS_URL } from './env.js';
import { testRedis } from './redis.js';
import { startWechatApiStub, type WechatApiStub } from './wechat-api-stub.js';
import { eventXml, openReply, signRequest, textXml } from './wechat-client.js';

export const TEST_TOKEN = 'boardrolltesttoken';
export const TEST_APPID = 'wx0123456789abcdef';
export const TEST_APPSECRET = 'testsecret0123456789';
export const TEST_AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';

export type Backend = (typeof BACKENDS)[number]['name'];

export interface TestApp {
  app: FastifyInstance;
  services: Services;
  wechatApi: WechatApiStub;
  db: TestDatabase;
  /** Every log line the service wrote (to scan for leaked personal data). */
  logLines: string[];
  env: Record<string, string>;
  startWorkers(): Promise<void>;
  close(): Promise<void>;
}

/** The whole service over a fresh database (real PostgreSQL or PGlite), a private Redis prefix and a WeChat API stand-in. */
export async function startTestApp(options: { backend?: Backend; env?: Record<string, string>; services?: OpenServicesOptions } = {}): Promise<TestApp> {
  const backend = BACKENDS.find((b) => b.name === (options.backend ?? 'postgres')) ?? BACKENDS[0];
  const db = await backend.open();
  const wechatApi = await startWechatApiStub({ appId: TEST_APPID, appSecret: TEST_APPSECRET });
  const { prefix, cleanup } = testRedis();
  const env: Record<string, string> = {
    ...(db.url.startsWith('memory://') ? { DATA_DIR: 'memory://' } : { DATABASE_URL: db.url }),
    REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix, BOARDROLL_MASTER_KEY: randomBytes(32).toString('base64'),
    WECHAT_TOKEN: TEST_TOKEN, WECHAT_APPID: TEST_APPID, WECHAT_APPSECRET: TEST_APPSECRET, WECHAT_AES_KEY: TEST_AES_KEY,
    WECHAT_API_BASE: wechatApi.baseUrl, LOG_LEVEL: 'info', LOG_PRETTY: 'false',
    ...options.env,
  };
  const logLines: string[] = [];
  const { loggerOptions } = await import('../../src/logger.js');
  const logFile = testLogFile();
  const logger: Logger = pino({ ...loggerOptions({ logLevel: 'info', logPretty: false }) }, { write: (line: string) => { logLines.push(line); appendFileSync(logFile, line); } });
  const config = loadConfig(env);
  const services = await openServices(config, { logger, ...options.services, ...(db.url.startsWith('memory://') ? { database: db.database } : {}) });
  const app = await buildApp(services);
  await app.ready();
  let workers: { close(): Promise<void> } | null = null;
  return {
    app, services, wechatApi, db, logLines, env,
    async startWorkers() { workers = await startWorkers(services); },
    async close() {
      await app.close();
      await workers?.close();
      await services.close();
      await wechatApi.close();
      await cleanup();
      await db.drop();
    },
  };
}

/** Every test app logs into TEST_LOG_DIR too; the global teardown scans all of it for personal data. */
export const TEST_LOG_DIR = join(import.meta.dirname, '../../.tmp/test-logs');
function testLogFile(): string {
  mkdirSync(TEST_LOG_DIR, { recursive: true });
  return join(TEST_LOG_DIR, `${process.pid}-${randomUUID().slice(0, 8)}.log`);
}

let msgCounter = BigInt(Date.now()) * 1000n;
/** A unique 64-bit-looking MsgId (kept as a string, beyond 2^53). */
export function nextMsgId(): string {
  msgCounter += 1n;
  return (6_000_000_000_000_000_000n + msgCounter).toString();
}

export function randomOpenid(): string {
  return `o${randomUUID().replaceAll('-', '').slice(0, 27)}`;
}

/** Plays one WeChat user against the signed webhook, in plaintext or safe mode. */
export class WechatUser {
  constructor(private readonly app: FastifyInstance, readonly openid: string = randomOpenid(), private readonly mode: 'plain' | 'safe' = 'plain') {}

  async post(xml: string): Promise<{ status: number; body: string }> {
    const signed = signRequest({ token: TEST_TOKEN, body: xml, ...(this.mode === 'safe' ? { aesKey: TEST_AES_KEY, appId: TEST_APPID } : {}) });
    const res = await this.app.inject({ method: 'POST', url: '/wechat', query: signed.query, headers: { 'content-type': 'text/xml' }, payload: signed.body });
    return { status: res.statusCode, body: res.body };
  }

  private read(res: { status: number; body: string }): string {
    if (res.status !== 200) throw new Error(`webhook answered ${res.status}: ${res.body}`);
    const reply = openReply(res.body, { token: TEST_TOKEN, ...(this.mode === 'safe' ? { aesKey: TEST_AES_KEY, appId: TEST_APPID } : {}) });
    return reply?.content ?? '';
  }

  /** Sends a text and returns the bot's passive reply text ('' for `success`). */
  async say(text: string, msgId: string = nextMsgId()): Promise<string> {
    return this.read(await this.post(textXml({ from: this.openid, content: text, msgId })));
  }

  /** Scans a trip QR code (new follower: subscribe with qrscene_; follower: SCAN). */
  async scan(scene: string, follower = false, createTime = Math.floor(Date.now() / 1000)): Promise<string> {
    const xml = follower
      ? eventXml({ from: this.openid, event: 'SCAN', eventKey: scene, createTime })
      : eventXml({ from: this.openid, event: 'subscribe', eventKey: `qrscene_${scene}`, createTime });
    return this.read(await this.post(xml));
  }
}
