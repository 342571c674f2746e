import { z } from 'zod';

/** Parses the contract's environment variables (../shared/DESIGN.md). The only reader of process.env is loadConfig's caller. */
const optionalSecret = z.string().min(1).optional();
const emptyToUndefined = (v: unknown) => (v === '' ? undefined : v);

export const SMS_KINDS = ['invite', 'ask', 'retry', 'menu', 'summary', 'done'] as const;
export type SmsKind = (typeof SMS_KINDS)[number];
const DEV_SMS_TEMPLATES: Record<SmsKind, string> = {
  invite: 'SMS_DEV_INVITE', ask: 'SMS_DEV_ASK', retry: 'SMS_DEV_RETRY', menu: 'SMS_DEV_MENU', summary: 'SMS_DEV_SUMMARY', done: 'SMS_DEV_DONE',
};

export const EnvSchema = z.object({
  HOST: z.string().default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  DATABASE_URL: z.preprocess(emptyToUndefined, z.string().min(1).optional()),
  DATA_DIR: z.string().min(1).default('./data'),
  REDIS_URL: z.preprocess(emptyToUndefined, z.string().min(1).optional()),
  REDIS_PREFIX: z.string().regex(/^[a-z0-9-]+$/).default('br'),
  WECHAT_APPID: z.preprocess(emptyToUndefined, optionalSecret),
  WECHAT_APPSECRET: z.preprocess(emptyToUndefined, optionalSecret),
  WECHAT_TOKEN: z.preprocess(emptyToUndefined, optionalSecret),
  WECHAT_AES_KEY: z.preprocess(emptyToUndefined, z.string().regex(/^[A-Za-z0-9]{43}$/, 'must be 43 letters and digits').optional()),
  WECHAT_API_BASE: z.string().url().default('https://api.weixin.qq.com'),
  WECHAT_REPORT_TEMPLATE_ID: z.preprocess(emptyToUndefined, z.string().min(1).optional()),
  ALIYUN_ACCESS_KEY_ID: z.preprocess(emptyToUndefined, optionalSecret),
  ALIYUN_ACCESS_KEY_SECRET: z.preprocess(emptyToUndefined, optionalSecret),
  SMS_ENDPOINT: z.string().min(1).default('dysmsapi.aliyuncs.com'),
  SMS_PROTOCOL: z.enum(['https', 'http']).default('https'),
  SMS_SIGN_NAME: z.preprocess(emptyToUndefined, z.string().min(1).default('出行登记')),
  SMS_UPLINK_TOKEN: z.preprocess(emptyToUndefined, optionalSecret),
  SMS_TEMPLATES: z.preprocess(
    (v) => (typeof v === 'string' && v.trim() !== '' ? JSON.parse(v) : undefined),
    z.object(Object.fromEntries(SMS_KINDS.map((k) => [k, z.string().min(1)])) as Record<SmsKind, z.ZodString>).partial().optional(),
  ),
  SMS_ACCEPTS_COLD: z.preprocess(emptyToUndefined, z.stringbool().default(false)),
  BOARDROLL_MASTER_KEY: z.preprocess(emptyToUndefined, z.string().refine((s) => Buffer.from(s, 'base64').length === 32, 'must be base64 of 32 bytes').optional()),
  BOARDROLL_PREVIOUS_MASTER_KEY: z.preprocess(emptyToUndefined, z.string().refine((s) => Buffer.from(s, 'base64').length === 32, 'must be base64 of 32 bytes').optional()),
  SMTP_URL: z.preprocess(emptyToUndefined, z.string().url().optional()),
  SMTP_FROM: z.string().default('boardroll <reports@boardroll.local>'),
  RETENTION_DAYS: z.coerce.number().int().min(0).default(28),
  DEFAULT_LOCALE: z.enum(['zh-CN', 'en']).default('zh-CN'),
  SESSION_TTL_SECONDS: z.coerce.number().int().min(10).default(1800),
  PUBLIC_BASE_URL: z.preprocess(emptyToUndefined, z.string().url().optional()),
  SIMULATOR: z.preprocess(emptyToUndefined, z.stringbool().optional()),
  REPORT_TIME: z.string().regex(/^\d{2}:\d{2}$/).default('06:00'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_PRETTY: z.preprocess(emptyToUndefined, z.stringbool().optional()),
  WECHATY_PUPPET: z.string().default('wechaty-puppet-mock'),
  WECHATY_PUPPET_SERVICE_TOKEN: z.preprocess(emptyToUndefined, optionalSecret),
});

export type Env = z.infer<typeof EnvSchema>;

export interface Config {
  host: string;
  port: number;
  databaseUrl: string | undefined;
  dataDir: string;
  redisUrl: string;
  redisUrlExplicit: boolean;
  redisPrefix: string;
  wechat: {
    appId: string | undefined; appSecret: string | undefined; token: string | undefined; aesKey: string | undefined; apiBase: string;
    /** OA template for the daily report message to officials; unset: a customer-service text instead. */
    reportTemplateId: string | undefined;
  };
  sms: {
    accessKeyId: string | undefined; accessKeySecret: string | undefined; endpoint: string; protocol: 'https' | 'http';
    signName: string; uplinkToken: string | undefined; templates: Record<SmsKind, string>; acceptsCold: boolean;
  };
  masterKey: string | undefined;
  previousMasterKey: string | undefined;
  smtpUrl: string | undefined;
  smtpFrom: string;
  retentionDays: number;
  defaultLocale: 'zh-CN' | 'en';
  sessionTtlSeconds: number;
  publicBaseUrl: string;
  simulator: boolean;
  reportTime: string;
  logLevel: Env['LOG_LEVEL'];
  logPretty: boolean | undefined;
  wechaty: { puppet: string; token: string | undefined };
}

export function configFromEnv(env: Env): Config {
  const host = env.HOST;
  const port = env.PORT;
  return Object.freeze({
    host,
    port,
    databaseUrl: env.DATABASE_URL,
    dataDir: env.DATA_DIR,
    redisUrl: env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    redisUrlExplicit: env.REDIS_URL !== undefined,
    redisPrefix: env.REDIS_PREFIX,
    wechat: Object.freeze({ appId: env.WECHAT_APPID, appSecret: env.WECHAT_APPSECRET, token: env.WECHAT_TOKEN, aesKey: env.WECHAT_AES_KEY, apiBase: env.WECHAT_API_BASE.replace(/\/$/, ''),
      reportTemplateId: env.WECHAT_REPORT_TEMPLATE_ID,
    }),
    sms: Object.freeze({
      accessKeyId: env.ALIYUN_ACCESS_KEY_ID, accessKeySecret: env.ALIYUN_ACCESS_KEY_SECRET, endpoint: env.SMS_ENDPOINT,
      protocol: env.SMS_PROTOCOL, signName: env.SMS_SIGN_NAME, uplinkToken: env.SMS_UPLINK_TOKEN,
      templates: Object.freeze({ ...DEV_SMS_TEMPLATES, ...(env.SMS_TEMPLATES ?? {}) }) as Record<SmsKind, string>, acceptsCold: env.SMS_ACCEPTS_COLD,
    }),
    masterKey: env.BOARDROLL_MASTER_KEY,
    previousMasterKey: env.BOARDROLL_PREVIOUS_MASTER_KEY,
    smtpUrl: env.SMTP_URL,
    smtpFrom: env.SMTP_FROM,
    retentionDays: env.RETENTION_DAYS,
    defaultLocale: env.DEFAULT_LOCALE,
    sessionTtlSeconds: env.SESSION_TTL_SECONDS,
    publicBaseUrl: (env.PUBLIC_BASE_URL ?? `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`).replace(/\/$/, ''),
    simulator: env.SIMULATOR ?? env.DATABASE_URL === undefined,
    reportTime: env.REPORT_TIME,
    logLevel: env.LOG_LEVEL,
    logPretty: env.LOG_PRETTY,
    wechaty: Object.freeze({ puppet: env.WECHATY_PUPPET, token: env.WECHATY_PUPPET_SERVICE_TOKEN }),
  });
}

/** Parse once at an entry point; throws a ZodError whose prettified text names every bad variable. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  return configFromEnv(EnvSchema.parse(env));
}
