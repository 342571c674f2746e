import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { and, count, eq, isNull } from 'drizzle-orm';
import nodemailer from 'nodemailer';
import { ConflictError, UpstreamError } from '../errors.js';
import type { Services } from '../services.js';
import { isMemoryDataDir } from '../store/db.js';
import { staffMembers } from '../store/schema.js';
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
  const wechat = await wechatDelivery(services, city);
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
  const link = reportLinkUrl(services.config.publicBaseUrl, reportLinkKey(services.config.masterKey ?? ''), city, date, now);
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

/**
 * WeChat template messages to the city's enrolled officials. Staff identities are stored only as keyed hashes of
 * their openid (staff_members.user_key), which cannot be turned back into an openid, so no message can be addressed:
 * the outcome is recorded and delivery goes on by e-mail.
 */
async function wechatDelivery(services: Services, city: string): Promise<string> {
  const [row] = await services.database.db.select({ n: count() }).from(staffMembers)
    .where(and(eq(staffMembers.role, 'authority'), eq(staffMembers.city, city), isNull(staffMembers.revokedAt)));
  const officials = row?.n ?? 0;
  if (officials === 0) return 'skipped: no enrolled officials';
  return `skipped: ${officials} enrolled official(s), but their openids are stored only as keyed hashes`;
}
