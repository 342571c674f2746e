import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { pino, type Logger } from 'pino';
import type { Config } from './config.js';
import { QUEUES } from './contracts/jobs.js';
import { createActions, type ActionDeps } from './conversation/actions.js';
import { PARSERS } from './conversation/parsers.js';
import { createConversationService, type ConversationService } from './conversation/service.js';
import { createSessionStore } from './conversation/session-store.js';
import { buildRegistry, type FlowRegistry } from './engine/registry.js';
import { createTranslator, loadCatalogs, type Translator } from './i18n/i18n.js';
import { loggerOptions } from './logger.js';
import { ALL_FLOWS } from '../flows/all-flows.js';
import { createWechatCrypto, type WechatCrypto } from './channels/wechat/wechat-crypto.js';
import { createOaApiClient, type OaApiClient } from './channels/wechat/api-client.js';
import { userKey, type DerivedKeys } from './security/keys.js';
import { openKeyRing } from './store/key-ring.js';
import { migrateDatabase, openDatabase, type Database } from './store/db.js';
import { createVault, type Vault } from './store/vault.js';
import { createTripRepository } from './store/trips.js';
import { createPassengerRepository } from './store/passengers.js';
import { createStaffRepository } from './store/staff.js';
import { createApiKeyRepository } from './store/api-keys.js';
import { createAuditRepository } from './store/audit.js';
import { createPreregistrationRepository } from './store/preregistrations.js';
import { createAlertRepository, createTripContactRepository, createWatchlistRepository } from './store/oversight.js';
import { createOversightHooks } from './oversight/hooks.js';
import { createMetrics, type Metrics } from './ops/metrics.js';
import { createSmsChannel, type SmsChannel } from './channels/sms/sms-channel.js';
import { createSmsSender } from './channels/sms/sms-sender.js';
import { createSimulatorSmsGateway, type SimulatorSmsGateway } from './channels/sms/simulator-gateway.js';
import { createSmsRepository, type SmsRepository } from './store/sms.js';

export const LOCALES_DIR = fileURLToPath(new URL('../locales/', import.meta.url));

/** Everything the web side, the workers and the CLI share; opened once per process, closed once. */
export interface Services {
  config: Config;
  logger: Logger | undefined;
  log: Logger;
  database: Database;
  redis: Redis;
  keys: DerivedKeys;
  vault: Vault;
  repos: {
    trips: ReturnType<typeof createTripRepository>;
    passengers: ReturnType<typeof createPassengerRepository>;
    staff: ReturnType<typeof createStaffRepository>;
    apiKeys: ReturnType<typeof createApiKeyRepository>;
    audit: ReturnType<typeof createAuditRepository>;
    preregistrations: ReturnType<typeof createPreregistrationRepository>;
    alerts: ReturnType<typeof createAlertRepository>;
    watchlist: ReturnType<typeof createWatchlistRepository>;
    tripContacts: ReturnType<typeof createTripContactRepository>;
  };
  translator: Translator;
  registry: FlowRegistry;
  conversation: ConversationService;
  queues: { outbound: Queue; validate: Queue };
  /** The dependencies the conversation actions were built with (the ticketing route uses `inviteBySms`). */
  actionDeps: ActionDeps;
  /** Prometheus registry, funnel and upstream error counters (src/ops/metrics.ts). */
  metrics: Metrics;
  /** The SMS channel (invitations, uplinks, sends, receipts) and its message store (issue 4). */
  sms: { channel: SmsChannel; messages: SmsRepository; simulatorGateway: SimulatorSmsGateway | null };
  wechat: { token: string; crypto: WechatCrypto | null; api: OaApiClient | null } | null;
  userKeyOf(channel: string, userId: string): string;
  close(): Promise<void>;
}

export interface OpenServicesOptions {
  /** A logger to share (tests pass a silent one or a capturing one). */
  logger?: Logger;
  /** Extra action dependencies wired by later layers (SMS invitations, pre-registrations). */
  actionDeps?: Partial<ActionDeps>;
  /** An already-open database (tests share one PGlite); the caller closes it. */
  database?: Database;
}

/** A Redis connection for BullMQ: workers need `maxRetriesPerRequest: null`. */
export function bullConnection(config: Config): Redis {
  return new Redis(config.redisUrl, { maxRetriesPerRequest: null });
}

export function bullPrefix(config: Config): string {
  return `${config.redisPrefix}-bull`;
}

