import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import nodemailer from 'nodemailer';
import { ConflictError, UpstreamError } from '../errors.js';
import type { Services } from '../services.js';
import { isMemoryDataDir } from '../store/db.js';
import { jobId, type OutboundJob } from '../contracts/jobs.js';
import { sealRecipient } from '../security/recipient.js';
import { cityName } from '../validation/places.js';
import type { ReportCounts } from './data.js';
import { chinaDateTime } from './day.js';
import { reportLinkKey, reportLinkUrl } from './link.js';
import { createReportStore, type ReportFile } from './store.js';
import { COUNT_KEYS, XLSX_TYPE, writeReportWorkbook } from './workbook.js';

/**
 * One city's report for one day, built and (with `send`) delivered exactly once. The report_runs row is the ledger:
 * claimed before anything happens, marked `sent` only after the SMTP server accepted the message, and a run that
 * finds it sent does nothing. The worker and the CLI both come through here.
 */
export interface RunCityReportOptions {
  city: string;
  date: string;
  /** Deliver (e-mail, WeChat); false: build and keep the file only. */
  send: boolean;
  /** Who runs it: `job:<jobId>` (a retried job takes its own claim back) or `cli:<pid>`. */
  holder: string;
  now?: Date | undefined;
}

export type RunStatus = 'sent' | 'built' | 'already-sent';

export interface RunOutcome {
  city: string;
  date: string;
  status: RunStatus;
  filePath: string | null;
  counts: ReportCounts | null;
  /** Passenger rows written (0 when nothing was built). */
  rows: number;
  emailed: number;
  note: string | null;
}

export function reportsDir(dataDir: string): string {
  return isMemoryDataDir(dataDir) ? join(tmpdir(), 'boardroll-reports') : join(resolve(dataDir), 'reports');
}

export function reportFilePath(dataDir: string, city: string, date: string): string {
  return join(reportsDir(dataDir), date, `${city}.xlsx`);
}

export function reportFileName(city: string, date: string): string {
  return `boardroll-${city}-${date}.xlsx`;
}

/** Stable per city and day: a receiving system that sees the same Message-ID twice can drop the repeat. */
export function reportMessageId(city: string, date: string): string {
  return `<report-${city}-${date}@boardroll>`;
}

function asCounts(value: Record<string, number> | null): ReportCounts | null {
  if (value === null) return null;
  const out = {} as ReportCounts;
  for (const key of COUNT_KEYS) out[key] = value[key] ?? 0;
  return out;
}

/** Builds the masked workbook into DATA_DIR/reports/<date>/<city>.xlsx (written aside, then renamed into place). */
export async function buildReportFile(services: Services, city: string, date: string, now: Date = new Date()): Promise<{ file: ReportFile; counts: ReportCounts; rows: number }> {
  const path = reportFilePath(services.config.dataDir, city, date);
  await mkdir(join(path, '..'), { recursive: true, mode: 0o700 });
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const hash = createHash('sha256');
  let size = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      size += chunk.length;
      callback(null, chunk);
    },
  });
  const written = pipeline(meter, createWriteStream(temp, { mode: 0o600 }));
  try {
    const result = await writeReportWorkbook(
      { db: services.database.db, vault: services.vault, translator: services.translator },
      { city, date, masked: true, locale: services.config.defaultLocale, now },
      meter,
    );
    await written;
    await rename(temp, path);
    return { file: { path, size, sha256: hash.digest('hex') }, counts: result.counts, rows: result.rows };
  } catch (err) {
    meter.destroy();
    await written.catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw err;
  }
}

