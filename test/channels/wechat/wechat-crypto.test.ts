import { createCipheriv, createDecipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createWechatCrypto } from '../../../src/channels/wechat/wechat-crypto.js';
import { AppError, AuthError, InputError } from '../../../src/errors.js';
import { E1, E2, E3, E4, E5, E6, E7, E8 } from './vectors.js';

function keyOf(aesKey: string): Buffer {
  return Buffer.from(`${aesKey}=`, 'base64');
}

/** Raw AES-256-CBC without padding, IV = key[0..16): lets a test build or inspect any plaintext. */
function rawDecrypt(aesKey: string, b64: string): Buffer {
  const key = keyOf(aesKey);
  const d = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16));
  d.setAutoPadding(false);
  return Buffer.concat([d.update(Buffer.from(b64, 'base64')), d.final()]);
}
function rawEncrypt(aesKey: string, plain: Buffer): string {
  const key = keyOf(aesKey);
  const c = createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
  c.setAutoPadding(false);
  return Buffer.concat([c.update(plain), c.final()]).toString('base64');
}

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

function expectAppError(fn: () => unknown, cls: abstract new (...args: never[]) => AppError, code: string): AppError {
  const err = catchError(fn);
  expect(err).toBeInstanceOf(cls);
  expect((err as AppError).code).toBe(code);
  return err as AppError;
}

describe('decrypting the public vectors (reference §6.3)', () => {
  it.each([
    ['E1 (JSON push, pad 19)', E1.aesKey, E1.appId, E1.encrypt, E1.msg],
    ['E2 (XML push)', E2.aesKey, E2.appId, E2.encrypt, E2.msg],
    ['E3 (Python sample, compatible mode)', E3.aesKey, E3.appId, E3.encrypt, E3.msg],
    ['E4 (C++ sample)', E4.aesKey, E4.appId, E4.encrypt, E4.msg],
    ['E6 (EasyWeChat, pad 21)', E6.aesKey, E6.appId, E6.encrypt, E6.msg],
    ['E7 (WeCom message)', E7.aesKey, E7.appId, E7.message.encrypt, E7.message.msg],
    ['E7 (WeCom echostr)', E7.aesKey, E7.appId, E7.verify.echostr, E7.verify.plain],
    ['E1 reply', E1.aesKey, E1.appId, E1.reply.encrypt, E1.reply.plaintext],
    ['E2 reply', E2.aesKey, E2.appId, E2.reply.encrypt, E2.reply.plaintext],
    ['E5a (UTF-8 length)', E5.aesKey, E5.appId, E5.a.encrypt, E5.a.plaintext],
    ['E5b', E5.aesKey, E5.appId, E5.b.encrypt, E5.b.plaintext],
    ['E8 reply', E8.aesKey, E8.appId, E8.encrypt.encrypt, E8.encrypt.plaintext],
  ])('when %s is decrypted, then the published message comes out byte for byte', (_id, aesKey, appId, encrypt, msg) => {
    expect(createWechatCrypto(aesKey, appId).decrypt(encrypt)).toBe(msg);
  });

  it('when the E8 inbound message is decrypted, then it is the text "test" from messense', () => {
    const xml = createWechatCrypto(E8.aesKey, E8.appId).decrypt(E8.decrypt.encrypt);
    expect(xml).toContain('<Content><![CDATA[test]]></Content>');
    expect(xml).toContain('<FromUserName><![CDATA[messense]]></FromUserName>');
  });

  it('when the E8 echostr is decrypted with the CorpID, then it passes the id check', () => {
    expect(createWechatCrypto(E8.aesKey, E8.appId).decrypt(E8.check.echostr)).toMatch(/^\S+$/);
  });

  it('when E1 is decrypted, then the intermediate lengths are the published ones (224 bytes, FullStr 205, pad 19)', () => {
    const plain = rawDecrypt(E1.aesKey, E1.encrypt);
    expect(plain.length).toBe(224);
    expect(plain[plain.length - 1]).toBe(19);
    expect(plain.subarray(0, 16).toString('latin1')).toBe('a8eedb185eb2fecf');
    expect(plain.readUInt32BE(16)).toBe(167);
  });

  it('when Node auto-padding is used on E1 (pad 19 > 16), then it fails, which is why it is turned off', () => {
    const key = keyOf(E1.aesKey);
    const d = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16));
    expect(() => Buffer.concat([d.update(Buffer.from(E1.encrypt, 'base64')), d.final()])).toThrow();
  });
});

