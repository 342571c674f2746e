import { PassThrough } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AuthError, ForbiddenError, InputError, NotFoundError } from '../../errors.js';
import { isReportDate } from '../../reports/day.js';
import { reportFileName } from '../../reports/deliver.js';
import { reportLinkKey, verifyReportLink } from '../../reports/link.js';
import { createReportStore, type ReportRun } from '../../reports/store.js';
import { XLSX_TYPE, writeReportWorkbook } from '../../reports/workbook.js';
import type { Services } from '../../services.js';
import { cityName } from '../../validation/places.js';
import { bearerDoc, zodDocs } from '../ops/docs.js';
import { authenticate, parseOr400 } from './api.js';

/**
 * Daily reports over HTTP: the workbook download (an authority key of that city, unmasked and audited with a reason;
 * or the signed link from the e-mail, masked), the delivery status list, and the per-city recipients (admin).
 */
const CityCode = z.string().regex(/^\d{6}$/, 'expected a 6-digit city code such as 210100');
const ReportDate = z.string().refine(isReportDate, 'expected a calendar date YYYY-MM-DD');
const ReportParams = z.object({ city: CityCode, date: ReportDate });
const DownloadQuery = z.object({
  sig: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'expected the signature from the e-mailed link').optional(),
  exp: z.coerce.number().int().positive('expected the expiry from the e-mailed link').optional(),
  reason: z.string().trim().min(3, 'reason: say why you need this report (at least 3 characters)').max(500).optional(),
});
const ListQuery = z.object({
  city: CityCode.optional(),
  date: ReportDate.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});
const CityParams = z.object({ code: CityCode });
const RecipientsBody = z.strictObject({
  emails: z.array(z.email('expected an e-mail address such as report@jt.example.gov.cn').max(254)).max(50, 'at most 50 addresses per city'),
  attach: z.boolean({ error: 'attach: expected true or false' }),
});

function knownCity(code: string): string {
  const name = cityName(code);
  if (name === undefined) throw new NotFoundError('CITY_UNKNOWN', `no city with code ${code} (expected a GB/T 2260 city code such as 210100)`);
  return name;
}

function runJson(run: ReportRun) {
  return {
    city: run.city, cityName: cityName(run.city) ?? null, date: run.date, status: run.status, attempts: run.attempts,
    lastError: run.lastError, counts: run.counts ?? null, file: run.fileSize === null ? null : { size: run.fileSize, sha256: run.fileSha256 },
    recipients: run.recipientsCount, wechat: run.wechat, sentAt: run.sentAt?.toISOString() ?? null, updatedAt: run.updatedAt.toISOString(),
  };
}

export async function reportRoutes(app: FastifyInstance, opts: { services: Services }): Promise<void> {
  const { services } = opts;
  const store = createReportStore(services.database.db);
  const linkKey = reportLinkKey(services.config.masterKey ?? '');

  app.get('/api/v1/reports/:city/:date', {
    schema: bearerDoc({
      summary: 'The day\'s xlsx of a city: an authority key of that city (unmasked; `reason` required) or the signed e-mailed link (`exp`, `sig`; masked). Audited.',
      tags: ['reports'],
    }),
    config: zodDocs({ querystring: DownloadQuery }),
  }, async (request, reply) => {
    const raw = (request.query ?? {}) as Record<string, unknown>;
    const viaLink = raw['sig'] !== undefined || raw['exp'] !== undefined;
    const key = viaLink ? null : await authenticate(services, request, ['authority', 'admin']);
    const { city, date } = parseOr400(ReportParams, request.params);
    const q = parseOr400(DownloadQuery, request.query);
    let masked = true;
    if (key === null) {
      if (q.sig === undefined || q.exp === undefined) throw new InputError('INPUT_INVALID', 'a download link needs both exp and sig');
      const check = verifyReportLink(linkKey, city, date, q.exp, q.sig);
      if (check === 'invalid') throw new AuthError('REPORT_LINK_INVALID', 'this download link is not valid for this city and date');
      if (check === 'expired') throw new AuthError('REPORT_LINK_EXPIRED', `this download link expired at ${new Date(q.exp * 1000).toISOString()}; use an API key or the next report's link`);
    } else {
      if (key.role === 'authority' && key.city !== null && key.city !== city) throw new ForbiddenError('AUTH_CITY', `this key is limited to city ${key.city}`);
      if (q.reason === undefined) throw new InputError('INPUT_INVALID', 'reason: say why you need this report (at least 3 characters)');
      masked = key.role !== 'authority';
    }
    knownCity(city);
    await services.repos.audit.append({
      actor: key === null ? 'link' : `key:${key.id}`, action: 'report.download', subject: `${city}/${date}`,
      reason: key === null ? 'signed link from the e-mailed report' : q.reason, details: { via: key === null ? 'link' : 'key', role: key?.role ?? null, masked },
    });
    const out = new PassThrough();
    writeReportWorkbook(
      { db: services.database.db, vault: services.vault, translator: services.translator },
      { city, date, masked, locale: services.config.defaultLocale },
      out,
    ).catch((err: unknown) => {
      request.log.error({ err, city, date }, 'report download failed');
      out.destroy(err instanceof Error ? err : new Error(String(err)));
    });
    return reply
      .header('content-type', XLSX_TYPE)
      .header('content-disposition', `attachment; filename="${reportFileName(city, date)}"`)
      .header('cache-control', 'no-store')
      .send(out);
  });

  app.get('/api/v1/reports', {
    schema: bearerDoc({ summary: 'Delivery status of the daily reports (admin; an authority key sees its city)', tags: ['reports'] }),
    config: zodDocs({ querystring: ListQuery }),
  }, async (request) => {
    const key = await authenticate(services, request, ['admin', 'authority']);
    const q = parseOr400(ListQuery, request.query);
    const scoped = key.role === 'authority' ? key.city : null;
    if (scoped !== null && q.city !== undefined && q.city !== scoped) throw new ForbiddenError('AUTH_CITY', `this key is limited to city ${scoped}`);
    const runs = await store.list({ city: scoped ?? q.city, date: q.date, limit: q.limit });
    return { reports: runs.map(runJson) };
  });

  app.get('/api/v1/cities/:code/recipients', {
    schema: bearerDoc({ summary: 'Who receives a city\'s daily report (admin)', tags: ['reports'] }),
  }, async (request) => {
    await authenticate(services, request, ['admin']);
    const { code } = parseOr400(CityParams, request.params);
    const name = knownCity(code);
    const row = await store.recipients(code);
    return { city: code, cityName: name, emails: row?.emails ?? [], attach: row?.attach ?? false, updatedAt: row?.updatedAt.toISOString() ?? null };
  });

  app.put('/api/v1/cities/:code/recipients', {
    schema: bearerDoc({ summary: 'Set who receives a city\'s daily report by e-mail, and whether the workbook is attached (admin)', tags: ['reports'] }),
    config: zodDocs({ body: RecipientsBody }),
  }, async (request) => {
    const key = await authenticate(services, request, ['admin']);
    const { code } = parseOr400(CityParams, request.params);
    const body = parseOr400(RecipientsBody, request.body);
    const name = knownCity(code);
    const emails = [...new Set(body.emails.map((e) => e.trim().toLowerCase()))];
    const row = await store.setRecipients(code, emails, body.attach);
    await services.repos.audit.append({ actor: `key:${key.id}`, action: 'report.recipients', subject: code, details: { emails: emails.length, attach: body.attach } });
    return { city: code, cityName: name, emails: row.emails, attach: row.attach, updatedAt: row.updatedAt.toISOString() };
  });
}