export async function runCityReport(services: Services, options: RunCityReportOptions): Promise<RunOutcome> {
  const { city, date, holder } = options;
  const now = options.now ?? new Date();
  const store = createReportStore(services.database.db);
  const log = services.log.child({ city, date, holder });

  if (!options.send) {
    const built = await buildReportFile(services, city, date, now);
    await store.recordFile(city, date, built.file, { ...built.counts });
    return { city, date, status: 'built', filePath: built.file.path, counts: built.counts, rows: built.rows, emailed: 0, note: null };
  }

  const { claimed, current } = await store.claim(city, date, holder, now);
  if (!claimed) {
    if (current?.status === 'sent') {
      return { city, date, status: 'already-sent', filePath: current.filePath, counts: asCounts(current.counts), rows: 0, emailed: 0, note: null };
    }
    throw new ConflictError('REPORT_RUN_BUSY', `the ${city} report of ${date} is being delivered by ${current?.leaseHolder ?? 'another run'}`);
  }

  const built = await buildReportFile(services, city, date, now);
  await store.recordFile(city, date, built.file, { ...built.counts });
  const link = reportLinkUrl(services.config.publicBaseUrl, reportLinkKey(services.config.masterKey ?? ''), city, date, now);
  const wechat = await wechatDelivery(services, city, date, built.counts, link);
  const recipients = await store.recipients(city);
  const emails = recipients?.emails ?? [];
  const base = { city, date, filePath: built.file.path, counts: built.counts, rows: built.rows };

  if (!services.config.smtpUrl || emails.length === 0) {
    const note = !services.config.smtpUrl ? 'SMTP_URL is not set: the report is kept, not mailed' : 'no e-mail recipients for this city';
    await store.release(city, date, holder, 'built', note, wechat);
    log.info({ rows: built.rows, note }, 'report built, nothing to deliver');
    return { ...base, status: 'built', emailed: 0, note };
  }

  await store.countAttempt(city, date, holder);
  const t = (key: string, params?: Record<string, string | number>) => services.translator.t(services.config.defaultLocale, `reports.${key}`, params);
  const params = { city, city_name: cityName(city) ?? city, date, ...built.counts };
  const messageId = reportMessageId(city, date);
  const transport = nodemailer.createTransport(services.config.smtpUrl);
  try {
    const info = await transport.sendMail({
      from: services.config.smtpFrom,
      to: emails,
      subject: t('email.subject', params),
      text: t('email.body', {
        ...params, link: link.url, expires: chinaDateTime(link.expiresAt),
        attachment: t(recipients?.attach ? 'email.attached' : 'email.not_attached'),
      }),
      messageId,
      attachments: recipients?.attach ? [{ filename: reportFileName(city, date), path: built.file.path, contentType: XLSX_TYPE }] : [],
    });
    const rejected = info.rejected.length;
    await store.markSent(city, date, holder, { messageId, recipientsCount: info.accepted.length, wechat });
    log.info({ rows: built.rows, accepted: info.accepted.length, rejected }, 'report e-mailed');
    return { ...base, status: 'sent', emailed: info.accepted.length, note: rejected > 0 ? `${rejected} recipient(s) rejected by the mail server` : null };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    await store.release(city, date, holder, 'failed', `e-mail: ${message}`.slice(0, 1000), wechat);
    log.warn({ err: message }, 'report e-mail failed');
    throw new UpstreamError('REPORT_SMTP_FAILED', `the mail server did not accept the ${city} report of ${date}: ${message}`, { cause: err });
  } finally {
    transport.close();
  }
}

/** Outbound jobs of the report messages: kept (and so deduplicated by job id) longer than the download link lives. */
const WECHAT_JOB_OPTIONS = {
  attempts: 5, backoff: { type: 'exponential', delay: 5000 },
  removeOnComplete: { age: 8 * 86_400 }, removeOnFail: { age: 8 * 86_400 },
} as const;

/** One message per city, day and official: a retried or repeated report run adds nothing (BullMQ keeps the first job). */
export function reportWechatJobId(city: string, date: string, staffId: string): string {
  return jobId('report-wx', city, date, staffId);
}

/**
 * The report to the city's officials enrolled over WeChat (src/store/staff.ts `officialsOf`): one outbound job each,
 * a template message when WECHAT_REPORT_TEMPLATE_ID is set (fields first, city, date, summary, remark; tapping opens
 * the signed download link), a customer-service text with the link otherwise. The openid and the link travel sealed.
 * Returns the outcome recorded on the report run; enqueueing failures are recorded, never thrown (e-mail goes on).
 */
async function wechatDelivery(services: Services, city: string, date: string, counts: ReportCounts, link: { url: string; expiresAt: Date }): Promise<string> {
  const officials = await services.repos.staff.officialsOf(city);
  if (officials.length === 0) return 'skipped: no enrolled officials with a WeChat contact';
  if (!services.wechat?.api) return `skipped: ${officials.length} official(s), but WECHAT_APPID/WECHAT_APPSECRET are not configured`;
  const locale = services.config.defaultLocale;
  const templateId = services.config.wechat.reportTemplateId;
  const t = (key: string, params: Record<string, string | number>) => services.translator.t(locale, `reports.wechat.${key}`, params);
  const params = { city, city_name: cityName(city) ?? city, date, ...counts };
  const session = services.keys.session;
  try {
    for (const official of officials) {
      const id = reportWechatJobId(city, date, official.staffId);
      const job: OutboundJob = templateId
        ? {
            kind: 'wechat-template', openid: sealRecipient(session, official.openid), templateId,
            data: { first: t('first', params), city: `${params.city_name} (${city})`, date, summary: t('summary', params), remark: t('remark', params) },
            url: sealRecipient(session, link.url), clientMsgId: createHash('sha256').update(id, 'utf8').digest('hex').slice(0, 32),
          }
        : {
            kind: 'wechat-text', openid: sealRecipient(session, official.openid), key: 'reports.wechat.text', locale,
            params: { ...params, link: sealRecipient(session, link.url), expires: chinaDateTime(link.expiresAt) },
          };
      await services.queues.outbound.add(job.kind, job, { ...WECHAT_JOB_OPTIONS, jobId: id });
    }
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    services.log.warn({ city, date, err: message }, 'report WeChat messages could not be queued');
    return `failed: ${message}`.slice(0, 1000);
  }
  return `queued for ${officials.length} official(s)${templateId ? ' (template)' : ' (text)'}`;
}
