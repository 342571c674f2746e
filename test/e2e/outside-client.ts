/**
 * Plays WeChat's servers and API clients from OUTSIDE the service: only node:crypto and fetch, no project code, so a
 * protocol slip on either side shows. Signs pushes like WeChat (plaintext mode: `signature`; safe mode: AES-256-CBC
 * with 32-byte PKCS#7 and `msg_signature`) and opens the passive reply (checking MsgSignature in safe mode).
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes, randomInt } from 'node:crypto';

const sha1 = (parts: string[]) => createHash('sha1').update([...parts].sort().join('')).digest('hex');
const cdata = (s: string) => `<![CDATA[${s}]]>`;

export interface OaSecrets { token: string; aesKey?: string; appId?: string }

function aesKeyBytes(encodingAesKey: string): Buffer { return Buffer.from(`${encodingAesKey}=`, 'base64'); }

export function encryptLikeWechat(xml: string, aesKey: string, appId: string): string {
  const key = aesKeyBytes(aesKey);
  const msg = Buffer.from(xml, 'utf8');
  const len = Buffer.alloc(4); len.writeUInt32BE(msg.length);
  const plain = Buffer.concat([randomBytes(16), len, msg, Buffer.from(appId, 'utf8')]);
  const pad = 32 - (plain.length % 32);
  const padded = Buffer.concat([plain, Buffer.alloc(pad, pad)]);
  const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(padded), cipher.final()]).toString('base64');
}

export function decryptLikeWechat(encrypted: string, aesKey: string, appId: string): string {
  const key = aesKeyBytes(aesKey);
  const decipher = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16));
  decipher.setAutoPadding(false);
  const padded = Buffer.concat([decipher.update(Buffer.from(encrypted, 'base64')), decipher.final()]);
  const pad = padded[padded.length - 1] ?? 0;
  if (pad < 1 || pad > 32) throw new Error(`bad PKCS#7 padding ${pad}`);
  const plain = padded.subarray(0, padded.length - pad);
  const len = plain.readUInt32BE(16);
  const msg = plain.subarray(20, 20 + len).toString('utf8');
  const tail = plain.subarray(20 + len).toString('utf8');
  if (tail !== appId) throw new Error(`appid mismatch: ${tail}`);
  return msg;
}

function field(xml: string, name: string): string | undefined {
  const m = new RegExp(`<${name}>(?:<!\\[CDATA\\[([\\s\\S]*?)\\]\\]>|([^<]*))</${name}>`).exec(xml);
  return m ? (m[1] ?? m[2]) : undefined;
}

export function textPush(from: string, content: string, msgId: string, createTime = Math.floor(Date.now() / 1000), to = 'gh_outside0001'): string {
  return `<xml><ToUserName>${cdata(to)}</ToUserName><FromUserName>${cdata(from)}</FromUserName><CreateTime>${createTime}</CreateTime><MsgType>${cdata('text')}</MsgType><Content>${cdata(content)}</Content><MsgId>${msgId}</MsgId></xml>`;
}

export function eventPush(from: string, event: string, eventKey: string | undefined, createTime: number, to = 'gh_outside0001'): string {
  const key = eventKey === undefined ? '' : `<EventKey>${cdata(eventKey)}</EventKey><Ticket>${cdata('gQOUTSIDE')}</Ticket>`;
  return `<xml><ToUserName>${cdata(to)}</ToUserName><FromUserName>${cdata(from)}</FromUserName><CreateTime>${createTime}</CreateTime><MsgType>${cdata('event')}</MsgType><Event>${cdata(event)}</Event>${key}</xml>`;
}

/** POSTs one push to `${base}/wechat` signed as WeChat does; returns the status and the opened reply text. */
export async function pushToService(base: string, secrets: OaSecrets, xml: string, mode: 'plain' | 'safe'): Promise<{ status: number; text: string; raw: string }> {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const nonce = String(randomInt(100_000_000, 2_000_000_000));
  const openid = field(xml, 'FromUserName') ?? '';
  const query = new URLSearchParams({ signature: sha1([secrets.token, timestamp, nonce]), timestamp, nonce, openid });
  let body = xml;
  if (mode === 'safe') {
    if (!secrets.aesKey || !secrets.appId) throw new Error('safe mode needs aesKey and appId');
    const encrypt = encryptLikeWechat(xml, secrets.aesKey, secrets.appId);
    query.set('encrypt_type', 'aes');
    query.set('msg_signature', sha1([secrets.token, timestamp, nonce, encrypt]));
    body = `<xml><ToUserName>${cdata(field(xml, 'ToUserName') ?? '')}</ToUserName><Encrypt>${cdata(encrypt)}</Encrypt></xml>`;
  }
  const res = await fetch(`${base}/wechat?${query.toString()}`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body });
  const raw = await res.text();
  if (res.status !== 200 || raw === '' || raw === 'success') return { status: res.status, text: '', raw };
  let reply = raw;
  if (mode === 'safe') {
    const encrypt = field(raw, 'Encrypt');
    if (!encrypt) throw new Error(`safe mode: plaintext reply ${raw.slice(0, 80)}`);
    const expected = sha1([secrets.token, field(raw, 'TimeStamp') ?? '', field(raw, 'Nonce') ?? '', encrypt]);
    if (expected !== field(raw, 'MsgSignature')) throw new Error('safe mode: reply MsgSignature does not verify');
    reply = decryptLikeWechat(encrypt, secrets.aesKey ?? '', secrets.appId ?? '');
  }
  if (field(reply, 'ToUserName') !== openid) throw new Error('reply ToUserName is not the sender');
  return { status: res.status, text: field(reply, 'Content') ?? '', raw: reply };
}

let msgSeq = BigInt(Date.now()) * 1000n;
export function nextMsgId(): string { msgSeq += 1n; return (7_000_000_000_000_000_000n + msgSeq).toString(); }

/** One WeChat user. */
export class OutsideUser {
  readonly openid: string;
  constructor(private readonly base: string, private readonly secrets: OaSecrets, private readonly mode: 'plain' | 'safe', openid?: string) {
    this.openid = openid ?? `o${randomBytes(14).toString('hex').slice(0, 27)}`;
  }
  async say(text: string, msgId = nextMsgId()): Promise<string> {
    const r = await pushToService(this.base, this.secrets, textPush(this.openid, text, msgId), this.mode);
    if (r.status !== 200) throw new Error(`webhook ${r.status}: ${r.raw}`);
    return r.text;
  }
  async scan(scene: string, follower = false, createTime = Math.floor(Date.now() / 1000)): Promise<string> {
    const xml = follower ? eventPush(this.openid, 'SCAN', scene, createTime) : eventPush(this.openid, 'subscribe', `qrscene_${scene}`, createTime);
    const r = await pushToService(this.base, this.secrets, xml, this.mode);
    if (r.status !== 200) throw new Error(`webhook ${r.status}: ${r.raw}`);
    return r.text;
  }
}

/** GB 11643 MOD 11-2 check character of the first 17 digits. */
export function idCheck(first17: string): string {
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const s = [...first17].reduce((acc, d, i) => acc + Number(d) * (w[i] ?? 0), 0);
  return '10X98765432'[s % 11] ?? '';
}
export const withCheck = (first17: string) => `${first17}${idCheck(first17)}`;
/** Same number with a wrong check character. */
export const wrongCheck = (first17: string) => `${first17}${idCheck(first17) === '0' ? '1' : '0'}`;
