import { describe, expect, it } from 'vitest';
import { signatureMatches, verifyQuerySignature, wechatSignature } from '../../../src/channels/wechat/signature.js';
import { E1, E2, E3, E4, E6, E7, E8 } from './vectors.js';

describe('wechatSignature, 3 fields (reference §6.1)', () => {
  it.each([
    ['S1', 'AAAAA', '1714036504', '1514711492', 'f464b24fc39322e44b38aa78f5edd27bd1441696'],
    ['S2', 'AAAAA', '1714037059', '486452656', '899cf89e464efb63f54ddac96b0a0a235f53aa78'],
    ['S3', 'AAAAA', '1714112445', '415670741', '6c5c811b55cc85e0e1b54100749188c20beb3f5d'],
    ['S4', 'AAAAA', '1715943329', '1590219412', 'cc0c594499c1634947d5b502f158ee518947db27'],
    ['S5', 'test', '1410685589', 'test', 'f21891de399b4e33a1a93c9a7b8a8fffb5a443ff'],
    ['S6', 'a', 'b', 'c', 'a9993e364706816aba3e25717850c26c9cd0d89d'],
    // S7 sorts and joins only two strings; an empty third string sorts first and adds nothing.
    ['S7', '123', '345', '', '9f537aeb751ec72605f57f94a2f6dc3e3958e1dd'],
  ])('when %s is signed, then the signature is the published one', (_id, token, timestamp, nonce, expected) => {
    expect(wechatSignature(token, timestamp, nonce)).toBe(expected);
  });

  it('when the S5 signature has its last hex digit changed to e, then it does not match', () => {
    const actual = wechatSignature('test', '1410685589', 'test');
    expect(signatureMatches('f21891de399b4e33a1a93c9a7b8a8fffb5a443fe', actual)).toBe(false);
    expect(signatureMatches('f21891de399b4e33a1a93c9a7b8a8fffb5a443ff', actual)).toBe(true);
  });
});

describe('wechatSignature, 4 fields = msg_signature (reference §6.2)', () => {
  it.each([
    ['M1', 'RMNlACHlV5ThzfRlVS4D4', 'timestamp', 'nonce', 'encrypt', '8edac0945683c119ee71c9f6256d76c48aa08a96'],
    ['M2', E1.token, E1.timestamp, E1.nonce, E1.encrypt, E1.msgSignature],
    ['M3', E1.token, E1.reply.timestamp, E1.reply.nonce, E1.reply.encrypt, E1.reply.msgSignature],
    ['M4', E2.token, E2.timestamp, E2.nonce, E2.encrypt, E2.msgSignature],
    ['M5', E2.token, E2.reply.timestamp, E2.reply.nonce, E2.reply.encrypt, E2.reply.msgSignature],
    ['M6', E3.token, E3.timestamp, E3.nonce, E3.encrypt, E3.msgSignature],
    ['M7', E4.token, E4.timestamp, E4.nonce, E4.encrypt, E4.msgSignature],
    ['M8', E6.token, E6.timestamp, E6.nonce, E6.encrypt, E6.msgSignature],
    ['E7 verify', E7.token, E7.verify.timestamp, E7.verify.nonce, E7.verify.echostr, E7.verify.msgSignature],
    ['E7 message', E7.token, E7.message.timestamp, E7.message.nonce, E7.message.encrypt, E7.message.msgSignature],
    ['E8 check', E8.token, E8.check.timestamp, E8.check.nonce, E8.check.echostr, E8.check.signature],
    ['E8 reply', E8.token, E8.encrypt.timestamp, E8.encrypt.nonce, E8.encrypt.encrypt, E8.encrypt.msgSignature],
    ['E8 inbound', E8.token, E8.decrypt.timestamp, E8.decrypt.nonce, E8.decrypt.encrypt, E8.decrypt.signature],
  ])('when %s is signed, then the msg_signature is the published one', (_id, token, timestamp, nonce, encrypt, expected) => {
    expect(wechatSignature(token, timestamp, nonce, encrypt)).toBe(expected);
  });

  it('when a secure-mode request is checked with the 3-field signature, then that signature does not cover the body', () => {
    // S3: the URL of the E1 request still carries a valid 3-field signature, which is not the msg_signature.
    expect(wechatSignature(E1.token, E1.timestamp, E1.nonce)).toBe(E1.signature);
    expect(E1.signature).not.toBe(E1.msgSignature);
  });
});

describe('signatureMatches', () => {
  const good = wechatSignature('AAAAA', '1714036504', '1514711492');
  it.each([
    ['undefined', undefined],
    ['a number', 42],
    ['an array of strings (repeated query parameter)', [good, good]],
    ['an empty string', ''],
    ['a shorter string', good.slice(0, 39)],
    ['a longer string', `${good}0`],
    ['the same hex in upper case', good.toUpperCase()],
  ])('when the request holds %s, then it does not match', (_what, value) => {
    expect(signatureMatches(value, good)).toBe(false);
  });

  it('when the request holds the exact signature, then it matches', () => {
    expect(signatureMatches('f464b24fc39322e44b38aa78f5edd27bd1441696', good)).toBe(true);
  });
});

describe('verifyQuerySignature', () => {
  it('when the S1 URL-check query is given, then it verifies', () => {
    const query = { signature: 'f464b24fc39322e44b38aa78f5edd27bd1441696', timestamp: '1714036504', nonce: '1514711492', echostr: '4375120948345356249' };
    expect(verifyQuerySignature('AAAAA', query)).toBe(true);
  });

  it('when the token is different, then it fails', () => {
    expect(verifyQuerySignature('AAAAB', { signature: 'f464b24fc39322e44b38aa78f5edd27bd1441696', timestamp: '1714036504', nonce: '1514711492' })).toBe(false);
  });

  it('when timestamp or nonce is missing, then it fails', () => {
    expect(verifyQuerySignature('AAAAA', { signature: 'f464b24fc39322e44b38aa78f5edd27bd1441696', timestamp: '1714036504' })).toBe(false);
    expect(verifyQuerySignature('AAAAA', { signature: 'f464b24fc39322e44b38aa78f5edd27bd1441696', nonce: '1514711492' })).toBe(false);
  });
});
