import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  MAX_INBOUND_XML_BYTES,
  buildEncryptedReply,
  buildImageReply,
  buildTextReply,
  dedupeKeyOf,
  parseEncryptedEnvelope,
  parseInboundXml,
  parseXmlRoot,
  toUserInput,
  type OaInbound,
} from '../../../src/channels/wechat/xml.js';
import { AppError, InputError, PayloadTooLargeError } from '../../../src/errors.js';
import { E2, E3 } from './vectors.js';

const TEXT_EXAMPLE =
  '<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName><FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName><CreateTime>1409735668</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[abcdteT]]></Content><MsgId>6054768590064713728</MsgId></xml>';
const SCAN_SUBSCRIBE_EXAMPLE =
  '<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[FromUser]]></FromUserName><CreateTime>123456789</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event><EventKey><![CDATA[qrscene_123123]]></EventKey><Ticket><![CDATA[TICKET]]></Ticket></xml>';

function badXml(fn: () => unknown): InputError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).code).toBe('WECHAT_BAD_XML');
    return err as InputError;
  }
  throw new Error('expected WECHAT_BAD_XML');
}

function msg(fields: Partial<OaInbound> & { msgType: string }): OaInbound {
  return { toUser: 'gh_x', fromUser: 'o-user_1', createTime: 1700000000, ...fields };
}

