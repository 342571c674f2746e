import { XMLBuilder } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { openEncryptedRequest, sealReply } from '../../../src/channels/wechat/safe-mode.js';
import { createWechatCrypto } from '../../../src/channels/wechat/wechat-crypto.js';
import { parseInboundXml } from '../../../src/channels/wechat/xml.js';
import { AuthError, InputError } from '../../../src/errors.js';
import { E1, E2, E3, E4, E6 } from './vectors.js';

const builder = new XMLBuilder({ cdataPropName: '__cdata' });
/** The safe-mode body WeChat posts: `<xml><ToUserName/><Encrypt/></xml>`. */
function envelope(toUser: string, encrypt: string): string {
  return builder.build({ xml: { ToUserName: { __cdata: toUser }, Encrypt: { __cdata: encrypt } } }) as string;
}

function errorOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('openEncryptedRequest', () => {
  it.each([
    ['E2', E2, E2.msg],
    ['E3', E3, E3.msg],
    ['E4', E4, E4.msg],
    ['E6', E6, E6.msg],
  ])('when the %s request arrives with its msg_signature, then the message is decrypted', (_id, v, msg) => {
    const xml = openEncryptedRequest({
      token: v.token,
      crypto: createWechatCrypto(v.aesKey, v.appId),
      query: { timestamp: v.timestamp, nonce: v.nonce, msg_signature: v.msgSignature, encrypt_type: 'aes' },
      body: envelope('gh_any', v.encrypt),
    });
    expect(xml).toBe(msg);
  });

  it('when the E1 request (its real query) arrives, then the JSON push is decrypted', () => {
    const query = Object.fromEntries(new URLSearchParams(`signature=${E1.signature}&timestamp=${E1.timestamp}&nonce=${E1.nonce}&openid=${E1.openid}&encrypt_type=aes&msg_signature=${E1.msgSignature}`));
    expect(openEncryptedRequest({ token: E1.token, crypto: createWechatCrypto(E1.aesKey, E1.appId), query, body: envelope('gh_97417a04a28d', E1.encrypt) })).toBe(E1.msg);
  });

  it('when the E3 compatible-mode body arrives, then the Encrypt element is what counts', () => {
    const parsed = parseInboundXml(
      openEncryptedRequest({
        token: E3.token,
        crypto: createWechatCrypto(E3.aesKey, E3.appId),
        query: { timestamp: E3.timestamp, nonce: E3.nonce, msg_signature: E3.msgSignature },
        body: E3.msg.replace('</xml>', `<Encrypt><![CDATA[${E3.encrypt}]]></Encrypt></xml>`),
      }),
    );
    expect(parsed.msgId).toBe('6054768590064713728');
  });

  it('when only the 3-field signature is sent as msg_signature (a classic mistake), then AuthError WECHAT_BAD_SIGNATURE', () => {
    const err = errorOf(() =>
      openEncryptedRequest({
        token: E1.token,
        crypto: createWechatCrypto(E1.aesKey, E1.appId),
        query: { timestamp: E1.timestamp, nonce: E1.nonce, msg_signature: E1.signature },
        body: envelope('gh', E1.encrypt),
      }),
    );
    expect(err).toBeInstanceOf(AuthError);
    expect((err as AuthError).code).toBe('WECHAT_BAD_SIGNATURE');
    expect((err as AuthError).message).toBe('msg_signature does not match the body');
  });

  it('when the body was swapped for another ciphertext, then AuthError WECHAT_BAD_SIGNATURE before any decryption', () => {
    const err = errorOf(() =>
      openEncryptedRequest({
        token: E2.token,
        crypto: createWechatCrypto(E2.aesKey, E2.appId),
        query: { timestamp: E2.timestamp, nonce: E2.nonce, msg_signature: E2.msgSignature },
        body: envelope('gh', E1.encrypt),
      }),
    );
    expect((err as AuthError).code).toBe('WECHAT_BAD_SIGNATURE');
  });

  it('when msg_signature is missing, then AuthError WECHAT_BAD_SIGNATURE naming the parameters', () => {
    const err = errorOf(() =>
      openEncryptedRequest({ token: E2.token, crypto: createWechatCrypto(E2.aesKey, E2.appId), query: { timestamp: E2.timestamp, nonce: E2.nonce }, body: envelope('gh', E2.encrypt) }),
    );
    expect((err as AuthError).message).toBe('query: timestamp, nonce and msg_signature are required in safe mode');
  });

  it('when the signature is right but the AppID differs (EasyWeChat "invalid appid"), then AuthError WECHAT_BAD_APPID', () => {
    const err = errorOf(() =>
      openEncryptedRequest({
        token: E6.token,
        crypto: createWechatCrypto(E6.aesKey, 'wx0000000000000000'),
        query: { timestamp: E6.timestamp, nonce: E6.nonce, msg_signature: E6.msgSignature },
        body: envelope('gh', E6.encrypt),
      }),
    );
    expect((err as AuthError).code).toBe('WECHAT_BAD_APPID');
  });

  it('when the body is not XML, then InputError WECHAT_BAD_XML', () => {
    const err = errorOf(() =>
      openEncryptedRequest({ token: 't', crypto: createWechatCrypto(E2.aesKey, E2.appId), query: { timestamp: '1', nonce: '2', msg_signature: 'x' }, body: '{"Encrypt":"x"}' }),
    );
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).code).toBe('WECHAT_BAD_XML');
  });
});

describe('sealReply', () => {
  it('when the E1 reply is sealed with its published random, timestamp and nonce, then Encrypt and MsgSignature are the published ones', () => {
    const body = sealReply({
      token: E1.token,
      crypto: createWechatCrypto(E1.aesKey, E1.appId),
      replyXml: E1.reply.plaintext,
      timestamp: E1.reply.timestamp,
      nonce: E1.reply.nonce,
      random16: Buffer.from(E1.reply.random, 'latin1'),
    });
    expect(body).toBe(
      `<xml><Encrypt><![CDATA[${E1.reply.encrypt}]]></Encrypt><MsgSignature><![CDATA[${E1.reply.msgSignature}]]></MsgSignature><TimeStamp>${E1.reply.timestamp}</TimeStamp><Nonce><![CDATA[${E1.reply.nonce}]]></Nonce></xml>`,
    );
  });

  it('when the E2 reply is sealed with its published values, then Encrypt and MsgSignature are the published ones', () => {
    const body = sealReply({
      token: E2.token,
      crypto: createWechatCrypto(E2.aesKey, E2.appId),
      replyXml: E2.reply.plaintext,
      timestamp: Number(E2.reply.timestamp),
      nonce: E2.reply.nonce,
      random16: Buffer.from(E2.reply.random, 'latin1'),
    });
    expect(body).toContain(`<Encrypt><![CDATA[${E2.reply.encrypt}]]></Encrypt>`);
    expect(body).toContain(`<MsgSignature><![CDATA[${E2.reply.msgSignature}]]></MsgSignature>`);
  });
});