export async function openServices(config: Config, options: OpenServicesOptions = {}): Promise<Services> {
  if (!config.masterKey) throw new Error('BOARDROLL_MASTER_KEY is required');
  const log = options.logger ?? pino(loggerOptions(config));
  const database = options.database ?? await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, onPoolError: (err) => log.warn({ err }, 'database pool error') });
  await migrateDatabase(database);
  // Envelope keys (src/store/key-ring.ts): a wrong master key is refused here, before anything is read or written.
  const ring = await openKeyRing(database.db, { masterKey: config.masterKey, previousMasterKey: config.previousMasterKey }).catch(async (err: unknown) => {
    if (!options.database) await database.close();
    throw err;
  });
  const keys = ring.keys;
  const vault = createVault(database.db, keys, { ring });
  await vault.checkKey();
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 2, enableOfflineQueue: true });
  redis.on('error', (err: Error) => log.warn({ err: err.message }, 'redis error'));

  const repos = {
    trips: createTripRepository({ db: database.db, vault, retentionDays: config.retentionDays }),
    passengers: createPassengerRepository({ db: database.db, vault, keys, retentionDays: config.retentionDays }),
    staff: createStaffRepository({ db: database.db, keys, vault }),
    apiKeys: createApiKeyRepository({ db: database.db, keys }),
    audit: createAuditRepository({ db: database.db }),
    preregistrations: createPreregistrationRepository({ db: database.db, vault, keys, retentionDays: config.retentionDays }),
    alerts: createAlertRepository({ db: database.db }),
    watchlist: createWatchlistRepository({ db: database.db, keys }),
    tripContacts: createTripContactRepository({ db: database.db, vault }),
  };
  const translator = createTranslator(loadCatalogs(LOCALES_DIR));
  const localeKeys = new Set(translator.keys('zh-CN').filter((k) => translator.has('en', k)));
  const outboundConnection = bullConnection(config);
  const validate = new Queue(QUEUES.validate, { connection: outboundConnection, prefix: bullPrefix(config) });
  validate.on('error', (err) => log.warn({ err: err.message }, 'validate queue error'));
  const oversight = createOversightHooks({ preregistrations: repos.preregistrations, tripContacts: repos.tripContacts, validateQueue: validate, retentionDays: config.retentionDays, log });
  // The SMS channel needs the conversation service, which needs the actions: bound once both exist.
  let lateSms: SmsChannel | null = null;
  const smsChannel = (): SmsChannel => { if (!lateSms) throw new Error('the SMS channel is not ready'); return lateSms; };
  const actionDeps: ActionDeps = {
    trips: repos.trips, passengers: repos.passengers, staff: repos.staff, retentionDays: config.retentionDays, audit: repos.audit,
    findPreregistration: oversight.findPreregistration, afterRegistration: oversight.afterRegistration, afterTripCreated: oversight.afterTripCreated,
    inviteBySms: (trip, phone, invitedBy) => smsChannel().inviteBySms(trip, phone, invitedBy),
    ...options.actionDeps,
  };
  const actions = createActions(actionDeps);
  const registry = buildRegistry(ALL_FLOWS, { parsers: PARSERS, actions: new Set(Object.keys(actions)), hasKey: (k) => localeKeys.has(k) });
  const userKeyOf = (channel: string, userId: string) => userKey(keys, channel, userId);
  const sessions = createSessionStore(redis, { prefix: config.redisPrefix, sessionKey: keys.session });
  const metrics = createMetrics({ redis, prefix: config.redisPrefix, flows: registry, log });
  const conversation = createConversationService({
    sessions, registry, parsers: PARSERS, actions, userKeyOf, defaultLocale: config.defaultLocale, sessionTtlSeconds: config.sessionTtlSeconds,
    onTurn: metrics.onTurn,
  });
  const outbound = new Queue(QUEUES.outbound, { connection: outboundConnection, prefix: bullPrefix(config) });
  outbound.on('error', (err) => log.warn({ err: err.message }, 'outbound queue error'));
  const smsMessages = createSmsRepository({ db: database.db, vault, keys });
  // Without Alibaba Cloud credentials the simulator page gets a local stand-in gateway (nothing leaves the machine).
  const simulatorSms = !(config.sms.accessKeyId && config.sms.accessKeySecret) && config.simulator
    ? createSimulatorSmsGateway(redis, { prefix: config.redisPrefix, sealKey: keys.session, signName: config.sms.signName })
    : null;
  const smsSender = config.sms.accessKeyId && config.sms.accessKeySecret ? createSmsSender(config.sms, { log: log.child({ channel: 'sms' }) }) : simulatorSms?.sender ?? null;
  const sms = createSmsChannel({
    config, log: log.child({ channel: 'sms' }), conversation, registry, translator, sessions, sms: smsMessages, trips: repos.trips,
    tripContacts: repos.tripContacts, outbound, userKeyOf, sender: smsSender, retentionDays: config.retentionDays, sessionKey: keys.session,
  });
  lateSms = sms;

  const { token, aesKey, appId, appSecret } = config.wechat;
  const wechat = token
    ? {
        token,
        crypto: aesKey && appId ? createWechatCrypto(aesKey, appId) : null,
        api: appId && appSecret ? createOaApiClient({ appId, appSecret, apiBase: config.wechat.apiBase, redis, keyPrefix: config.redisPrefix }) : null,
      }
    : null;

  return {
    config, logger: options.logger, log, database, redis, keys, vault, repos, translator, registry, conversation,
    queues: { outbound, validate }, actionDeps, metrics, wechat, userKeyOf, sms: { channel: sms, messages: smsMessages, simulatorGateway: simulatorSms },
    async close() {
      await metrics.flush().catch((err: unknown) => log.warn({ err: err instanceof Error ? err.message : String(err) }, 'funnel flush failed'));
      await sms.drain();
      await outbound.close();
      await validate.close();
      outboundConnection.disconnect();
      redis.disconnect();
      if (!options.database) await database.close();
    },
  };
}
