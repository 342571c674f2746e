/**
 * Fuzz inputs for the webhooks (shared by test/fuzz/webhook-fuzz.test.ts and `npm run faults`): a fixed corpus of
 * known-nasty requests plus fast-check arbitraries for random ones. Every input says whether a correct service
 * may answer it with a 2xx (a validly signed, well-formed message) — nothing else may ever store a row.
 *
 * Classes: malformed XML, entity-expansion bombs, DOCTYPE / external entities, 10 MB bodies, wrong content types,
 * invalid UTF-8, signature edge cases (missing, uppercase hex, wrong length, repeated parameters, empty), safe mode
 * with forged or garbage `Encrypt`, and validly signed messages whose fields hold random values.
 */
import fc from 'fast-check';
import { wechatSignature } from '../../src/channels/wechat/signature.js';
import { createWechatCrypto } from '../../src/channels/wechat/wechat-crypto.js';

export interface FuzzRequest {
  /** What the input exercises (for reports). */
  kind: string;
  method: 'POST' | 'GET';
  /** Path with the raw query string (repeated parameters kept as sent). */
  url: string;
  headers: Record<string, string>;
  body: Buffer;
  /** True only for validly signed, well-formed messages: the one class that may change conversation state. */
  signedAndWellFormed: boolean;
}

export interface FuzzKeys { token: string; aesKey: string; appId: string }

const enc = (s: string) => Buffer.from(s, 'utf8');

function qs(params: [string, string][]): string {
  return params.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
}

function signedQuery(keys: FuzzKeys, timestamp = String(Math.floor(Date.now() / 1000)), nonce = '12345678'): [string, string][] {
  return [['signature', wechatSignature(keys.token, timestamp, nonce)], ['timestamp', timestamp], ['nonce', nonce], ['openid', 'ofuzz']];
}

const cdata = (s: string) => `<![CDATA[${s.replaceAll(']]>', ']]]]><![CDATA[>')}]]>`;

function textXml(fields: Record<string, string>): string {
  return `<xml>${Object.entries(fields).map(([k, v]) => `<${k}>${cdata(v)}</${k}>`).join('')}</xml>`;
}

