import type { LoggerOptions } from 'pino';
import type { Config } from './config.js';

/**
 * Shared by Fastify and the workers. Every field that can hold a phone, identity number, address, openid,
 * message text or secret is redacted (STYLE §6); messages are constant strings.
 */
export const REDACT_PATHS = [
  'req.headers.authorization', 'req.query.signature', 'req.query.msg_signature', 'req.query.openid', 'req.query.token',
  'req.query.idNumber', 'req.query.phone', 'req.query.sig',
  '*.phone', '*.idNumber', '*.openid', '*.name', '*.address', '*.text', '*.content', '*.userId', '*.token',
  '*.addressBefore', '*.addressBeijing', '*.phoneNumber', '*.phone_number', '*.templateParam',
];

export function loggerOptions(config: Pick<Config, 'logLevel' | 'logPretty'>): LoggerOptions {
  const pretty = config.logPretty ?? process.stdout.isTTY === true;
  return {
    level: config.logLevel,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    // Query strings carry signatures, openids and trace parameters: log the path only.
    serializers: { req: (req: { method?: string; url?: string; id?: string }) => ({ method: req.method, path: req.url?.split('?')[0], id: req.id }) },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:standard', ignore: 'pid,hostname' } } } : {}),
  };
}
