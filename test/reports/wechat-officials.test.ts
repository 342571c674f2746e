import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUES } from '../../src/contracts/jobs.js';
import { reportWechatJobId, runCityReport } from '../../src/reports/deliver.js';
import { createReportStore } from '../../src/reports/store.js';
import { bullConnection, bullPrefix } from '../../src/services.js';
import { executeRows } from '../../src/store/db.js';
import { countVaultValues } from '../../src/store/vault.js';
import { Queue } from 'bullmq';
import { startTestApp, WechatUser, type TestApp } from '../helpers/app.js';
import { enroll, jobIds, jobsFinished } from '../staff/fixtures.js';

const SHENYANG = '210100';
const DALIAN = '210200';
const DAY = '2026-04-02';
const LATER_DAY = '2026-04-03';
const TEMPLATE_ID = 'TPL_DAILY_REPORT_01';

describe('daily report to enrolled officials over WeChat', () => {
  let t: TestApp;
  let dataDir: string;
  let official: WechatUser;
  let otherCity: WechatUser;
  let crew: WechatUser;

  async function seedTrip(city: string, date: string, plate: string): Promise<void> {
    const trip = await t.services.repos.trips.create({
      plate, declaredCount: 3, driver: { name: '张建国', phone: '13812345678' }, registrant: null, crew: null, tripNumber: 'K1234',
      departureAt: new Date(`${date}T09:30:00+08:00`), originText: '沈阳北站', originCity: city,
      destinationText: '北京', destinationCity: '110100', beijingBound: true, reportingCity: city, createdBy: null,
    });
    await t.services.repos.passengers.register({
      tripId: trip.id, name: '王小明', idType: 1, idNumber: '11010519491231002X', phone: '13912345678',
      addressBefore: '辽宁省沈阳市和平区南京北街1号', addressBeijing: '北京市朝阳区建国路2号',
      channel: 'wechat', registeredBy: 'self', staffId: null, userKey: null,
    });
  }

  const staffIdOf = async (user: WechatUser): Promise<string> => {
    const member = await t.services.repos.staff.byUserKey(t.services.userKeyOf('wechat', user.openid));
    if (!member) throw new Error('not enrolled');
    return member.id;
  };

  const send = (city: string, date: string) => runCityReport(t.services, { city, date, send: true, holder: 'test' });
  const wechatOutcome = async (city: string, date: string) => (await createReportStore(t.services.database.db).run(city, date))?.wechat;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'boardroll-wechat-report-test-'));
    t = await startTestApp({ env: { DATA_DIR: dataDir, WECHAT_REPORT_TEMPLATE_ID: TEMPLATE_ID } });
    await t.startWorkers();
    official = new WechatUser(t.app);
    otherCity = new WechatUser(t.app);
    crew = new WechatUser(t.app);
    await enroll(t, official, 'authority', SHENYANG);
    await enroll(t, otherCity, 'authority', DALIAN);
    await enroll(t, crew, 'crew', SHENYANG);
    await seedTrip(SHENYANG, DAY, '辽A12345');
    await seedTrip(DALIAN, DAY, '辽B12345');
    await seedTrip(SHENYANG, LATER_DAY, '辽A54321');
  });

  afterAll(async () => {
    await t?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('when the report of a city is sent, then its enrolled official gets exactly one template message that opens the download link', async () => {
    const outcome = await send(SHENYANG, DAY);
    expect(outcome.status).toBe('built'); // no SMTP_URL: the e-mail is skipped, WeChat is not
    const staffId = await staffIdOf(official);
    await jobsFinished(t, QUEUES.outbound, [reportWechatJobId(SHENYANG, DAY, staffId)]);

    const messages = t.wechatApi.messagesTo(official.openid);
    expect(messages).toHaveLength(1);
    const body = messages[0]?.body as { template_id: string; url: string; data: Record<string, { value: string }> };
    expect(messages[0]?.kind).toBe('template');
    expect(body.template_id).toBe(TEMPLATE_ID);
    expect(body.data['city']?.value).toContain(SHENYANG);
    expect(body.data['date']?.value).toBe(DAY);
    expect(body.data['summary']?.value).toContain('已登记 1');
    expect(body.url).toMatch(new RegExp(`/api/v1/reports/${SHENYANG}/${DAY}\\?exp=\\d+&sig=[A-Za-z0-9_-]{43}$`));
    const download = await t.app.inject({ method: 'GET', url: new URL(body.url).pathname + new URL(body.url).search });
    expect(download.statusCode).toBe(200);
    expect(await wechatOutcome(SHENYANG, DAY)).toBe('queued for 1 official(s) (template)');
  });

  it('when the same report is run again, then no second message is sent', async () => {
    await send(SHENYANG, DAY);
    const staffId = await staffIdOf(official);
    expect(await jobIds(t, QUEUES.outbound, `report-wx-${SHENYANG}-${DAY}-`)).toEqual([reportWechatJobId(SHENYANG, DAY, staffId)]);
    await jobsFinished(t, QUEUES.outbound, [reportWechatJobId(SHENYANG, DAY, staffId)]);
    expect(t.wechatApi.messagesTo(official.openid)).toHaveLength(1);
  });

  it('when another city\'s report is sent, then officials of other cities and crew members get nothing from it', async () => {
    expect(t.wechatApi.messagesTo(otherCity.openid)).toEqual([]);
    expect(t.wechatApi.messagesTo(crew.openid)).toEqual([]);
    expect(await t.services.repos.staff.officialsOf(SHENYANG)).toEqual([{ staffId: await staffIdOf(official), openid: official.openid }]);
  });

  it('when the staff rows, the vault and the queued job are read as text, then the official\'s openid is nowhere in clear', async () => {
    const rows = await executeRows<{ row: string }>(t.services.database.db, sql`
      select row_to_json(x)::text as row from staff_members x
      union all select row_to_json(v)::text from sensitive.vault_values v`);
    const dump = rows.map((r) => r.row).join('\n');
    expect(dump).toContain(await staffIdOf(official));
    for (const user of [official, otherCity, crew]) expect(dump).not.toContain(user.openid);

    const connection = bullConnection(t.services.config);
    const queue = new Queue(QUEUES.outbound, { connection, prefix: bullPrefix(t.services.config) });
    try {
      const job = await queue.getJob(reportWechatJobId(SHENYANG, DAY, await staffIdOf(official)));
      const data = JSON.stringify(job?.data);
      expect(data).toContain('wechat-template');
      expect(data).not.toContain(official.openid);
      expect(data).not.toContain('sig=');
    } finally {
      await queue.close();
      connection.disconnect();
    }
  });

  it('when an official is revoked, then the sealed contact is deleted and the next report reaches nobody', async () => {
    const staffId = await staffIdOf(official);
    expect(await countVaultValues(t.services.database.db, { ownerType: 'staff', ownerId: staffId })).toBe(1);
    expect(await t.services.repos.staff.revoke(staffId)).toBe(true);
    expect(await countVaultValues(t.services.database.db, { ownerType: 'staff', ownerId: staffId })).toBe(0);
    expect(await t.services.repos.staff.officialsOf(SHENYANG)).toEqual([]);

    await send(SHENYANG, LATER_DAY);
    expect(await wechatOutcome(SHENYANG, LATER_DAY)).toBe('skipped: no enrolled officials with a WeChat contact');
    expect(await jobIds(t, QUEUES.outbound, `report-wx-${SHENYANG}-${LATER_DAY}-`)).toEqual([]);
  });
});