const BILLION_LAUGHS = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<xml><ToUserName>gh_x</ToUserName><FromUserName>ofuzz</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>&lol9;</Content><MsgId>1</MsgId></xml>`;

const XXE = `<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><ToUserName>gh_x</ToUserName><FromUserName>ofuzz</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>&xxe;</Content><MsgId>2</MsgId></xml>`;
const QUADRATIC = `<!DOCTYPE x [<!ENTITY a "${'A'.repeat(20_000)}">]><xml><Content>${'&a;'.repeat(2000)}</Content></xml>`;

/** Hand-written nasty requests; each appears once per run. */
export function corpus(keys: FuzzKeys): FuzzRequest[] {
  const signed = qs(signedQuery(keys));
  const valid = textXml({ ToUserName: 'gh_fuzz', FromUserName: 'ofuzzcorpus', CreateTime: '1700000000', MsgType: 'text', Content: 'hello', MsgId: '6000000000000000001' });
  const ts = String(Math.floor(Date.now() / 1000));
  const sig = wechatSignature(keys.token, ts, 'n1');
  const xml = (kind: string, body: string | Buffer, query = signed, contentType = 'text/xml'): FuzzRequest => ({
    kind, method: 'POST', url: `/wechat?${query}`, headers: contentType ? { 'content-type': contentType } : {}, body: typeof body === 'string' ? enc(body) : body, signedAndWellFormed: false,
  });
  const crypto = createWechatCrypto(keys.aesKey, keys.appId);
  const encryptedGarbage = crypto.encrypt('<xml><not closed>');
  const safeQuery = (encrypt: string, msgSig?: string) => qs([['timestamp', ts], ['nonce', 'n1'], ['encrypt_type', 'aes'], ['msg_signature', msgSig ?? wechatSignature(keys.token, ts, 'n1', encrypt)], ['signature', sig]]);
  const tenMb = Buffer.alloc(10 * 1024 * 1024, 0x41);
  return [
    xml('billion-laughs', BILLION_LAUGHS),
    xml('xxe', XXE),
    xml('quadratic-blowup', QUADRATIC),
    xml('doctype-lowercase', `<!doctype xml><xml><Content>x</Content></xml>`),
    xml('doctype-in-comment-trick', `<!-- --><!DOCTYPE x [<!ENTITY a "b">]><xml/>`),
    xml('cdata-unterminated', '<xml><Content><![CDATA[abc</Content></xml>'),
    xml('deep-nesting', `${'<a>'.repeat(10_000)}${'</a>'.repeat(10_000)}`),
    xml('many-siblings', `<xml>${'<Content>x</Content>'.repeat(5000)}</xml>`),
    xml('two-roots', '<xml></xml><xml></xml>'),
    xml('not-xml', '{"ToUserName":"x"}'),
    xml('empty', ''),
    xml('whitespace', '   \n\t '),
    xml('ten-megabytes', tenMb),
    xml('ten-megabytes-json', tenMb, signed, 'application/json'),
    xml('ten-megabytes-octet', tenMb, signed, 'application/octet-stream'),
    xml('invalid-utf8', Buffer.concat([enc('<xml><Content>'), Buffer.from([0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1, 0xf0, 0x28, 0x8c, 0xbc, 0xff, 0xfe]), enc('</Content></xml>')])),
    xml('bom-utf16', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('<xml></xml>', 'utf16le')])),
    xml('nul-bytes', Buffer.from([0x3c, 0x78, 0x6d, 0x6c, 0x3e, 0x00, 0x00, 0x3c, 0x2f, 0x78, 0x6d, 0x6c, 0x3e])),
    xml('json-content-type', valid, signed, 'application/json'),
    xml('form-content-type', valid, signed, 'application/x-www-form-urlencoded'),
    xml('multipart', valid, signed, 'multipart/form-data; boundary=x'),
    xml('no-content-type', valid, signed, ''),
    xml('html-content-type', valid, signed, 'text/html'),
    // WeChat always sends UTF-8; a signed, well-formed body is taken as UTF-8 whatever charset the header names.
    { ...xml('charset-gbk', valid, signed, 'text/xml; charset=gbk'), signedAndWellFormed: true },
    xml('no-signature', valid, qs([['timestamp', ts], ['nonce', 'n1']])),
    xml('uppercase-signature', valid, qs([['signature', sig.toUpperCase()], ['timestamp', ts], ['nonce', 'n1']])),
    xml('short-signature', valid, qs([['signature', sig.slice(0, 39)], ['timestamp', ts], ['nonce', 'n1']])),
    xml('long-signature', valid, qs([['signature', `${sig}0`], ['timestamp', ts], ['nonce', 'n1']])),
    xml('empty-signature', valid, qs([['signature', ''], ['timestamp', ts], ['nonce', 'n1']])),
    xml('repeated-signature', valid, `${qs([['signature', sig], ['signature', sig], ['timestamp', ts], ['nonce', 'n1']])}`),
    xml('repeated-timestamp', valid, `${qs([['signature', sig], ['timestamp', ts], ['timestamp', ts], ['nonce', 'n1']])}`),
    xml('bracket-array-signature', valid, `signature[]=${sig}&timestamp=${ts}&nonce=n1`),
    xml('signature-of-other-token', valid, qs([['signature', wechatSignature(`${keys.token}x`, ts, 'n1')], ['timestamp', ts], ['nonce', 'n1']])),
    xml('safe-mode-forged-msg-signature', `<xml><Encrypt>${cdata(encryptedGarbage)}</Encrypt></xml>`, safeQuery(encryptedGarbage, sig)),
    xml('safe-mode-signed-garbage-plaintext', `<xml><Encrypt>${cdata(encryptedGarbage)}</Encrypt></xml>`, safeQuery(encryptedGarbage)),
    xml('safe-mode-not-base64', '<xml><Encrypt>!!!not base64!!!</Encrypt></xml>', safeQuery('!!!not base64!!!')),
    xml('safe-mode-short-ciphertext', '<xml><Encrypt>QUJDRA==</Encrypt></xml>', safeQuery('QUJDRA==')),
    xml('safe-mode-empty-encrypt', '<xml><Encrypt></Encrypt></xml>', safeQuery('')),
    xml('signed-missing-fields', '<xml><MsgType>text</MsgType></xml>'),
    xml('signed-array-field', '<xml><ToUserName>a</ToUserName><ToUserName>b</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>x</Content></xml>'),
    xml('signed-nested-field', '<xml><ToUserName><a>1</a></ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>x</Content></xml>'),
    xml('signed-huge-msgid', textXml({ ToUserName: 'gh', FromUserName: 'o', CreateTime: '1', MsgType: 'text', Content: 'x', MsgId: '9'.repeat(400) })),
    xml('signed-negative-createtime', textXml({ ToUserName: 'gh', FromUserName: 'o', CreateTime: '-1', MsgType: 'text', Content: 'x', MsgId: '1' })),
    { kind: 'get-no-echostr', method: 'GET', url: `/wechat?${signed}`, headers: {}, body: Buffer.alloc(0), signedAndWellFormed: false },
    { kind: 'get-bad-signature', method: 'GET', url: `/wechat?signature=0&timestamp=1&nonce=1&echostr=x`, headers: {}, body: Buffer.alloc(0), signedAndWellFormed: false },
  ];
}

const xmlish = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.array(fc.constantFrom('<xml>', '</xml>', '<', '>', '<![CDATA[', ']]>', '<!--', '-->', '&', '&amp;', '&#x0;', '&#1114112;', '<!DOCTYPE', '<!ENTITY', '"', "'", '=', '<?xml ?>', '<Content>', '</Content>', 'text', '\u0000', '\uFFFE', '\uD800'), { maxLength: 60 }).map((a) => a.join('')),
);

const FIELD_NAMES = ['ToUserName', 'FromUserName', 'CreateTime', 'MsgType', 'Content', 'MsgId', 'Event', 'EventKey', 'Encrypt', 'Recognition', 'Ticket'] as const;
const fieldValue = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom('text', 'event', 'voice', 'image', 'subscribe', 'SCAN', 'unsubscribe', 'qrscene_trip-000000', 'trip-123456', '辽A12345', '123456', '1', '0', '返回', 'English', '9'.repeat(25), '-1', ''),
  fc.bigInt({ min: 0n, max: 2n ** 70n }).map(String),
);

/** Random requests: the arbitrary behind the property runs (fast-check shrinks any failure to a small case). */
export function fuzzRequest(keys: FuzzKeys): fc.Arbitrary<FuzzRequest> {
  const ts = fc.oneof(fc.integer({ min: 0, max: 2 ** 31 }).map(String), fc.string({ maxLength: 12 }));
  const nonce = fc.oneof(fc.integer({ min: 0, max: 2 ** 31 }).map(String), fc.string({ maxLength: 12 }));
  const contentType = fc.constantFrom('text/xml', 'application/xml', 'text/plain', 'application/json', 'application/octet-stream', 'text/html', '', 'text/xml; charset=utf-8');

  const unsignedGarbage = fc.record({ body: fc.oneof(xmlish.map(enc), fc.uint8Array({ maxLength: 400 }).map((a) => Buffer.from(a))), ct: contentType, query: fc.array(fc.tuple(fc.constantFrom('signature', 'timestamp', 'nonce', 'encrypt_type', 'msg_signature', 'openid', 'echostr', 'x'), fc.string({ maxLength: 50 })), { maxLength: 6 }) })
    .map(({ body, ct, query }): FuzzRequest => ({ kind: 'unsigned-garbage', method: 'POST', url: `/wechat?${qs(query)}`, headers: ct ? { 'content-type': ct } : {}, body, signedAndWellFormed: false }));

  const signatureEdge = fc.record({ t: ts, n: nonce, mutate: fc.constantFrom('upper', 'truncate', 'extend', 'flip', 'repeat', 'missing', 'swap') })
    .map(({ t, n, mutate }): FuzzRequest => {
      const sig = wechatSignature(keys.token, t, n);
      const flipped = `${sig.slice(0, 10)}${sig[10] === 'a' ? 'b' : 'a'}${sig.slice(11)}`;
      const variants: Record<string, [string, string][]> = {
        upper: [['signature', sig.toUpperCase()], ['timestamp', t], ['nonce', n]],
        truncate: [['signature', sig.slice(0, 20)], ['timestamp', t], ['nonce', n]],
        extend: [['signature', `${sig}ff`], ['timestamp', t], ['nonce', n]],
        flip: [['signature', flipped], ['timestamp', t], ['nonce', n]],
        repeat: [['signature', sig], ['timestamp', t], ['timestamp', t], ['nonce', n]],
        missing: [['timestamp', t], ['nonce', n]],
        swap: [['signature', sig], ['timestamp', n], ['nonce', t]],
      };
      const body = textXml({ ToUserName: 'gh_fuzz', FromUserName: 'ofuzzsig', CreateTime: '1700000000', MsgType: 'text', Content: 'hi', MsgId: '1' });
      const query = variants[mutate] ?? [];
      // `swap` with equal timestamp and nonce is still a valid signature (the fields are sorted before hashing).
      return { kind: `signature-${mutate}`, method: 'POST', url: `/wechat?${qs(query)}`, headers: { 'content-type': 'text/xml' }, body: enc(body), signedAndWellFormed: mutate === 'swap' };
    });

  const signedMalformed = fc.record({ body: xmlish, ct: fc.constantFrom('text/xml', 'application/xml', 'text/plain') })
    .map(({ body, ct }): FuzzRequest => ({ kind: 'signed-malformed', method: 'POST', url: `/wechat?${qs(signedQuery(keys))}`, headers: { 'content-type': ct }, body: enc(body), signedAndWellFormed: false }));

  const signedRandomFields = fc.record({
    fields: fc.dictionary(fc.constantFrom(...FIELD_NAMES), fieldValue, { maxKeys: FIELD_NAMES.length }),
    safe: fc.boolean(),
  }).map(({ fields, safe }): FuzzRequest => {
    const inner = textXml(fields);
    const t = String(Math.floor(Date.now() / 1000));
    if (!safe) return { kind: 'signed-random-fields', method: 'POST', url: `/wechat?${qs(signedQuery(keys, t))}`, headers: { 'content-type': 'text/xml' }, body: enc(inner), signedAndWellFormed: true };
    const encrypt = createWechatCrypto(keys.aesKey, keys.appId).encrypt(inner);
    const query = qs([['timestamp', t], ['nonce', '777'], ['encrypt_type', 'aes'], ['msg_signature', wechatSignature(keys.token, t, '777', encrypt)]]);
    return { kind: 'safe-random-fields', method: 'POST', url: `/wechat?${query}`, headers: { 'content-type': 'text/xml' }, body: enc(`<xml><Encrypt>${cdata(encrypt)}</Encrypt></xml>`), signedAndWellFormed: true };
  });

  const safeForged = fc.record({ encrypt: fc.oneof(fc.base64String({ maxLength: 200 }), fc.string({ maxLength: 100 })), sig: fc.oneof(fc.string({ maxLength: 45 }), fc.constant('')), signIt: fc.boolean() })
    .map(({ encrypt, sig, signIt }): FuzzRequest => {
      const t = String(Math.floor(Date.now() / 1000));
      const query = qs([['timestamp', t], ['nonce', '9'], ['encrypt_type', 'aes'], ['msg_signature', signIt ? wechatSignature(keys.token, t, '9', encrypt) : sig]]);
      return { kind: 'safe-forged', method: 'POST', url: `/wechat?${query}`, headers: { 'content-type': 'text/xml' }, body: enc(`<xml><Encrypt>${cdata(encrypt)}</Encrypt></xml>`), signedAndWellFormed: false };
    });

  return fc.oneof(
    { arbitrary: unsignedGarbage, weight: 4 },
    { arbitrary: signatureEdge, weight: 2 },
    { arbitrary: signedMalformed, weight: 3 },
    { arbitrary: signedRandomFields, weight: 2 },
    { arbitrary: safeForged, weight: 2 },
  );
}

/** Statuses a webhook may answer: 2xx only to signed, well-formed input; never a 5xx (none is documented for bad input). */
export function acceptableStatus(req: FuzzRequest, status: number): boolean {
  if (status >= 500) return false;
  if (status >= 200 && status < 300) return req.signedAndWellFormed;
  return status >= 400;
}

/** The Alibaba SMS uplink push: wrong, missing or repeated tokens, and bodies that are not a valid batch. */
export function uplinkRequest(uplinkToken: string): fc.Arbitrary<FuzzRequest> {
  const token = fc.oneof(
    fc.constant<[string, string][]>([]),
    fc.string({ maxLength: 40 }).map((t): [string, string][] => [['token', t]]),
    fc.constant<[string, string][]>([['token', uplinkToken.toUpperCase() === uplinkToken ? `${uplinkToken}x` : uplinkToken.toUpperCase()]]),
    fc.constant<[string, string][]>([['token', uplinkToken], ['token', uplinkToken]]),
    fc.constant<[string, string][]>([['token', uplinkToken]]),
  );
  const body = fc.oneof(
    fc.json().map(enc),
    fc.string({ maxLength: 200 }).map(enc),
    fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
    fc.array(fc.record({ phone_number: fc.string({ maxLength: 20 }), content: fc.string({ maxLength: 80 }), sequence_id: fc.oneof(fc.string({ maxLength: 20 }), fc.integer()), send_time: fc.string({ maxLength: 25 }) }, { requiredKeys: [] }), { maxLength: 5 }).map((a) => enc(JSON.stringify(a))),
  );
  const contentType = fc.constantFrom('application/json', 'text/plain', 'application/xml', '', 'application/json; charset=utf-8');
  return fc.record({ token, body, contentType }).map(({ token: q, body: b, contentType: ct }): FuzzRequest => {
    const valid = q.length === 1 && q[0]?.[1] === uplinkToken;
    return {
      kind: valid ? 'uplink-random-body' : 'uplink-bad-token', method: 'POST', url: `/sms/aliyun/uplink?${qs(q)}`,
      headers: ct ? { 'content-type': ct } : {}, body: b,
      // With the right token a well-formed batch is answered 200 (its junk elements skipped); it never stores a passenger.
      signedAndWellFormed: valid,
    };
  });
}
