import { execFile } from 'node:child_process';
import { createHash, randomBytes, randomInt, randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, SMS_KINDS } from '../../src/config.js';
import { smsLength, smsTemplateText, SMS_MAX_CHARS } from '../../src/channels/sms/sms-templates.js';
import { startAliyunSmsStub, smsUplinkPush, type AliyunSmsStub } from '../helpers/aliyun-sms-stub.js';
import { TEST_PG_URL, TEST_REDIS_URL } from '../helpers/env.js';
import { startWechatApiStub, type WechatApiStub } from '../helpers/wechat-api-stub.js';
import { OutsideUser, withCheck, type OaSecrets } from './outside-client.js';
import { freePort, runNpm, startService, type ServiceProcess } from './service-process.js';

/**
 * Black-box acceptance, the way the issues say they will be checked: the service runs as `npm start` in a child
 * process with only the contract's environment; everything goes through signed webhooks (own WeChat signing code,
 * outside-client.ts), the HTTP API and the npm scripts. Outside services are local stand-ins (WeChat API, Alibaba SMS).
 * At the end the database (pg_dump, or PGlite's files on disk) and the service's own log are searched for every
 * identity number, phone and WeChat OpenID used: none may appear.
 */
const run = promisify(execFile);
const APPID = 'wxe2e0000000000001';
const APPSECRET = 'e2e-app-secret-0123456789';
const AES_KEY = 'e2eEncodingAesKey0123456789abcdefghijklmnop'.slice(0, 43);
const SMS_SIGN = '出行登记';

const randomResidentId = () => withCheck(`210102${1950 + randomInt(0, 50)}${String(randomInt(1, 13)).padStart(2, '0')}${String(randomInt(1, 28)).padStart(2, '0')}${String(randomInt(0, 1000)).padStart(3, '0')}`);
const randomPhone = () => `139${String(randomInt(0, 100_000_000)).padStart(8, '0')}`;

/** Every identity number and phone this run hands to the service: none may be found in clear afterwards. */
class Secrets {
  readonly values = new Set<string>();
  id(): string { const v = randomResidentId(); this.values.add(v); return v; }
  phone(): string { const v = randomPhone(); this.values.add(v); return v; }
  add(v: string): string { this.values.add(v); return v; }
  found(haystack: string): string[] { return [...this.values].filter((v) => haystack.includes(v)); }
}

async function json(res: Response): Promise<Record<string, unknown>> { return (await res.json()) as Record<string, unknown>; }
const api = (base: string, key: string | null, path: string, init: RequestInit = {}) => fetch(`${base}${path}`, {
  ...init, headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(init.body ? { 'content-type': 'application/json' } : {}), ...(init.headers ?? {}) },
});