describe('daily report to enrolled officials without a report template', () => {
  let t: TestApp;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'boardroll-wechat-report-text-test-'));
    t = await startTestApp({ env: { DATA_DIR: dataDir } });
    await t.startWorkers();
  });

  afterAll(async () => {
    await t?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('when no template is configured, then the official gets one customer-service text with the summary and the link', async () => {
    const official = new WechatUser(t.app);
    await enroll(t, official, 'authority', SHENYANG);
    const member = await t.services.repos.staff.byUserKey(t.services.userKeyOf('wechat', official.openid));
    await runCityReport(t.services, { city: SHENYANG, date: DAY, send: true, holder: 'test' });
    await jobsFinished(t, QUEUES.outbound, [reportWechatJobId(SHENYANG, DAY, member?.id ?? '')]);

    const messages = t.wechatApi.messagesTo(official.openid);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ kind: 'custom', body: { msgtype: 'text' } });
    const text = (messages[0]?.body as { text: { content: string } }).text.content;
    expect(text).toContain(`（${SHENYANG}）${DAY} 乘客登记日报`);
    expect(text).toContain('班次 0');
    expect(text).toMatch(new RegExp(`/api/v1/reports/${SHENYANG}/${DAY}\\?exp=\\d+&sig=[A-Za-z0-9_-]{43}`));
    expect(await createReportStore(t.services.database.db).run(SHENYANG, DAY)).toMatchObject({ wechat: 'queued for 1 official(s) (text)' });
  });
});