describe('encrypting with a fixed random (known answers)', () => {
  it.each([
    ['E1 reply', E1.aesKey, E1.appId, E1.reply.plaintext, E1.reply.random, E1.reply.encrypt],
    ['E2 reply', E2.aesKey, E2.appId, E2.reply.plaintext, E2.reply.random, E2.reply.encrypt],
    ['E5a', E5.aesKey, E5.appId, E5.a.plaintext, E5.random, E5.a.encrypt],
    ['E5b', E5.aesKey, E5.appId, E5.b.plaintext, E5.random, E5.b.encrypt],
    ['E8', E8.aesKey, E8.appId, E8.encrypt.plaintext, E8.encrypt.random, E8.encrypt.encrypt],
  ])('when %s is encrypted, then the ciphertext is the published one', (_id, aesKey, appId, plaintext, random, expected) => {
    expect(createWechatCrypto(aesKey, appId).encrypt(plaintext, Buffer.from(random, 'latin1'))).toBe(expected);
  });

  it('when no random is given, then two encryptions differ and both decrypt', () => {
    const crypto = createWechatCrypto(E1.aesKey, E1.appId);
    const a = crypto.encrypt('<xml>同一条</xml>');
    const b = crypto.encrypt('<xml>同一条</xml>');
    expect(a).not.toBe(b);
    expect(crypto.decrypt(a)).toBe('<xml>同一条</xml>');
    expect(crypto.decrypt(b)).toBe('<xml>同一条</xml>');
  });

  it('when the random is not 16 bytes, then it refuses', () => {
    expectAppError(() => createWechatCrypto(E1.aesKey, E1.appId).encrypt('x', Buffer.alloc(15)), AppError, 'WECHAT_BAD_RANDOM');
  });
});

describe('PKCS#7 to 32-byte blocks', () => {
  // FullStr = 16 + 4 + msg + appid(18) = 38 + msg bytes.
  it.each([
    ['a full block of padding (n = 32)', 26, 32],
    ['n = 17 (just over the 16-byte OpenSSL block)', 9, 17],
    ['n = 16', 10, 16],
    ['n = 1', 25, 1],
  ])('when the message needs %s, then every pad byte holds n and it round-trips', (_what, msgBytes, n) => {
    const crypto = createWechatCrypto(E1.aesKey, E1.appId);
    const msg = 'x'.repeat(msgBytes);
    const encrypted = crypto.encrypt(msg);
    const plain = rawDecrypt(E1.aesKey, encrypted);
    expect(plain.length % 32).toBe(0);
    expect([...plain.subarray(plain.length - n)]).toEqual(Array.from({ length: n }, () => n));
    expect(plain[plain.length - n - 1]).not.toBe(n); // the last appid byte
    expect(crypto.decrypt(encrypted)).toBe(msg);
  });

  it('when messages of 0 to 100 UTF-8 bytes (mixed scripts) are encrypted, then each decrypts to itself', () => {
    const crypto = createWechatCrypto(E5.aesKey, E5.appId);
    for (let i = 0; i <= 100; i++) {
      const msg = Array.from({ length: i }, (_, k) => (k % 3 === 0 ? '中' : k % 3 === 1 ? 'a' : '\n')).join('');
      expect(crypto.decrypt(crypto.encrypt(msg))).toBe(msg);
    }
  });
});

