import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { QueueEvents } from 'bullmq';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUES } from '../../src/contracts/jobs.js';
import { rosterChunks, tripPages } from '../../src/reports/data.js';
import { reportDayRange } from '../../src/reports/day.js';
import { runCityReport, buildReportFile } from '../../src/reports/deliver.js';
import { cityReportJobId, DAILY_REPORT_SCHEDULER, enqueueCityReport } from '../../src/reports/jobs.js';
import { createReportStore } from '../../src/reports/store.js';
import { bullConnection, bullPrefix } from '../../src/services.js';
import { startReportWorker } from '../../workers/processors/report.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { startSmtpStub, type SmtpStub } from './smtp-stub.js';

const run = promisify(execFile);
const SHENYANG = '210100';
const DALIAN = '210200';
const DAY = '2026-03-10';
const RETRY_DAY = '2026-03-11';
const CRASH_DAY = '2026-03-12';
const FANOUT_DAY = '2026-03-13';
const BUSY_DAY = '2026-03-14';
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/** An 18-character resident ID with a valid check character. */
function residentId(seq: number): string {
  const body = `21010219900307${String(seq).padStart(3, '0')}`.slice(0, 17);
  const sum = [...body].reduce((acc, d, i) => acc + Number(d) * (WEIGHTS[i] ?? 0), 0);
  return body + '10X98765432'.charAt(sum % 11);
}

interface Keys { admin: string; shenyang: string; dalian: string; station: string }

