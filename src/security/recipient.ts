import { openJson, sealJson } from './cipher.js';

/**
 * BullMQ keeps job data in Redis in clear text, so a recipient's OA openid travels sealed (AES-GCM under the
 * session key) and is opened only by the worker that sends.
 */
const PREFIX = 'sealed.';

export function sealRecipient(key: Uint8Array, openid: string): string {
  return `${PREFIX}${sealJson(key, openid, 'recipient')}`;
}

export function openRecipient(key: Uint8Array, value: string): string {
  if (!value.startsWith(PREFIX)) return value;
  const opened = openJson(key, value.slice(PREFIX.length), 'recipient');
  if (typeof opened !== 'string') throw new TypeError('sealed recipient is not a string');
  return opened;
}
