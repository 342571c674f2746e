import { AuthError } from '../../errors.js';
import { signatureMatches, wechatSignature } from './signature.js';
import type { WechatCrypto } from './wechat-crypto.js';
import { buildEncryptedReply, parseEncryptedEnvelope } from './xml.js';

/**
 * Safe/compatible mode (reference §4): a request with `encrypt_type=aes` is authenticated by `msg_signature`
 * over (token, timestamp, nonce, Encrypt), not by the 3-field `signature`, and its reply must be encrypted too
 * (except a bare `success` or empty body, which stay plaintext).
 */

/** Verifies `msg_signature` against the body's `<Encrypt>`, then decrypts it. Returns the inner message XML. */
export function openEncryptedRequest(args: {
  token: string;
  crypto: WechatCrypto;
  query: Readonly<Record<string, unknown>>;
  body: string;
}): string {
  const { timestamp, nonce, msg_signature: msgSignature } = args.query;
  if (typeof timestamp !== 'string' || typeof nonce !== 'string' || typeof msgSignature !== 'string') {
    throw new AuthError('WECHAT_BAD_SIGNATURE', 'query: timestamp, nonce and msg_signature are required in safe mode');
  }
  const { encrypt } = parseEncryptedEnvelope(args.body);
  if (!signatureMatches(msgSignature, wechatSignature(args.token, timestamp, nonce, encrypt))) {
    throw new AuthError('WECHAT_BAD_SIGNATURE', 'msg_signature does not match the body');
  }
  return args.crypto.decrypt(encrypt);
}

/**
 * Encrypts and signs a passive reply (reference §4 "Building an encrypted reply"): TimeStamp = now in seconds,
 * Nonce = the request's nonce. Returns the `<xml><Encrypt/><MsgSignature/><TimeStamp/><Nonce/></xml>` body.
 */
export function sealReply(args: {
  token: string;
  crypto: WechatCrypto;
  replyXml: string;
  timestamp: number | string;
  nonce: string;
  random16?: Buffer;
}): string {
  const encrypt = args.crypto.encrypt(args.replyXml, args.random16);
  const timestamp = String(args.timestamp);
  return buildEncryptedReply({
    encrypt,
    signature: wechatSignature(args.token, timestamp, args.nonce, encrypt),
    timestamp,
    nonce: args.nonce,
  });
}