describe('daily per-city reports', () => {
  let t: TestApp;
  let smtp: SmtpStub;
  let dataDir: string;
  let keys: Keys;
  let worker: Awaited<ReturnType<typeof startReportWorker>>;
  let events: QueueEvents;
  let seq = 100;

  async function seedTrip(city: string, date: string, time: string, plate: string, riders: number, declared = riders + 2): Promise<{ code: string; id: string }> {
    const { trips, passengers } = t.services.repos;
    const trip = await trips.create({
      plate, declaredCount: declared, driver: { name: '张建国', phone: '13812345678' }, registrant: null, crew: null, tripNumber: 'K1234',
      departureAt: new Date(`${date}T${time}:00+08:00`), originText: city === SHENYANG ? '沈阳北站' : '大连站', originCity: city,
      destinationText: '北京', destinationCity: '110100', beijingBound: true, reportingCity: city, createdBy: null,
    });
    const ids: string[] = [];
    for (let i = 0; i < riders; i += 1) {
      seq += 1;
      const r = await passengers.register({
        tripId: trip.id, name: ['王小明', '李四', '欧阳建国', 'John Smith'][i % 4] ?? '王小明', idType: 1, idNumber: residentId(seq),
        phone: `139${String(10_000_000 + seq).slice(-8)}`, addressBefore: '辽宁省沈阳市和平区南京北街1号', addressBeijing: '北京市朝阳区建国路2号',
        channel: 'wechat', registeredBy: 'self', staffId: null, userKey: null,
      });
      ids.push(r.id);
    }
    if (ids[0]) await passengers.markArrived(trip.id, [ids[0]], new Date(`${date}T12:00:00+08:00`));
    return { code: trip.code, id: trip.id };
  }

  async function readWorkbook(source: string | Buffer): Promise<ExcelJS.Workbook> {
    const wb = new ExcelJS.Workbook();
    if (typeof source === 'string') await wb.xlsx.readFile(source);
    else await wb.xlsx.load(source as unknown as ArrayBuffer);
    return wb;
  }

  function summaryValue(wb: ExcelJS.Workbook, label: string): unknown {
    const sheet = wb.getWorksheet('汇总');
    let value: unknown;
    sheet?.eachRow((row) => { if (row.getCell(1).value === label && value === undefined) value = row.getCell(2).value; });
    return value;
  }

  function rosterRows(sheet: ExcelJS.Worksheet): { name: string; idNumber: string; phone: string }[] {
    const out: { name: string; idNumber: string; phone: string }[] = [];
    sheet.eachRow((row, n) => { if (n > 2) out.push({ name: String(row.getCell(2).value), idNumber: String(row.getCell(4).value), phone: String(row.getCell(5).value) }); });
    return out;
  }

  async function api(method: 'GET' | 'PUT', url: string, key?: string, payload?: unknown) {
    return t.app.inject({ method, url, ...(key ? { headers: { authorization: `Bearer ${key}` } } : {}), ...(payload === undefined ? {} : { payload: payload as object }) });
  }

  async function runJob(city: string, date: string): Promise<void> {
    await enqueueCityReport(worker.queue, city, date, { attempts: 4, backoffMs: 20 });
    const job = await worker.queue.getJob(cityReportJobId(city, date));
    await job?.waitUntilFinished(events, 30_000);
  }

  const mailsFor = (date: string) => smtp.messages.filter((m) => (m.subject ?? '').includes(date));

  beforeAll(async () => {
    smtp = await startSmtpStub();
    dataDir = await mkdtemp(join(tmpdir(), 'boardroll-reports-test-'));
    t = await startTestApp({ env: { SMTP_URL: smtp.url, DATA_DIR: dataDir } });
    const create = async (role: 'admin' | 'authority' | 'station', city?: string) => (await t.services.repos.apiKeys.create({ role, city: city ?? null })).key;
    keys = { admin: await create('admin'), shenyang: await create('authority', SHENYANG), dalian: await create('authority', DALIAN), station: await create('station', SHENYANG) };
    const store = createReportStore(t.services.database.db);
    await store.setRecipients(SHENYANG, ['jt@shenyang.example.cn', 'yq@shenyang.example.cn'], true);
    await store.setRecipients(DALIAN, ['jt@dalian.example.cn'], false);
    await seedTrip(SHENYANG, DAY, '08:30', '辽A12345', 3);
    await seedTrip(SHENYANG, DAY, '14:00', '辽A54321', 2);
    await seedTrip(DALIAN, DAY, '09:15', '辽B11111', 4);
    await seedTrip(SHENYANG, '2026-03-09', '23:59', '辽A99999', 1); // the day before: in no report of DAY
    worker = await startReportWorker(t.services, { attempts: 4, backoffMs: 20 });
    events = new QueueEvents(QUEUES.report, { connection: bullConnection(t.services.config), prefix: bullPrefix(t.services.config) });
    await events.waitUntilReady();
  });

  afterAll(async () => {
    await events?.close();
    await worker?.close();
    await t?.close();
    await smtp?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('when a city has trips that day, then its workbook has the summary counts and one masked roster sheet per trip equal to the roster API', async () => {
    const outcome = await runCityReport(t.services, { city: SHENYANG, date: DAY, send: false, holder: 'test' });
    expect(outcome.status).toBe('built');
    expect(outcome.rows).toBe(5);
    expect(outcome.filePath).toBe(join(dataDir, 'reports', DAY, `${SHENYANG}.xlsx`));
    const wb = await readWorkbook(outcome.filePath ?? '');
    expect(wb.worksheets.map((s) => s.name)).toHaveLength(3);
    expect(summaryValue(wb, '班次')).toBe(2);
    expect(summaryValue(wb, '核载人数')).toBe(9);
    expect(summaryValue(wb, '已登记')).toBe(5);
    expect(summaryValue(wb, '已到达')).toBe(2);
    expect(summaryValue(wb, '未登记')).toBe(4);
    expect(summaryValue(wb, '预警')).toBe(0);
    for (const sheet of wb.worksheets.slice(1)) {
      const code = sheet.name.slice(0, 6);
      const res = await api('GET', `/api/v1/trips/${code}/roster`, keys.station);
      expect(res.statusCode).toBe(200);
      const roster = res.json<{ passengers: { name: string; idNumber: string; phone: string }[] }>();
      expect(rosterRows(sheet)).toEqual(roster.passengers.map((p) => ({ name: p.name, idNumber: p.idNumber, phone: p.phone })));
      expect(JSON.stringify(rosterRows(sheet))).not.toMatch(/\d{17}[\dX]|1\d{10}/);
    }
  });

  it('when a trip has more passengers than a page, then its roster is read in pages in registration order', async () => {
    const { database, vault, repos } = t.services;
    const trips = [];
    for await (const page of tripPages(database.db, SHENYANG, reportDayRange(DAY), 1)) trips.push(...page);
    expect(trips.map((trip) => trip.registered)).toEqual([3, 2]);
    const chunks = [];
    for await (const chunk of rosterChunks(database.db, vault, trips, { masked: false, pageSize: 2 })) chunks.push(chunk);
    expect(chunks.map((c) => [c.passengers.length, c.first, c.last])).toEqual([[2, true, false], [1, false, true], [2, true, true]]);
    for (const trip of trips) {
      const read = chunks.filter((c) => c.trip.id === trip.id).flatMap((c) => c.passengers.map((p) => p.idNumber));
      expect(read).toEqual((await repos.passengers.roster(trip.id)).map((p) => p.idNumber));
    }
  });

  it('when the report is sent by the CLI, then each city gets one e-mail (attachment only where enabled) and a second run sends nothing', async () => {
    const cli = () => run(join(process.cwd(), 'node_modules/.bin/tsx'), ['src/cli/report.ts', '--date', DAY, '--send'], { env: { ...process.env, ...t.env }, cwd: process.cwd() });
    const first = await cli();
    const lines = first.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(new RegExp(`^${SHENYANG} ${DAY} sent trips=2 declared=9 registered=5 arrived=2 missing=4 alerts=0 rows=5 emailed=2 file=\\S+${SHENYANG}\\.xlsx`));
    expect(lines[1]).toMatch(new RegExp(`^${DALIAN} ${DAY} sent trips=1 declared=6 registered=4 `));
    expect(mailsFor(DAY)).toHaveLength(2);

    const shenyang = mailsFor(DAY).find((m) => (m.subject ?? '').includes(SHENYANG));
    const dalian = mailsFor(DAY).find((m) => (m.subject ?? '').includes(DALIAN));
    expect(shenyang?.messageId).toBe(`<report-${SHENYANG}-${DAY}@boardroll>`);
    expect(shenyang?.text).toContain('已登记：5');
    expect(shenyang?.attachments).toHaveLength(1);
    expect(dalian?.attachments).toHaveLength(0);
    const attached = await readWorkbook(shenyang?.attachments[0]?.content ?? Buffer.alloc(0));
    expect(attached.worksheets).toHaveLength(3);
    expect(summaryValue(attached, '已登记')).toBe(5);

    const second = await cli();
    expect(second.stdout).toContain(`${SHENYANG} ${DAY} already-sent`);
    expect(second.stdout).toContain(`${DALIAN} ${DAY} already-sent`);
    expect(mailsFor(DAY)).toHaveLength(2);

    const link = /(http\S+\/api\/v1\/reports\/\S+)/.exec(dalian?.text ?? '')?.[1] ?? '';
    const path = new URL(link);
    const download = await t.app.inject({ method: 'GET', url: `${path.pathname}${path.search}` });
    expect(download.statusCode).toBe(200);
    expect(download.headers['content-type']).toContain('spreadsheetml');
    const linked = await readWorkbook(download.rawPayload);
    expect(summaryValue(linked, '已登记')).toBe(4);
    const tampered = await t.app.inject({ method: 'GET', url: `${path.pathname.replace(DALIAN, SHENYANG)}${path.search}` });
    expect(tampered.statusCode).toBe(401);
    expect(tampered.json()).toMatchObject({ code: 'REPORT_LINK_INVALID' });
  }, 60_000);

  it('when the mail server refuses the first attempt, then the job retries and exactly one e-mail is delivered', async () => {
    await seedTrip(SHENYANG, RETRY_DAY, '07:00', '辽A22222', 2);
    smtp.rejectNext(1);
    await runJob(SHENYANG, RETRY_DAY);
    expect(smtp.rejected()).toBe(1);
    expect(mailsFor(RETRY_DAY)).toHaveLength(1);
    const res = await api('GET', `/api/v1/reports?date=${RETRY_DAY}`, keys.admin);
    expect(res.json<{ reports: unknown[] }>().reports).toEqual([expect.objectContaining({ city: SHENYANG, status: 'sent', attempts: 2, lastError: null })]);
  });

  it('when a worker crashed after claiming and building, then the retried job takes its claim back and sends once', async () => {
    await seedTrip(DALIAN, CRASH_DAY, '10:00', '辽B33333', 3);
    const store = createReportStore(t.services.database.db);
    const holder = `job:${cityReportJobId(DALIAN, CRASH_DAY)}`;
    expect((await store.claim(DALIAN, CRASH_DAY, holder)).claimed).not.toBeNull();
    const built = await buildReportFile(t.services, DALIAN, CRASH_DAY);
    await store.recordFile(DALIAN, CRASH_DAY, built.file, { ...built.counts });
    // …the process died here, before talking to the mail server.
    await runJob(DALIAN, CRASH_DAY);
    await runJob(DALIAN, CRASH_DAY);
    expect(mailsFor(CRASH_DAY)).toHaveLength(1);
    expect(await store.run(DALIAN, CRASH_DAY)).toMatchObject({ status: 'sent', attempts: 1, leaseHolder: null });
  });

  it('when another run holds the day, then a second sender backs off and sends nothing', async () => {
    await seedTrip(SHENYANG, BUSY_DAY, '10:00', '辽A44444', 1);
    const store = createReportStore(t.services.database.db);
    await store.claim(SHENYANG, BUSY_DAY, 'cli:other');
    await expect(runCityReport(t.services, { city: SHENYANG, date: BUSY_DAY, send: true, holder: 'cli:me' })).rejects.toMatchObject({ code: 'REPORT_RUN_BUSY' });
    expect(mailsFor(BUSY_DAY)).toHaveLength(0);
  });

  it('when the daily job fires, then it queues one job per city with trips or recipients and each city is mailed once', async () => {
    const scheduler = await worker.queue.getJobScheduler(DAILY_REPORT_SCHEDULER);
    expect(scheduler).toMatchObject({ pattern: '0 6 * * *', tz: 'Asia/Shanghai' });
    await seedTrip(DALIAN, FANOUT_DAY, '06:30', '辽B55555', 1);
    const daily = await worker.queue.add('daily', { kind: 'daily', date: FANOUT_DAY });
    await daily.waitUntilFinished(events, 30_000);
    for (const city of [SHENYANG, DALIAN]) await (await worker.queue.getJob(cityReportJobId(city, FANOUT_DAY)))?.waitUntilFinished(events, 30_000);
    expect(mailsFor(FANOUT_DAY)).toHaveLength(2);
    for (const city of [SHENYANG, DALIAN]) expect(mailsFor(FANOUT_DAY).filter((m) => (m.subject ?? '').includes(city))).toHaveLength(1);
  });

  it('when an authority downloads its city\'s report with a reason, then it gets the unmasked workbook and the read is audited', async () => {
    const res = await api('GET', `/api/v1/reports/${DALIAN}/${DAY}?reason=${encodeURIComponent('疫情流调 2026-17')}`, keys.dalian);
    expect(res.statusCode).toBe(200);
    const wb = await readWorkbook(res.rawPayload);
    const rows = rosterRows(wb.worksheets[1] as ExcelJS.Worksheet);
    expect(rows).toHaveLength(4);
    for (const r of rows) expect(r.idNumber).toMatch(/^\d{17}[\dX]$/);
    const audit = await t.services.repos.audit.list({ action: 'report.download', limit: 10 });
    expect(audit[0]).toMatchObject({ subject: `${DALIAN}/${DAY}`, reason: '疫情流调 2026-17', details: { via: 'key', masked: false } });
  });

  it('when a download is not entitled, then it is refused with a precise 4xx', async () => {
    expect((await api('GET', `/api/v1/reports/${DALIAN}/${DAY}?reason=check`)).statusCode).toBe(401);
    const other = await api('GET', `/api/v1/reports/${DALIAN}/${DAY}?reason=check`, keys.shenyang);
    expect(other.statusCode).toBe(403);
    expect(other.json()).toMatchObject({ code: 'AUTH_CITY' });
    expect((await api('GET', `/api/v1/reports/${DALIAN}/${DAY}?reason=check`, keys.station)).statusCode).toBe(403);
    const noReason = await api('GET', `/api/v1/reports/${DALIAN}/${DAY}`, keys.dalian);
    expect(noReason.statusCode).toBe(400);
    expect(noReason.json<{ message: string }>().message).toContain('reason');
    const badDate = await api('GET', `/api/v1/reports/${DALIAN}/2026-02-30?reason=check`, keys.dalian);
    expect(badDate.statusCode).toBe(400);
    const expired = await t.app.inject({ method: 'GET', url: `/api/v1/reports/${DALIAN}/${DAY}?exp=1000&sig=${'A'.repeat(43)}` });
    expect(expired.statusCode).toBe(401);
  });

  it('when recipients are set, then only an admin may do it, the body is validated and the status list is scoped by city', async () => {
    const url = '/api/v1/cities/210300/recipients';
    const body = { emails: ['JT@Anshan.example.cn', 'jt@anshan.example.cn'], attach: true };
    expect((await api('PUT', url, undefined, body)).statusCode).toBe(401);
    expect((await api('PUT', url, keys.shenyang, body)).statusCode).toBe(403);
    const bad = await api('PUT', url, keys.admin, { emails: ['not-an-address'], attach: 'yes' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'INPUT_INVALID' });
    expect((await api('PUT', url, keys.admin, { ...body, cc: [] })).statusCode).toBe(400);
    expect((await api('PUT', '/api/v1/cities/999900/recipients', keys.admin, body)).statusCode).toBe(404);
    expect(await createReportStore(t.services.database.db).recipients('210300')).toBeNull();
    const ok = await api('PUT', url, keys.admin, body);
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ city: '210300', emails: ['jt@anshan.example.cn'], attach: true });

    const scoped = await api('GET', `/api/v1/reports?date=${DAY}`, keys.shenyang);
    expect(scoped.json<{ reports: { city: string }[] }>().reports.map((r) => r.city)).toEqual([SHENYANG]);
    expect((await api('GET', `/api/v1/reports?city=${DALIAN}`, keys.shenyang)).statusCode).toBe(403);
    const all = await api('GET', `/api/v1/reports?date=${DAY}`, keys.admin);
    expect(all.json<{ reports: { city: string; status: string }[] }>().reports).toEqual([
      expect.objectContaining({ city: SHENYANG, status: 'sent' }), expect.objectContaining({ city: DALIAN, status: 'sent' }),
    ]);
  });
});
