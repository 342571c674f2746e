import { describe, expect, it } from 'vitest';
import { openEncryptedRequest, sealReply } from '../../../src/channels/wechat/safe-mode.js';
import { verifyQuerySignature } from '../../../src/channels/wechat/signature.js';
import { createWechatCrypto } from '../../../src/channels/wechat/wechat-crypto.js';
import { buildImageReply, buildTextReply, parseEncryptedEnvelope, parseInboundXml, toUserInput } from '../../../src/channels/wechat/xml.js';
import { DEFAULT_OA_ID, eventXml, openReply, signRequest, textXml, voiceXml } from '../../helpers/wechat-client.js';

const token = 'boardroll-test-token';
const aesKey = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
const appId = 'wx1234567890abcdef';

describe('test helper: playing WeChat (test/helpers/wechat-client.ts)', () => {
  it('when a text push is built, then the service parser reads it back exactly (64-bit MsgId, ]]> in content)', () => {
    const body = textXml({ from: 'o-user-1', content: '辽A12345 ]]> <ok>', msgId: '18446744073709551615', createTime: 1700000000 });
    expect(parseInboundXml(body)).toEqual({
      toUser: DEFAULT_OA_ID,
      fromUser: 'o-user-1',
      createTime: 1700000000,
      msgType: 'text',
      msgId: '18446744073709551615',
      content: '辽A12345 ]]> <ok>',
    });
  });

  it('when a scan-subscribe and a SCAN are built, then both map to a scan of the trip', () => {
    expect(toUserInput(parseInboundXml(eventXml({ from: 'o1', event: 'subscribe', eventKey: 'qrscene_T1', createTime: 1 })))).toEqual({ type: 'scan', scene: 'T1' });
    expect(toUserInput(parseInboundXml(eventXml({ from: 'o1', event: 'SCAN', eventKey: 'T1', createTime: 2 })))).toEqual({ type: 'scan', scene: 'T1' });
    expect(toUserInput(parseInboundXml(eventXml({ from: 'o1', event: 'subscribe', createTime: 3 })))).toEqual({ type: 'follow' });
  });

  it('when a voice with recognition is built, then it maps to text', () => {
    expect(toUserInput(parseInboundXml(voiceXml({ from: 'o1', recognition: '帮助', msgId: '7' })))).toEqual({ type: 'text', text: '帮助' });
  });

  it('when a plaintext request is signed, then signature, timestamp, nonce and openid verify', () => {
    const body = textXml({ from: 'o-user-1', content: 'hi', msgId: '1' });
    const req = signRequest({ token, body, timestamp: 1714036504, nonce: '1514711492' });
    expect(req.body).toBe(body);
    expect(req.query).toEqual({ signature: expect.stringMatching(/^[0-9a-f]{40}$/), timestamp: '1714036504', nonce: '1514711492', openid: 'o-user-1' });
    expect(verifyQuerySignature(token, req.query)).toBe(true);
    expect(verifyQuerySignature('other', req.query)).toBe(false);
  });

  it('when a safe-mode request is signed, then the service opens it (msg_signature + decryption) to the original body', () => {
    const body = textXml({ from: 'o-user-1', content: '你好', msgId: '99' });
    const req = signRequest({ token, body, aesKey, appId });
    expect(req.query['encrypt_type']).toBe('aes');
    expect(verifyQuerySignature(token, req.query)).toBe(true);
    expect(parseEncryptedEnvelope(req.body).toUser).toBe(DEFAULT_OA_ID);
    expect(req.body).not.toContain('你好');
    expect(openEncryptedRequest({ token, crypto: createWechatCrypto(aesKey, appId), query: req.query, body: req.body })).toBe(body);
  });

  it('when a compatible-mode request is signed, then the body holds both the plaintext fields and Encrypt', () => {
    const body = textXml({ from: 'o-user-1', content: 'hi', msgId: '5' });
    const req = signRequest({ token, body, aesKey, appId, compatible: true });
    expect(parseInboundXml(req.body).content).toBe('hi');
    expect(openEncryptedRequest({ token, crypto: createWechatCrypto(aesKey, appId), query: req.query, body: req.body })).toBe(body);
  });

  it('when a malformed body is signed, then it is signed anyway without openid (for negative tests)', () => {
    const req = signRequest({ token, body: '<xml><oops>' });
    expect(req.query['openid']).toBeUndefined();
    expect(verifyQuerySignature(token, req.query)).toBe(true);
  });

  it('when the service seals a text reply, then openReply verifies, decrypts and parses it', () => {
    const reply = sealReply({
      token,
      crypto: createWechatCrypto(aesKey, appId),
      replyXml: buildTextReply({ toUser: 'o-user-1', fromUser: DEFAULT_OA_ID, createTime: 1700000001, content: '请输入姓名' }),
      timestamp: 1700000001,
      nonce: '123',
    });
    expect(openReply(reply, { token, aesKey, appId })).toMatchObject({
      toUser: 'o-user-1',
      fromUser: DEFAULT_OA_ID,
      createTime: 1700000001,
      msgType: 'text',
      content: '请输入姓名',
      encrypted: true,
    });
  });

  it('when a sealed reply has a wrong MsgSignature, then openReply throws', () => {
    const reply = sealReply({ token: 'another', crypto: createWechatCrypto(aesKey, appId), replyXml: buildTextReply({ toUser: 'o', fromUser: 'gh', createTime: 1, content: 'x' }), timestamp: 1, nonce: '1' });
    expect(() => openReply(reply, { token, aesKey, appId })).toThrow('openReply: MsgSignature does not match the encrypted reply');
  });

  it('when a safe-mode reply comes back in plaintext, then openReply throws unless plaintext is allowed', () => {
    const plain = buildImageReply({ toUser: 'o', fromUser: 'gh', createTime: 1, mediaId: 'M1' });
    expect(() => openReply(plain, { token, aesKey, appId })).toThrow('openReply: safe mode requires an encrypted reply, got plaintext XML');
    expect(openReply(plain, { token, aesKey, appId, allowPlaintext: true })).toMatchObject({ msgType: 'image', mediaId: 'M1', encrypted: false });
  });

  it('when the reply is "success" or empty, then openReply returns null', () => {
    expect(openReply('success', { token, aesKey, appId })).toBeNull();
    expect(openReply('', { token })).toBeNull();
  });

  it('when a plaintext reply is opened without aesKey, then it is parsed', () => {
    const xml = buildTextReply({ toUser: 'o', fromUser: 'gh', createTime: 5, content: 'a]]>b' });
    expect(openReply(xml, { token })).toMatchObject({ msgType: 'text', content: 'a]]>b', encrypted: false });
  });
});