async function waitFor<T>(what: string, probe: () => T | Promise<T>, tries = 400): Promise<NonNullable<T>> {
  for (let i = 0; i < tries; i += 1) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Drives a driver through the contract's questions; returns the 6-digit trip code. */
async function registerTrip(driver: OutsideUser, opts: { plate: string; declared?: number; tripNumber?: string; destination?: string; crewId?: string; phone: string }): Promise<string> {
  expect(await driver.say(opts.plate)).toContain('多少人');
  expect(await driver.say(String(opts.declared ?? 40))).toContain('驾驶员姓名');
  expect(await driver.say('张建国')).toContain('手机号');
  expect(await driver.say(opts.phone)).toContain('登记人是驾驶员本人吗');
  expect(await driver.say('1')).toContain('乘务员');
  if (opts.crewId) {
    expect(await driver.say('1')).toContain('乘务员姓名');
    await driver.say('王乘务');
    expect(await driver.say('13612345678')).toContain('证件类型');
    expect(await driver.say(opts.crewId)).toContain('班次号');
  } else {
    expect(await driver.say('2')).toContain('班次号');
  }
  expect(await driver.say(opts.tripNumber ?? '无')).toContain('发车时间');
  expect(await driver.say('明天 08:30')).toContain('出发地');
  expect(await driver.say('沈阳北站')).toContain('目的地');
  const summary = await driver.say(opts.destination ?? '大连');
  expect(summary).toContain('请核对');
  expect(summary).not.toContain(opts.phone);
  const done = await driver.say('1');
  const code = /乘车码 (\d{6})/.exec(done)?.[1] ?? '';
  expect(code).toMatch(/^\d{6}$/);
  return code;
}

/** A passenger by scan (or trip code) → consent → name → resident ID at the menu → phone → summary → confirm. */
async function registerPassenger(user: OutsideUser, code: string, p: { name: string; id: string; phone: string }, how: 'scan' | 'code' = 'scan'): Promise<void> {
  const consent = how === 'scan' ? await user.scan(`trip-${code}`) : await user.say(code);
  expect(consent).toContain('回复 1 同意');
  expect(await user.say('1')).toContain('姓名');
  expect(await user.say(p.name)).toContain('证件类型');
  expect(await user.say(p.id)).toContain('手机号');
  const summary = await user.say(p.phone);
  expect(summary).toContain('请核对');
  expect(summary).toContain(`${p.id.slice(0, 4)}**********${p.id.slice(-4)}`);
  expect(summary).not.toContain(p.id);
  expect(summary).not.toContain(p.phone);
  expect(await user.say('1')).toContain('登记完成');
}

interface Roster {
  trip: Record<string, unknown>;
  registeredCount: number;
  arrivedCount: number;
  passengers: Record<string, unknown>[];
}

/** The roster's contract shape (DESIGN.md "JSON shapes"), masked. */
function expectRosterShape(body: Record<string, unknown>): Roster {
  const roster = body as unknown as Roster;
  expect(Object.keys(roster.trip)).toEqual(expect.arrayContaining(['code', 'plate', 'departureAt', 'origin', 'destination', 'declaredCount']));
  expect(typeof roster.registeredCount).toBe('number');
  expect(typeof roster.arrivedCount).toBe('number');
  for (const p of roster.passengers) {
    expect(Object.keys(p)).toEqual(expect.arrayContaining(['name', 'idType', 'idNumber', 'phone', 'channel', 'registeredBy', 'arrivedAt']));
    expect(String(p['idNumber'])).toMatch(/\*{4,}/);
    if (p['phone'] !== null) expect(String(p['phone'])).toMatch(/^\d{3}\*{4}\d{4}$/);
  }
  return roster;
}

describe('start-up without a master key on PostgreSQL', () => {
  it('when DATABASE_URL is set and BOARDROLL_MASTER_KEY is not, then `npm run web` stops with a clear error', async () => {
    const result = await runNpm({ DATABASE_URL: TEST_PG_URL, REDIS_URL: TEST_REDIS_URL, PORT: '0' }, ['web']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('BOARDROLL_MASTER_KEY');
  });
});

describe.each([
  { store: 'embedded' as const },
  { store: 'postgres' as const },
])('black box: `npm start` on the $store store', ({ store }) => {
  const secrets = new Secrets();
  let wechatApi: WechatApiStub;
  let sms: AliyunSmsStub;
  let dataDir = '';
  let dbName = '';
  let env: Record<string, string> = {};
  let svc: ServiceProcess;
  const logs: string[] = [];
  let oa: OaSecrets;
  let tripCode = '';
  let firstPassengerId = '';
  let driver: OutsideUser;
  const driverPhone = secrets.phone();
  const keys: Record<string, string> = {};

  /** A WeChat user; its OpenID is personal data too (issue 3): it must not show in the log or the dump either. */
  function user(mode: 'plain' | 'safe', openid?: string): OutsideUser {
    const u = new OutsideUser(svc.base, oa, mode, openid);
    secrets.add(u.openid);
    return u;
  }

  async function cli(args: string[]): Promise<string> {
    const result = await runNpm(env, ['keys', '--', ...args]);
    expect(result.code, result.stderr).toBe(0);
    return result.stdout.at(-1) ?? '';
  }

  async function restart(): Promise<void> {
    logs.push(...svc.output);
    await svc.stop();
    svc = await startService(env);
  }

  beforeAll(async () => {
    wechatApi = await startWechatApiStub({ appId: APPID, appSecret: APPSECRET });
    const templates = loadConfig({}).sms.templates;
    sms = await startAliyunSmsStub({
      accessKeyId: 'e2e-ak', accessKeySecret: 'e2e-sk', signName: SMS_SIGN,
      templates: Object.fromEntries(SMS_KINDS.map((k) => [templates[k], smsTemplateText(k, 'zh-CN')])),
    });
    dataDir = await mkdtemp(join(tmpdir(), 'boardroll-e2e-'));
    env = {
      DATA_DIR: join(dataDir, 'data'), REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: `e2e-${randomUUID().slice(0, 8)}`,
      WECHAT_APPID: APPID, WECHAT_APPSECRET: APPSECRET, WECHAT_AES_KEY: AES_KEY, WECHAT_API_BASE: wechatApi.baseUrl,
      ALIYUN_ACCESS_KEY_ID: 'e2e-ak', ALIYUN_ACCESS_KEY_SECRET: 'e2e-sk', SMS_ENDPOINT: sms.endpoint, SMS_PROTOCOL: 'http',
      SMS_SIGN_NAME: SMS_SIGN, LOG_LEVEL: 'info', LOG_PRETTY: 'false', PORT: String(await freePort()),
    };
    if (store === 'postgres') {
      dbName = `br_e2e_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
      const admin = new pg.Client({ connectionString: TEST_PG_URL });
      await admin.connect();
      await admin.query(`CREATE DATABASE "${dbName}"`);
      await admin.end();
      const url = new URL(TEST_PG_URL);
      url.pathname = `/${dbName}`;
      env = { ...env, DATABASE_URL: url.toString(), BOARDROLL_MASTER_KEY: randomBytes(32).toString('base64'), WECHAT_TOKEN: 'e2e-token-pg', SMS_UPLINK_TOKEN: 'e2e-uplink-pg' };
    }
    svc = await startService(env);
    const token = env['WECHAT_TOKEN'] ?? (await readFile(join(env['DATA_DIR'] ?? '', 'wechat-token'), 'utf8')).trim();
    if (!env['SMS_UPLINK_TOKEN']) env['SMS_UPLINK_TOKEN'] = (await readFile(join(env['DATA_DIR'] ?? '', 'sms-uplink-token'), 'utf8')).trim();
    oa = { token, aesKey: AES_KEY, appId: APPID };
    driver = user('safe');
  }, 240_000);

  afterAll(async () => {
    await svc?.stop();
    await wechatApi?.close();
    await sms?.close();
    if (dbName) {
      const admin = new pg.Client({ connectionString: TEST_PG_URL });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
      await admin.end();
    }
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('when it is up, then /healthz answers ok', async () => {
    const res = await fetch(`${svc.base}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('when WeChat checks the server URL, then a valid signature gets echostr back and a wrong one 401', async () => {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const nonce = '1234567';
    const signature = createHash('sha1').update([oa.token, timestamp, nonce].sort().join('')).digest('hex');
    const ok = await fetch(`${svc.base}/wechat?${new URLSearchParams({ signature, timestamp, nonce, echostr: '4375120948345356249' }).toString()}`);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('4375120948345356249');
    const bad = await fetch(`${svc.base}/wechat?${new URLSearchParams({ signature: signature.replace(/^./, (c) => (c === 'a' ? 'b' : 'a')), timestamp, nonce, echostr: '1' }).toString()}`);
    expect(bad.status).toBe(401);
  });

  it.runIf(store === 'embedded')('when it starts with no configuration, then development secrets are created owner-only and their location is logged', async () => {
    for (const name of ['master.key', 'wechat-token']) {
      const file = join(env['DATA_DIR'] ?? '', name);
      expect(((await stat(file)).mode & 0o777).toString(8)).toBe('600');
      expect(svc.output.some((line) => line.includes(file))).toBe(true);
    }
  });

  it('when a driver registers in safe mode, then the trip gets a code and its QR code goes out through the OA API', async () => {
    tripCode = await registerTrip(driver, { plate: '辽A 54321', phone: `+86 ${driverPhone}`, crewId: secrets.id() });
    const qr = await waitFor('the trip QR code', () => [...wechatApi.state.qrcodes.values()].find((q) => String(q.scene).includes(tripCode)));
    expect(qr.actionName).toBe('QR_STR_SCENE');
  });

  it('when passengers register by scan (plaintext) and by trip code (safe mode), then both are on the masked roster', async () => {
    firstPassengerId = secrets.id();
    await registerPassenger(user('plain'), tripCode, { name: '王小明', id: firstPassengerId, phone: secrets.phone() });
    await registerPassenger(user('safe'), tripCode, { name: '李秀英', id: secrets.id(), phone: secrets.phone() }, 'code');
  });

  it('when WeChat retries a delivery (same MsgId, also concurrently and later), then the reply is the same and nothing is stored twice', async () => {
    const rider = user('safe');
    const p = { name: '赵六', id: secrets.id(), phone: secrets.phone() };
    await rider.scan(`trip-${tripCode}`);
    const msgId = '9007199254740993001';
    const [a, b, c] = await Promise.all([rider.say('1', msgId), rider.say('1', msgId), rider.say('1', msgId)]);
    expect(a).toContain('姓名');
    expect([b, c]).toEqual([a, a]);
    await rider.say(p.name);
    await rider.say(p.id);
    await rider.say(p.phone);
    const confirmId = '9007199254740993002';
    const replies = await Promise.all([rider.say('1', confirmId), rider.say('1', confirmId), user('plain', rider.openid).say('1', confirmId)]);
    expect(replies[0]).toContain('登记完成');
    expect(new Set(replies).size).toBe(1);
    expect(await rider.say('1', confirmId)).toBe(replies[0]);
  });

  it('when API keys and enrollment codes are made with `npm run keys` while the service runs, then each is printed alone on the last line', async () => {
    // On the embedded store the running service holds DATA_DIR; the CLI goes through its relay socket.
    keys['station'] = await cli(['create', '--role', 'station', '--city', '210100']);
    keys['stationDalian'] = await cli(['create', '--role', 'station', '--city', '210200']);
    keys['authority'] = await cli(['create', '--role', 'authority', '--city', '210100']);
    keys['authorityDalian'] = await cli(['create', '--role', 'authority', '--city', '210200']);
    keys['ticketing'] = await cli(['create', '--role', 'ticketing']);
    keys['health'] = await cli(['create', '--role', 'health']);
    keys['admin'] = await cli(['create', '--role', 'admin']);
    keys['crewCode'] = await cli(['enroll', '--role', 'crew', '--city', '210100']);
    keys['stationCode'] = await cli(['enroll', '--role', 'station', '--city', '210100']);
    for (const k of ['station', 'stationDalian', 'authority', 'authorityDalian', 'ticketing', 'health', 'admin']) expect(keys[k]).toMatch(/^br_[0-9A-Za-z]{32}$/);
    for (const k of ['crewCode', 'stationCode']) expect(keys[k]).toMatch(/^[0-9A-Z]{6,16}$/);
  }, 120_000);

  it('when the service is stopped and started again, then the trips and passengers are still there', async () => {
    await restart();
    const res = await api(svc.base, keys['station'] ?? '', `/api/v1/trips/${tripCode}/roster`);
    expect(res.status).toBe(200);
    const roster = expectRosterShape(await json(res));
    expect(roster.trip).toMatchObject({ code: tripCode, plate: '辽A54321', origin: '沈阳北站', destination: '大连', declaredCount: 40 });
    expect(roster.registeredCount).toBe(3);
    expect(roster.arrivedCount).toBe(0);
    expect(roster.passengers.map((p) => p['name'])).toEqual(['王*明', '李*英', '赵*']);
    expect(roster.passengers[0]).toMatchObject({ idType: 1, channel: 'wechat', registeredBy: 'self', arrivedAt: null });
  }, 240_000);

  it('when the API is called without a key, with a wrong role or for another city, then 401 / 403 with {code, message}', async () => {
    const path = `/api/v1/trips/${tripCode}/roster`;
    for (const [key, status] of [[null, 401], ['br_not_a_key', 401], [keys['ticketing'], 403], [keys['stationDalian'], 403], [keys['authorityDalian'], 403]] as const) {
      const res = await api(svc.base, key ?? null, path);
      expect(res.status).toBe(status);
      const body = await json(res);
      expect(Object.keys(body)).toEqual(expect.arrayContaining(['code', 'message']));
      expect(String(body['code'])).toMatch(/^[A-Z][A-Z0-9_]+$/);
    }
  });

  it('when trace is called without a reason, then 400; with one, then the matches come back and the call is audited', async () => {
    const noReason = await api(svc.base, keys['authority'] ?? '', `/api/v1/trace?phone=${driverPhone}`);
    expect(noReason.status).toBe(400);
    expect(await json(noReason)).toMatchObject({ code: expect.stringMatching(/^[A-Z_]+$/) as unknown });
    const id = firstPassengerId;
    const res = await api(svc.base, keys['authority'] ?? '', `/api/v1/trace?idNumber=${id}&reason=${encodeURIComponent('密接排查 e2e')}`);
    expect(res.status).toBe(200);
    const body = await json(res) as { matches: { trip: Record<string, unknown>; passenger: Record<string, unknown>; coPassengers: unknown[] }[] };
    expect(body.matches).toHaveLength(1);
    expect(body.matches[0]?.trip['code']).toBe(tripCode);
    expect(body.matches[0]?.passenger['idNumber']).toBe(id);
    expect(body.matches[0]?.coPassengers).toHaveLength(2);
    const audit = await json(await api(svc.base, keys['admin'] ?? '', '/api/v1/audit?action=trace'));
    expect(JSON.stringify(audit)).toContain('密接排查 e2e');
  });

  it('when an enrolled crew member assists, then three phoneless passengers are registered by crew', async () => {
    const crew = user('plain');
    expect(await crew.say(`绑定 ${keys['crewCode'] ?? ''}`)).toContain('绑定成功');
    expect(await crew.say(`协助登记 ${tripCode}`)).toContain('回复 1 确认');
    expect(await crew.say('1')).toContain('姓名');
    for (const [i, name] of ['周大汉', '钱老五', '孙秀兰'].entries()) {
      expect(await crew.say(name)).toContain('证件类型');
      expect(await crew.say(secrets.id())).toContain('无');
      expect(await crew.say('无')).toContain('请核对');
      expect(await crew.say('1')).toContain(`本班已登记 ${4 + i} 人`);
      if (i < 2) expect(await crew.say('1')).toContain('姓名');
    }
    expect(await crew.say('2')).toContain('结束');
    const roster = expectRosterShape(await json(await api(svc.base, keys['station'] ?? '', `/api/v1/trips/${tripCode}/roster`)));
    expect(roster.passengers.slice(3).map((p) => [p['registeredBy'], p['phone']])).toEqual([['crew', null], ['crew', null], ['crew', null]]);
  });

  it('when a ticketing system pre-registers riders, then one who scans and types their number confirms with 1', async () => {
    const ticketTrip = await registerTrip(user('plain'), { plate: '辽A6688D', phone: secrets.phone(), tripNumber: 'K778' });
    const roster = expectRosterShape(await json(await api(svc.base, keys['station'] ?? '', `/api/v1/trips/${ticketTrip}/roster`)));
    const date = new Date(new Date(String(roster.trip['departureAt'])).getTime() + 8 * 3600_000).toISOString().slice(0, 10);
    const rider = { ticketId: `T-${randomUUID()}`, name: '吴小梅', idType: 1, idNumber: secrets.id(), phone: secrets.phone() };
    const bad = { ticketId: `T-${randomUUID()}`, name: '郑大', idType: 1, idNumber: '210102199003071234', phone: null };
    const body = { tripNumber: 'K778', departureDate: date, origin: '沈阳北站', passengers: [rider, bad] };
    const first = await api(svc.base, keys['ticketing'] ?? '', '/api/v1/ticketing/passengers', { method: 'POST', body: JSON.stringify(body) });
    expect(first.status).toBe(200);
    const answer = await json(first) as { accepted: number; rejected: { ticketId: string; code: string; message: string }[] };
    expect(answer.accepted).toBe(1);
    expect(answer.rejected).toEqual([{ ticketId: bad.ticketId, code: expect.any(String) as unknown, message: expect.any(String) as unknown }]);
    expect(await json(await api(svc.base, keys['ticketing'] ?? '', '/api/v1/ticketing/passengers', { method: 'POST', body: JSON.stringify(body) }))).toMatchObject({ accepted: 1 });

    const rider2 = user('plain');
    await rider2.scan(`trip-${ticketTrip}`);
    await rider2.say('1');
    await rider2.say(rider.name);
    const offer = await rider2.say(rider.idNumber);
    expect(offer).toContain('吴*梅');
    expect(offer).not.toContain(rider.idNumber);
    expect(await rider2.say('1')).toContain('登记完成');
    const after = expectRosterShape(await json(await api(svc.base, keys['station'] ?? '', `/api/v1/trips/${ticketTrip}/roster`)));
    expect(after.registeredCount).toBe(1);
    expect(after.passengers[0]?.['name']).toBe('吴*梅');
  }, 60_000);

  it('when a station clerk verifies arrivals in the chat and over the API, then the counts follow', async () => {
    const clerk = user('plain');
    expect(await clerk.say(`绑定 ${keys['stationCode'] ?? ''}`)).toContain('绑定成功');
    const list = await clerk.say(`核验 ${tripCode}`);
    expect(list).toContain('1 王*明');
    expect(await clerk.say('1 3')).toContain('已到 2 / 已登记 6 / 核载 40');
    const res = await api(svc.base, keys['station'] ?? '', `/api/v1/trips/${tripCode}/arrivals`, { method: 'POST', body: JSON.stringify({ passengers: [2] }) });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ arrivedCount: 3, registeredCount: 6, declaredCount: 40 });
    const roster = expectRosterShape(await json(await api(svc.base, keys['authority'] ?? '', `/api/v1/trips/${tripCode}/roster`)));
    expect(roster.arrivedCount).toBe(3);
    expect(roster.passengers.filter((p) => p['arrivedAt'] !== null)).toHaveLength(3);
  });

  it('when the driver invites a rider by SMS and the rider answers on the uplink, then the rider is on the roster and every SMS fits 70 characters', async () => {
    const phone = secrets.phone();
    const sentTo = () => sms.sent.filter((s) => s.phone === phone);
    expect(await driver.say(`短信登记 ${phone}`)).toContain('已向');
    await waitFor('the invitation', () => sentTo()[0]);
    let sequence = Date.now() * 1000;
    let clock = Date.now();
    const answer = async (content: string) => {
      const before = sentTo().length;
      clock += 1000;
      const body = smsUplinkPush([{ phone, content, sequenceId: ++sequence, sendTime: new Date(clock + 8 * 3600_000).toISOString().slice(0, 19).replace('T', ' ') }]);
      const post = () => fetch(`${svc.base}/sms/aliyun/uplink?token=${encodeURIComponent(env['SMS_UPLINK_TOKEN'] ?? '')}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const res = await post();
      expect(await res.json()).toEqual({ code: 0, msg: '成功' });
      await post(); // a duplicate push changes nothing
      return (await waitFor(`the SMS after "${content.length} chars"`, () => sentTo()[before])).text;
    };
    expect(await answer('1')).toContain('姓名');
    expect(await answer('王大爷')).toContain('证件类型');
    expect(await answer(secrets.id())).toContain('1用本机号码');
    expect(await answer('1')).toContain('请核对');
    expect(await answer('1')).toContain('已完成');
    expect(sentTo()).toHaveLength(6); // the invitation and one answer per reply: the duplicate pushes sent nothing
    for (const s of sms.sent) expect(smsLength(s.text)).toBeLessThanOrEqual(SMS_MAX_CHARS);
    const roster = expectRosterShape(await json(await api(svc.base, keys['station'] ?? '', `/api/v1/trips/${tripCode}/roster`)));
    expect(roster.passengers.at(-1)).toMatchObject({ name: '王*爷', channel: 'sms', phone: `${phone.slice(0, 3)}****${phone.slice(-4)}` });
  }, 60_000);

  it('when a trip is over capacity and a watch-listed person registers, then alerts show to the city\'s authority and not to another city\'s', async () => {
    const small = await registerTrip(user('plain'), { plate: '辽A11223', declared: 1, phone: secrets.phone() });
    const watched = secrets.id();
    await registerPassenger(user('plain'), small, { name: '冯一', id: secrets.id(), phone: secrets.phone() });
    const listed = await api(svc.base, keys['health'] ?? '', '/api/v1/watchlist', { method: 'POST', body: JSON.stringify({ idNumbers: [watched] }) });
    expect(listed.status).toBe(200);
    await registerPassenger(user('plain'), small, { name: '陈二', id: watched, phone: secrets.phone() });
    const kinds = async (key: string) => {
      const res = await api(svc.base, key, `/api/v1/alerts?tripCode=${small}`);
      return { status: res.status, body: await json(res) as { alerts?: { kind: string }[] } };
    };
    const seen = await waitFor('both alerts', async () => {
      const { body } = await kinds(keys['authority'] ?? '');
      const found = new Set((body.alerts ?? []).map((a) => a.kind));
      return found.size >= 2 ? [...found].sort() : null;
    });
    expect(seen.join(' ')).toMatch(/capacity/);
    expect(seen.join(' ')).toMatch(/watch/);
    expect((await kinds(keys['authorityDalian'] ?? '')).status).toBe(403);
    const all = await json(await api(svc.base, keys['authorityDalian'] ?? '', '/api/v1/alerts')) as { alerts: { trip: { code: string } }[] };
    expect(all.alerts.filter((a) => a.trip.code === small)).toEqual([]);
  }, 60_000);

  it('when the database and the service log are searched, then no identity number, phone or OpenID used appears in clear', async () => {
    logs.push(...svc.output);
    expect(logs.length).toBeGreaterThan(10);
    expect(secrets.found(logs.join('\n'))).toEqual([]);
    let dump = '';
    if (store === 'postgres') {
      dump = (await run('pg_dump', ['--no-owner', env['DATABASE_URL'] ?? ''], { maxBuffer: 256 * 1024 * 1024 })).stdout;
      expect(dump).toContain('COPY sensitive.');
    } else {
      // PGlite keeps real PostgreSQL files: stop the service and read every byte of them.
      logs.push(...svc.output);
      await svc.stop();
      const root = join(env['DATA_DIR'] ?? '', 'pgdata');
      const walk = async (dir: string): Promise<void> => {
        for (const entry of await readdir(dir, { withFileTypes: true })) {
          const path = join(dir, entry.name);
          if (entry.isDirectory()) await walk(path);
          else dump += (await readFile(path)).toString('latin1');
        }
      };
      await walk(root);
      expect(dump).toContain(Buffer.from('辽A54321').toString('latin1')); // the files are readable: non-secret data shows
      svc = await startService(env);
    }
    expect(dump.length).toBeGreaterThan(10_000);
    expect(secrets.found(dump)).toEqual([]);
  }, 180_000);
});