describe('malformed or tampered ciphertext → precise errors', () => {
  const crypto = createWechatCrypto(E1.aesKey, E1.appId);

  it('when Encrypt is empty, then InputError WECHAT_BAD_ENCRYPT', () => {
    expectAppError(() => crypto.decrypt(''), InputError, 'WECHAT_BAD_ENCRYPT');
  });

  it.each([
    ['a character outside base64', `${E1.encrypt.slice(0, -4)}ab!=`],
    ['a length that is not a multiple of 4', E1.encrypt.slice(0, -1)],
    ['whitespace inside', `${E1.encrypt.slice(0, 8)} ${E1.encrypt.slice(9)}`],
    ['URL-safe characters', E1.encrypt.replace(/\+/g, '-')],
  ])('when Encrypt has %s, then InputError WECHAT_BAD_BASE64', (_what, value) => {
    const err = expectAppError(() => crypto.decrypt(value), InputError, 'WECHAT_BAD_BASE64');
    expect(err.message).toMatch(/^Encrypt: expected base64/);
  });

  it.each([
    ['17 bytes', 17],
    ['16 bytes (one block, less than random + length)', 16],
    ['40 bytes', 40],
  ])('when the ciphertext is %s, then InputError WECHAT_BAD_CIPHERTEXT', (_what, size) => {
    const err = expectAppError(() => crypto.decrypt(Buffer.alloc(size, 7).toString('base64')), InputError, 'WECHAT_BAD_CIPHERTEXT');
    expect(err.message).toBe(`Encrypt: expected whole 16-byte AES blocks (at least 32 bytes), got ${size} bytes`);
  });

  it('when the last byte of the second-to-last block is flipped (pad 19 becomes 18), then AuthError WECHAT_BAD_PADDING', () => {
    const bytes = Buffer.from(E1.encrypt, 'base64');
    bytes[bytes.length - 17] = (bytes[bytes.length - 17] ?? 0) ^ 0x01;
    expectAppError(() => crypto.decrypt(bytes.toString('base64')), AuthError, 'WECHAT_BAD_PADDING');
  });

  it('when the first byte is flipped (msg_len becomes huge), then AuthError WECHAT_BAD_MSG_LENGTH', () => {
    const bytes = Buffer.from(E1.encrypt, 'base64');
    bytes[0] = (bytes[0] ?? 0) ^ 0x80;
    const err = expectAppError(() => crypto.decrypt(bytes.toString('base64')), AuthError, 'WECHAT_BAD_MSG_LENGTH');
    expect(err.message).toMatch(/^Encrypt: msg_len says \d+ bytes but only 185 follow$/);
  });

  it('when a body is decrypted with another AppID (EasyWeChat "invalid appid"), then AuthError WECHAT_BAD_APPID', () => {
    const err = expectAppError(() => createWechatCrypto(E6.aesKey, 'invalid appid').decrypt(E6.encrypt), AuthError, 'WECHAT_BAD_APPID');
    expect(err.message).not.toContain(E6.appId);
  });

  it('when a body is decrypted with another EncodingAESKey, then an AuthError (never an uncaught crypto error)', () => {
    const err = catchError(() => createWechatCrypto(E3.aesKey, E1.appId).decrypt(E1.encrypt));
    expect(err).toBeInstanceOf(AuthError);
    expect((err as AuthError).code).toMatch(/^WECHAT_BAD_(PADDING|MSG_LENGTH|APPID)$/);
  });

  it('when the padding is valid but nothing is left for random + length, then AuthError WECHAT_BAD_MSG_LENGTH', () => {
    const forged = rawEncrypt(E1.aesKey, Buffer.alloc(32, 32));
    const err = expectAppError(() => crypto.decrypt(forged), AuthError, 'WECHAT_BAD_MSG_LENGTH');
    expect(err.message).toBe('Encrypt: expected at least 20 bytes after unpadding, got 0');
  });

  it('when the pad value is 0 or above 32, then AuthError WECHAT_BAD_PADDING', () => {
    for (const last of [0, 33, 255]) {
      const plain = Buffer.alloc(64, 1);
      plain[63] = last;
      expectAppError(() => crypto.decrypt(rawEncrypt(E1.aesKey, plain)), AuthError, 'WECHAT_BAD_PADDING');
    }
  });

  it('when the message bytes are not UTF-8, then InputError WECHAT_BAD_UTF8', () => {
    const body = Buffer.concat([Buffer.alloc(16, 0x61), Buffer.from([0, 0, 0, 2, 0xff, 0xfe]), Buffer.from(E1.appId)]);
    const n = 32 - (body.length % 32);
    const forged = rawEncrypt(E1.aesKey, Buffer.concat([body, Buffer.alloc(n, n)]));
    expectAppError(() => crypto.decrypt(forged), InputError, 'WECHAT_BAD_UTF8');
  });
});

describe('EncodingAESKey handling', () => {
  it('when the last key character carries padding bits (…EFG vs …EFE), then both keys decrypt E3', () => {
    const lenient = E3.aesKey.replace(/G$/, 'E');
    expect(createWechatCrypto(lenient, E3.appId).decrypt(E3.encrypt)).toBe(E3.msg);
  });

  it.each([
    ['42 characters', 'a'.repeat(42)],
    ['44 characters', 'a'.repeat(44)],
    ['a character outside [A-Za-z0-9]', `${'a'.repeat(42)}+`],
  ])('when the key has %s, then it is refused at construction with WECHAT_BAD_AES_KEY', (_what, key) => {
    expectAppError(() => createWechatCrypto(key, 'wx1'), AppError, 'WECHAT_BAD_AES_KEY');
  });

  it('when the AppID is empty, then it is refused at construction', () => {
    expectAppError(() => createWechatCrypto(E1.aesKey, ''), AppError, 'WECHAT_BAD_APPID_CONFIG');
  });
});
