import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { AppError, AuthError, InputError } from '../../errors.js';

/**
 * WeChat message encryption (safe and compatible mode), as in Tencent's WXBizMsgCrypt samples:
 * - AESKey = base64(EncodingAESKey + "=") → 32 bytes; AES-256-CBC with IV = AESKey[0..16).
 * - plaintext = random(16) ‖ msg_len (uint32 BE, UTF-8 bytes) ‖ msg ‖ appid, PKCS#7-padded to a 32-byte block
 *   (pad 1..32). OpenSSL's own padding assumes 16-byte blocks and fails on pads > 16, so it is turned off.
 *
 * `decrypt` must only be called after `msg_signature` has been checked (see safe-mode.ts): the signature is what
 * authenticates the ciphertext, so the distinct padding/length errors below cannot serve as a padding oracle.
 */
export interface WechatCrypto {
  readonly appId: string;
  /** Encrypts `xml` (any UTF-8 text) and returns the base64 `Encrypt` value. `random16` is for known-answer tests. */
  encrypt(xml: string, random16?: Buffer): string;
  /** Decrypts a base64 `Encrypt` value, checks the trailing AppID, and returns the message text. */
  decrypt(encryptB64: string): string;
}

const BLOCK = 32;
const AES_BLOCK = 16;
const HEADER = 16 + 4;
const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;
const AES_KEY_RE = /^[A-Za-z0-9]{43}$/;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function pkcs7Pad(data: Buffer): Buffer {
  const n = BLOCK - (data.length % BLOCK);
  return Buffer.concat([data, Buffer.alloc(n, n)]);
}

function pkcs7Unpad(data: Buffer): Buffer {
  const n = data[data.length - 1] ?? 0;
  let ok = n >= 1 && n <= BLOCK && n <= data.length;
  // Check every pad byte (WeChat pads correctly; anything else is a wrong key or a tampered body).
  for (let i = data.length - n; ok && i < data.length; i++) ok = data[i] === n;
  if (!ok) {
    throw new AuthError('WECHAT_BAD_PADDING', 'Encrypt: PKCS#7 padding (1-32 bytes) is invalid (wrong EncodingAESKey or tampered ciphertext)');
  }
  return data.subarray(0, data.length - n);
}

export function createWechatCrypto(encodingAesKey43: string, appId: string): WechatCrypto {
  if (!AES_KEY_RE.test(encodingAesKey43)) {
    throw new AppError('WECHAT_BAD_AES_KEY', `EncodingAESKey: expected 43 letters and digits, got ${encodingAesKey43.length} characters`);
  }
  if (appId.length === 0) throw new AppError('WECHAT_BAD_APPID_CONFIG', 'AppID: expected a non-empty string, got an empty one');
  // Lenient decoding on purpose: the last character may carry non-zero padding bits (…EFG decodes like …EFE).
  const key = Buffer.from(`${encodingAesKey43}=`, 'base64');
  if (key.length !== 32) throw new AppError('WECHAT_BAD_AES_KEY', `EncodingAESKey: expected to decode to 32 bytes, got ${key.length}`);
  const iv = key.subarray(0, 16);
  const appIdBytes = Buffer.from(appId, 'utf8');

  function encrypt(xml: string, random16: Buffer = randomBytes(16)): string {
    if (random16.length !== 16) throw new AppError('WECHAT_BAD_RANDOM', `random16: expected 16 bytes, got ${random16.length}`);
    const msg = Buffer.from(xml, 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32BE(msg.length, 0);
    const plain = pkcs7Pad(Buffer.concat([random16, len, msg, appIdBytes]));
    const cipher = createCipheriv('aes-256-cbc', key, iv);
    cipher.setAutoPadding(false);
    return Buffer.concat([cipher.update(plain), cipher.final()]).toString('base64');
  }

  function decrypt(encryptB64: string): string {
    if (typeof encryptB64 !== 'string' || encryptB64.length === 0) {
      throw new InputError('WECHAT_BAD_ENCRYPT', 'Encrypt: expected base64 text, got an empty value');
    }
    if (encryptB64.length % 4 !== 0 || !BASE64_RE.test(encryptB64)) {
      throw new InputError(
        'WECHAT_BAD_BASE64',
        `Encrypt: expected base64 (A-Z a-z 0-9 + / with = padding, length a multiple of 4), got ${encryptB64.length} characters that are not`,
      );
    }
    const data = Buffer.from(encryptB64, 'base64');
    if (data.length < BLOCK || data.length % AES_BLOCK !== 0) {
      throw new InputError('WECHAT_BAD_CIPHERTEXT', `Encrypt: expected whole 16-byte AES blocks (at least 32 bytes), got ${data.length} bytes`);
    }
    let plain: Buffer;
    try {
      const decipher = createDecipheriv('aes-256-cbc', key, iv);
      decipher.setAutoPadding(false);
      plain = Buffer.concat([decipher.update(data), decipher.final()]);
    } catch (err) {
      throw new AuthError('WECHAT_DECRYPT_FAILED', 'Encrypt: AES-256-CBC decryption failed', { cause: err });
    }
    const content = pkcs7Unpad(plain);
    if (content.length < HEADER) {
      throw new AuthError('WECHAT_BAD_MSG_LENGTH', `Encrypt: expected at least ${HEADER} bytes after unpadding, got ${content.length}`);
    }
    const msgLen = content.readUInt32BE(16);
    const available = content.length - HEADER;
    if (msgLen > available) {
      throw new AuthError('WECHAT_BAD_MSG_LENGTH', `Encrypt: msg_len says ${msgLen} bytes but only ${available} follow`);
    }
    const trailingId = content.subarray(HEADER + msgLen);
    if (!trailingId.equals(appIdBytes)) {
      throw new AuthError('WECHAT_BAD_APPID', `Encrypt: the trailing AppID (${trailingId.length} bytes) does not match this account's AppID`);
    }
    try {
      return utf8.decode(content.subarray(HEADER, HEADER + msgLen));
    } catch (err) {
      throw new InputError('WECHAT_BAD_UTF8', 'Encrypt: the decrypted message is not valid UTF-8', { cause: err });
    }
  }

  return { appId, encrypt, decrypt };
}
