import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { openJson, sealJson } from '../../security/cipher.js';
import type { SmsSender } from './sms-sender.js';
import { renderSms } from './sms-templates.js';
import { normalizeCnMobile } from './sms-phone.js';

/**
 * A stand-in SMS gateway for the simulator page when no Alibaba Cloud credentials are configured: each SMS is
 * rendered exactly as a phone would show it and kept (sealed, one hour) in Redis for the simulated phone to read.
 * Nothing leaves the machine.
 */
const KEEP_SECONDS = 3600;
const MAX_KEPT = 200;

export interface SimulatorSmsGateway { sender: SmsSender; outbox(phone: string): Promise<{ text: string; sentAt: string }[]> }

export function createSimulatorSmsGateway(redis: Redis, options: { prefix: string; sealKey: Buffer; signName: string }): SimulatorSmsGateway {
  const keyOf = (phone: string) => `${options.prefix}:simsms:${normalizeCnMobile(phone)}`;
  return {
    sender: {
      async send(input) {
        const text = renderSms({ kind: input.kind, params: input.params, locale: 'zh-CN', signName: options.signName });
        const key = keyOf(input.phone);
        await redis.multi().rpush(key, sealJson(options.sealKey, { text, sentAt: new Date().toISOString() }, key)).ltrim(key, -MAX_KEPT, -1).expire(key, KEEP_SECONDS).exec();
        return { ok: true, bizId: `sim-${randomUUID()}`, requestId: undefined };
      },
    },
    async outbox(phone) {
      const key = keyOf(phone);
      const items = await redis.lrange(key, 0, -1);
      return items.map((item) => openJson(options.sealKey, item, key) as { text: string; sentAt: string });
    },
  };
}