describe('parseInboundXml', () => {
  it('when the reference text example arrives, then every field is typed and MsgId is the exact 64-bit string', () => {
    expect(parseInboundXml(TEXT_EXAMPLE)).toEqual({
      toUser: 'gh_10f6c3c3ac5a',
      fromUser: 'oyORnuP8q7ou2gfYjqLzSIWZf0rs',
      createTime: 1409735668,
      msgType: 'text',
      msgId: '6054768590064713728',
      content: 'abcdteT',
    });
    expect(BigInt('6054768590064713728') > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
  });

  it('when MsgId is 18446744073709551615 (largest uint64), then it is kept digit for digit', () => {
    expect(parseInboundXml(TEXT_EXAMPLE.replace('6054768590064713728', '18446744073709551615')).msgId).toBe('18446744073709551615');
  });

  it('when the decrypted E3 message (newlines between elements) is parsed, then it reads like the plaintext one', () => {
    expect(parseInboundXml(E3.msg)).toMatchObject({ toUser: 'gh_10f6c3c3ac5a', msgType: 'text', content: 'abcdteT', msgId: '6054768590064713728' });
  });

  it('when the decrypted E2 event is parsed, then unknown elements are ignored', () => {
    expect(parseInboundXml(E2.msg)).toEqual({
      toUser: 'gh_97417a04a28d',
      fromUser: 'o9AgO5Kd5ggOC-bXrbNODIiE3bGY',
      createTime: 1715943329,
      msgType: 'event',
      event: 'debug_demo',
    });
  });

  it('when the scan-subscribe example arrives, then event, eventKey and ticket are read', () => {
    expect(parseInboundXml(SCAN_SUBSCRIBE_EXAMPLE)).toMatchObject({ msgType: 'event', event: 'subscribe', eventKey: 'qrscene_123123', ticket: 'TICKET' });
  });

  it('when text looks like a number with leading zeros or a phone, then it stays text', () => {
    const body = TEXT_EXAMPLE.replace('abcdteT', '013800138000');
    expect(parseInboundXml(body).content).toBe('013800138000');
    expect(parseInboundXml(TEXT_EXAMPLE.replace('<![CDATA[abcdteT]]>', '1e5')).content).toBe('1e5');
  });

  it('when CDATA content has surrounding spaces, newlines, < & and entity-looking text, then it is taken verbatim', () => {
    const content = '  第一行\n<b>&amp; &lt; </b>  ';
    expect(parseInboundXml(TEXT_EXAMPLE.replace('abcdteT', content)).content).toBe(content);
  });

  it('when text outside CDATA holds the predefined escapes and character references, then they are decoded', () => {
    expect(parseInboundXml(TEXT_EXAMPLE.replace('<![CDATA[abcdteT]]>', 'a &amp; b &lt;c&gt; &#20013;&#x6587; &quot;&apos;')).content).toBe('a & b <c> 中文 "\'');
  });

  it('when TEMPLATESENDJOBFINISH carries MsgID (capital D), then it lands in msgId', () => {
    const body =
      '<xml><ToUserName><![CDATA[gh_x]]></ToUserName><FromUserName><![CDATA[o1]]></FromUserName><CreateTime>1395658920</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[TEMPLATESENDJOBFINISH]]></Event><MsgID>200163836</MsgID><Status><![CDATA[failed: system failed]]></Status></xml>';
    expect(parseInboundXml(body)).toMatchObject({ msgId: '200163836', status: 'failed: system failed' });
  });

  it('when a voice message arrives, then recognition, mediaId and format are read', () => {
    const body =
      '<xml><ToUserName><![CDATA[gh_x]]></ToUserName><FromUserName><![CDATA[o1]]></FromUserName><CreateTime>1</CreateTime><MsgType><![CDATA[voice]]></MsgType><MediaId><![CDATA[m1]]></MediaId><Format><![CDATA[amr]]></Format><Recognition><![CDATA[辽A12345]]></Recognition><MsgId>1234567890123456789</MsgId></xml>';
    expect(parseInboundXml(body)).toMatchObject({ msgType: 'voice', mediaId: 'm1', format: 'amr', recognition: '辽A12345', msgId: '1234567890123456789' });
  });

  it('when an empty EventKey arrives (plain follow), then it is an empty string', () => {
    const body = SCAN_SUBSCRIBE_EXAMPLE.replace('qrscene_123123', '');
    expect(parseInboundXml(body).eventKey).toBe('');
  });
});

describe('parseInboundXml rejects bad input with WECHAT_BAD_XML', () => {
  it('when a DOCTYPE is present, then it is rejected before parsing', () => {
    const err = badXml(() => parseInboundXml(`<?xml version="1.0"?>\n<!DOCTYPE xml [<!ENTITY x "y">]>${TEXT_EXAMPLE}`));
    expect(err.message).toBe('body: DOCTYPE at line 2 is not allowed');
  });

  it('when a billion-laughs entity bomb arrives, then it is rejected without expansion', () => {
    const bomb = [
      '<?xml version="1.0"?>',
      '<!DOCTYPE lolz [',
      ' <!ENTITY lol "lol">',
      ...Array.from({ length: 9 }, (_, i) => ` <!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`),
      ']>',
      '<xml><ToUserName>&lol9;</ToUserName></xml>',
    ].join('\n');
    const started = Date.now();
    badXml(() => parseInboundXml(bomb));
    expect(Date.now() - started).toBeLessThan(200);
  });

  it('when an external entity (XXE) is declared in lower case, then it is rejected', () => {
    const err = badXml(() => parseInboundXml('<!doctype xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><xml><Content>&x;</Content></xml>'));
    expect(err.message).toBe('body: DOCTYPE at line 1 is not allowed');
  });

  it('when an undeclared entity is referenced, then it is not expanded (kept as text)', () => {
    expect(parseInboundXml(TEXT_EXAMPLE.replace('<![CDATA[abcdteT]]>', '&x;')).content).toBe('&x;');
  });

  it('when a user sends the text "<!DOCTYPE html>" inside CDATA, then it is accepted as text', () => {
    expect(parseInboundXml(TEXT_EXAMPLE.replace('abcdteT', '<!DOCTYPE html><!ENTITY a "b">')).content).toBe('<!DOCTYPE html><!ENTITY a "b">');
  });

  it.each([
    ['an empty body', '', 'body: expected an <xml> document, got an empty body'],
    ['plain text', 'hello', 'body: malformed XML at line 1, column 1: char \'h\' is not expected.'],
    ['JSON', '{"a":1}', 'body: malformed XML at line 1, column 1: char \'{\' is not expected.'],
    ['an unclosed element', '<xml><Content>a</xml>', "body: malformed XML at line 1, column 16: Expected closing tag 'Content' (opened in line 1, col 6) instead of closing tag 'xml'."],
    ['a wrong root', '<root><a>1</a></root>', 'body: expected exactly one <xml> root element, got <root>'],
    ['two roots', '<xml><a>1</a></xml><xml><a>2</a></xml>', 'body: malformed XML at line 1, column 24: Multiple possible root nodes found.'],
    ['an empty root', '<xml></xml>', 'body: the <xml> root element has no child elements'],
  ])('when the body is %s, then the message says what is wrong', (_what, body, message) => {
    expect(badXml(() => parseInboundXml(body)).message).toBe(message);
  });

  it('when required fields are missing or wrong, then each one is named', () => {
    const err = badXml(() => parseInboundXml('<xml><ToUserName><![CDATA[gh]]></ToUserName><CreateTime>12:00</CreateTime><MsgType><![CDATA[text]]></MsgType></xml>'));
    expect(err.message).toBe('FromUserName: required element is missing; CreateTime: expected integer Unix seconds');
    expect(err.details?.['issues']).toEqual([
      { path: 'FromUserName', message: 'required element is missing' },
      { path: 'CreateTime', message: 'expected integer Unix seconds' },
    ]);
  });

  it('when a text message has no Content, then Content is named', () => {
    expect(badXml(() => parseInboundXml(TEXT_EXAMPLE.replace('<Content><![CDATA[abcdteT]]></Content>', ''))).message).toBe(
      'Content: required element is missing (MsgType is text)',
    );
  });

  it('when an event has no Event, then Event is named', () => {
    expect(badXml(() => parseInboundXml(SCAN_SUBSCRIBE_EXAMPLE.replace('<Event><![CDATA[subscribe]]></Event>', ''))).message).toBe(
      'Event: required element is missing (MsgType is event)',
    );
  });

  it('when MsgId is not decimal or a field is repeated or nested, then the field is named', () => {
    expect(badXml(() => parseInboundXml(TEXT_EXAMPLE.replace('6054768590064713728', '6.05e18'))).message).toBe('MsgId: expected a decimal message id');
    expect(badXml(() => parseInboundXml(TEXT_EXAMPLE.replace('</xml>', '<Content>b</Content></xml>'))).message).toBe(
      'Content: expected text, got a repeated element (2 times)',
    );
    expect(badXml(() => parseInboundXml(TEXT_EXAMPLE.replace('<![CDATA[abcdteT]]>', '<b>x</b>'))).message).toBe('Content: expected text, got nested elements');
  });

  it('when a tag name would pollute prototypes, then it is rejected as bad XML', () => {
    badXml(() => parseInboundXml('<xml><__proto__>x</__proto__></xml>'));
  });

  it('when the body is larger than the limit, then PayloadTooLargeError WECHAT_XML_TOO_LARGE', () => {
    const body = TEXT_EXAMPLE.replace('abcdteT', 'x'.repeat(MAX_INBOUND_XML_BYTES));
    expect(() => parseInboundXml(body)).toThrow(PayloadTooLargeError);
  });

  it('when a safe-mode envelope is parsed as a message, then the missing fields are named', () => {
    expect(badXml(() => parseInboundXml('<xml><ToUserName><![CDATA[gh]]></ToUserName><Encrypt><![CDATA[abc]]></Encrypt></xml>')).message).toMatch(
      /^FromUserName: required element is missing; CreateTime: required element is missing; MsgType: required element is missing/,
    );
  });
});

describe('parseEncryptedEnvelope', () => {
  it('when a safe-mode body arrives, then ToUserName and Encrypt are returned', () => {
    expect(parseEncryptedEnvelope(`<xml><ToUserName><![CDATA[gh_97417a04a28d]]></ToUserName><Encrypt><![CDATA[${E2.encrypt}]]></Encrypt></xml>`)).toEqual({
      toUser: 'gh_97417a04a28d',
      encrypt: E2.encrypt,
    });
  });

  it('when a compatible-mode body (plaintext fields + Encrypt) arrives, then Encrypt is returned', () => {
    const body = TEXT_EXAMPLE.replace('</xml>', `<Encrypt><![CDATA[${E3.encrypt}]]></Encrypt></xml>`);
    expect(parseEncryptedEnvelope(body).encrypt).toBe(E3.encrypt);
  });

  it('when Encrypt is missing or empty, then Encrypt is named', () => {
    expect(badXml(() => parseEncryptedEnvelope('<xml><ToUserName>gh</ToUserName></xml>')).message).toBe('Encrypt: required element is missing');
    expect(badXml(() => parseEncryptedEnvelope('<xml><Encrypt><![CDATA[]]></Encrypt></xml>')).message).toBe('Encrypt: expected base64 text, got an empty element');
  });
});

describe('reply builders', () => {
  it('when a text reply is built, then it has the documented shape with CDATA strings and a bare CreateTime', () => {
    expect(buildTextReply({ toUser: 'OPENID', fromUser: 'gh_xxx', createTime: 12345678, content: '你好' })).toBe(
      '<xml><ToUserName><![CDATA[OPENID]]></ToUserName><FromUserName><![CDATA[gh_xxx]]></FromUserName><CreateTime>12345678</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[你好]]></Content></xml>',
    );
  });

  it.each([
    ['"]]>" in the middle', 'a]]>b'],
    ['"]]>" at both ends', ']]>x]]>'],
    ['"]]]]>" and "<![CDATA[" inside', '<![CDATA[ x ]]]]> y'],
    ['markup, entities and newlines', '<a href="weixin://bizmsgmenu?msgmenucontent=确认&msgmenuid=1">确认</a>\n&amp;'],
  ])('when content holds %s, then it round-trips through parseInboundXml unchanged', (_what, content) => {
    const xml = buildTextReply({ toUser: 'o1', fromUser: 'gh_x', createTime: 1, content });
    const parsed = parseXmlRoot(xml);
    expect(parsed['Content']).toBe(content);
    expect(parsed['MsgType']).toBe('text');
    // The reply also parses as an inbound text (the same shape minus MsgId).
    expect(parseInboundXml(xml).content).toBe(content);
  });

  it('when content holds characters XML cannot carry (NUL, lone surrogate), then they are dropped and the reply stays well-formed', () => {
    const xml = buildTextReply({ toUser: 'o1', fromUser: 'gh_x', createTime: 1, content: 'a\u0000b\u0007c\uD800d😀' });
    expect(parseXmlRoot(xml)['Content']).toBe('abcd😀');
  });

  it('when an image reply is built, then MediaId sits inside Image', () => {
    const xml = buildImageReply({ toUser: 'o1', fromUser: 'gh_x', createTime: 2, mediaId: 'MEDIA_ID' });
    expect(xml).toBe(
      '<xml><ToUserName><![CDATA[o1]]></ToUserName><FromUserName><![CDATA[gh_x]]></FromUserName><CreateTime>2</CreateTime><MsgType><![CDATA[image]]></MsgType><Image><MediaId><![CDATA[MEDIA_ID]]></MediaId></Image></xml>',
    );
  });

  it('when an encrypted reply envelope is built, then it has the four documented elements', () => {
    expect(buildEncryptedReply({ encrypt: 'ENC', signature: 'SIG', timestamp: 1713424427, nonce: '415670741' })).toBe(
      '<xml><Encrypt><![CDATA[ENC]]></Encrypt><MsgSignature><![CDATA[SIG]]></MsgSignature><TimeStamp>1713424427</TimeStamp><Nonce><![CDATA[415670741]]></Nonce></xml>',
    );
  });

  it('when createTime is not integer seconds, then the builder refuses', () => {
    expect(() => buildTextReply({ toUser: 'o1', fromUser: 'gh', createTime: 1.5, content: 'x' })).toThrow(AppError);
  });
});

describe('toUserInput', () => {
  it.each<[string, OaInbound, ReturnType<typeof toUserInput>]>([
    ['a text', msg({ msgType: 'text', content: '辽A12345', msgId: '1' }), { type: 'text', text: '辽A12345' }],
    ['a voice with recognition', msg({ msgType: 'voice', recognition: ' 123456。 ', msgId: '1' }), { type: 'text', text: '123456。' }],
    ['a voice without recognition', msg({ msgType: 'voice', recognition: '', msgId: '1' }), { type: 'unsupported', what: 'voice' }],
    ['a subscribe from a trip QR', msg({ msgType: 'event', event: 'subscribe', eventKey: 'qrscene_trip-42' }), { type: 'scan', scene: 'trip-42' }],
    ['a SCAN by a follower', msg({ msgType: 'event', event: 'SCAN', eventKey: 'trip-42' }), { type: 'scan', scene: 'trip-42' }],
    ['a plain subscribe', msg({ msgType: 'event', event: 'subscribe' }), { type: 'follow' }],
    ['a subscribe with an empty EventKey', msg({ msgType: 'event', event: 'subscribe', eventKey: '' }), { type: 'follow' }],
    ['a subscribe with a bare "qrscene_"', msg({ msgType: 'event', event: 'subscribe', eventKey: 'qrscene_' }), { type: 'follow' }],
    ['an image', msg({ msgType: 'image', msgId: '1' }), { type: 'unsupported', what: 'image' }],
    ['a location', msg({ msgType: 'location', msgId: '1' }), { type: 'unsupported', what: 'location' }],
    ['a menu CLICK', msg({ msgType: 'event', event: 'CLICK', eventKey: 'help' }), { type: 'unsupported', what: 'event.CLICK' }],
    ['an unsubscribe', msg({ msgType: 'event', event: 'unsubscribe' }), null],
    ['a LOCATION report', msg({ msgType: 'event', event: 'LOCATION' }), null],
    ['a VIEW', msg({ msgType: 'event', event: 'VIEW', eventKey: 'https://x' }), null],
    ['a TEMPLATESENDJOBFINISH', msg({ msgType: 'event', event: 'TEMPLATESENDJOBFINISH', msgId: '2' }), null],
  ])('when %s arrives, then the input is as expected', (_what, inbound, expected) => {
    expect(toUserInput(inbound)).toEqual(expected);
  });

  it('when the reference scan-subscribe example is parsed and mapped, then the scene is 123123', () => {
    expect(toUserInput(parseInboundXml(SCAN_SUBSCRIBE_EXAMPLE))).toEqual({ type: 'scan', scene: '123123' });
  });
});

describe('dedupeKeyOf', () => {
  const sender = (openid: string) => createHash('sha256').update(openid).digest('hex').slice(0, 32);

  it('when a message arrives, then the key is wx-<MsgId>-<digest of FromUserName>', () => {
    expect(dedupeKeyOf(parseInboundXml(TEXT_EXAMPLE))).toBe(`wx-6054768590064713728-${sender('oyORnuP8q7ou2gfYjqLzSIWZf0rs')}`);
  });

  it('when a key is built, then it never holds the OpenID itself (keys go into logs, Redis and job ids)', () => {
    const openid = 'oyORnuP8q7ou2gfYjqLzSIWZf0rs';
    expect(dedupeKeyOf(msg({ msgType: 'text', msgId: '42', fromUser: openid }))).not.toContain(openid);
    expect(dedupeKeyOf(msg({ msgType: 'event', event: 'SCAN', fromUser: openid }))).not.toContain(openid);
  });

  it('when two users send the same MsgId, then their keys differ', () => {
    const a = msg({ msgType: 'text', msgId: '42', fromUser: 'oA' });
    const b = msg({ msgType: 'text', msgId: '42', fromUser: 'oB' });
    expect(dedupeKeyOf(a)).not.toBe(dedupeKeyOf(b));
  });

  it('when an event arrives, then the key is wxev-<digest of FromUserName>-<CreateTime>-<Event>-<EventKey>', () => {
    expect(dedupeKeyOf(parseInboundXml(SCAN_SUBSCRIBE_EXAMPLE))).toBe(`wxev-${sender('FromUser')}-123456789-subscribe-qrscene_123123`);
  });

  it('when two different QR codes are scanned in the same second, then their keys differ', () => {
    const a = msg({ msgType: 'event', event: 'SCAN', eventKey: 'trip-111111', fromUser: 'u', createTime: 5 });
    const b = msg({ msgType: 'event', event: 'SCAN', eventKey: 'trip-222222', fromUser: 'u', createTime: 5 });
    expect(dedupeKeyOf(a)).not.toBe(dedupeKeyOf(b));
  });

  it('when any field holds ":" (or other odd characters), then the key holds no ":" and is never all digits', () => {
    for (const m of [
      msg({ msgType: 'text', msgId: '1', fromUser: 'a:b' }),
      msg({ msgType: 'event', event: 'x:y', fromUser: 'a:b' }),
      msg({ msgType: 'event', event: 'a-b', fromUser: '1' }),
      msg({ msgType: 'text', fromUser: '1' }),
    ]) {
      const key = dedupeKeyOf(m);
      expect(key).not.toContain(':');
      expect(key).not.toMatch(/^\d+$/);
    }
  });

  it('when "-" appears in the event, then keys for different deliveries cannot collide', () => {
    const a = dedupeKeyOf(msg({ msgType: 'event', fromUser: 'a', createTime: 1, event: '2-x' }));
    const b = dedupeKeyOf(msg({ msgType: 'event', fromUser: 'a-1', createTime: 2, event: 'x' }));
    expect(a).not.toBe(b);
  });
});
