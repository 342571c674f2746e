import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wechatSignature } from '../../src/channels/wechat/signature.js';
import { startTestApp, TEST_TOKEN, WechatUser, nextMsgId, randomOpenid, type TestApp } from '../helpers/app.js';
import { signRequest, textXml } from '../helpers/wechat-client.js';

describe('the /wechat endpoint', () => {
  let t: TestApp;
  beforeAll(async () => { t = await startTestApp(); });
  afterAll(async () => { await t.close(); });

  async function sessionKeys(): Promise<string[]> {
    return t.services.redis.keys(`${t.env['REDIS_PREFIX']}:s:*`);
  }

  it('when WeChat verifies the URL with a valid signature, then the body is the echostr', async () => {
    const query = { signature: wechatSignature(TEST_TOKEN, '1409304348', 'xxxxxx'), timestamp: '1409304348', nonce: 'xxxxxx', echostr: '4375120948345356249' };
    const res = await t.app.inject({ method: 'GET', url: '/wechat', query });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('4375120948345356249');
  });

  it('when the URL check signature is wrong, then 401', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/wechat', query: { signature: 'a'.repeat(40), timestamp: '1', nonce: '2', echostr: '3' } });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ code: 'WECHAT_BAD_SIGNATURE' });
  });

  it('when a message is unsigned or wrongly signed, then 401 and no session is stored', async () => {
    const before = await sessionKeys();
    const body = textXml({ from: randomOpenid(), content: '辽A12345', msgId: nextMsgId() });
    const unsigned = await t.app.inject({ method: 'POST', url: '/wechat', headers: { 'content-type': 'text/xml' }, payload: body });
    const signed = signRequest({ token: 'another-token', body });
    const wrong = await t.app.inject({ method: 'POST', url: '/wechat', query: signed.query, headers: { 'content-type': 'text/xml' }, payload: body });
    expect([unsigned.statusCode, wrong.statusCode]).toEqual([401, 401]);
    expect(await sessionKeys()).toEqual(before);
  });

  it('when the body is not well-formed XML or declares a DOCTYPE, then 400 and nothing is stored', async () => {
    const before = await sessionKeys();
    for (const body of ['<xml><ToUserName>', '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><xml><Content>&a;</Content></xml>']) {
      const signed = signRequest({ token: TEST_TOKEN, body });
      const res = await t.app.inject({ method: 'POST', url: '/wechat', query: signed.query, headers: { 'content-type': 'text/xml' }, payload: body });
      expect(res.statusCode).toBe(400);
    }
    expect(await sessionKeys()).toEqual(before);
  });

  it('when the body is larger than the limit, then 413', async () => {
    const body = `<xml><Content><![CDATA[${'x'.repeat(200_000)}]]></Content></xml>`;
    const signed = signRequest({ token: TEST_TOKEN, body });
    const res = await t.app.inject({ method: 'POST', url: '/wechat', query: signed.query, headers: { 'content-type': 'text/xml' }, payload: body });
    expect(res.statusCode).toBe(413);
  });

  it('when the body is JSON, then 415', async () => {
    const signed = signRequest({ token: TEST_TOKEN, body: '{}' });
    const res = await t.app.inject({ method: 'POST', url: '/wechat', query: signed.query, headers: { 'content-type': 'application/json' }, payload: '{}' });
    expect(res.statusCode).toBe(415);
  });

  it('when a follow event is retried three times at once, then every delivery gets the same welcome', async () => {
    const user = new WechatUser(t.app);
    const createTime = Math.floor(Date.now() / 1000);
    const xml = `<xml><ToUserName><![CDATA[gh_x]]></ToUserName><FromUserName><![CDATA[${user.openid}]]></FromUserName><CreateTime>${createTime}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event></xml>`;
    const replies = await Promise.all([user.post(xml), user.post(xml), user.post(xml)]);
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(new Set(replies.map((r) => /<Content><!\[CDATA\[([\s\S]*?)\]\]>/.exec(r.body)?.[1])).size).toBe(1);
  });

  it('when a user sends an image, then the bot asks for text', async () => {
    const user = new WechatUser(t.app);
    const xml = `<xml><ToUserName><![CDATA[gh_x]]></ToUserName><FromUserName><![CDATA[${user.openid}]]></FromUserName><CreateTime>1</CreateTime><MsgType><![CDATA[image]]></MsgType><PicUrl><![CDATA[http://x/y.jpg]]></PicUrl><MediaId><![CDATA[m]]></MediaId><MsgId>${nextMsgId()}</MsgId></xml>`;
    const res = await user.post(xml);
    expect(res.body).toContain('文字');
  });
});
