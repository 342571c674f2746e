import { once } from 'node:events';
import type { Writable } from 'node:stream';
import ExcelJS from 'exceljs';
import type { Locale } from '../contracts/conversation.js';
import type { Translator } from '../i18n/i18n.js';
import type { Db } from '../store/db.js';
import type { Vault } from '../store/vault.js';
import { cityName } from '../validation/places.js';
import { reportCounts, rosterChunks, tripPages, type ReportCounts, type ReportPassenger, type ReportTrip } from './data.js';
import { chinaDateTime, reportDayRange } from './day.js';

/**
 * One city's report for one day as an xlsx written with exceljs' STREAMING writer: a summary sheet (counts + one row
 * per trip) and one roster sheet per trip. Rows are committed as they are written and each sheet is committed before
 * the next one starts, so memory holds about one page of passengers whatever the size of the day.
 */
export interface ReportWorkbookDeps { db: Db; vault: Vault; translator: Translator }

export interface ReportWorkbookOptions {
  city: string;
  date: string;
  /** Names, identity numbers, phones and addresses masked (everything except an entitled download). */
  masked: boolean;
  locale: Locale;
  now?: Date | undefined;
}

export interface ReportWorkbookResult { counts: ReportCounts; rows: number; sheets: number }

export const COUNT_KEYS = ['trips', 'declared', 'registered', 'arrived', 'absent', 'missing', 'alerts'] as const satisfies readonly (keyof ReportCounts)[];
export const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** Excel sheet names: ≤ 31 characters, none of []:*?/\ . */
export function rosterSheetName(trip: Pick<ReportTrip, 'code' | 'plate'>): string {
  return `${trip.code} ${trip.plate}`.replace(/[[\]:*?/\\]/g, '_').slice(0, 31);
}

/** Waits while the destination is saturated, so a slow reader (an HTTP client, a disk) slows the producer down. */
async function pace(out: Writable): Promise<void> {
  if (out.writableNeedDrain) await once(out, 'drain');
  else await new Promise<void>((resolve) => setImmediate(resolve));
}

export async function writeReportWorkbook(deps: ReportWorkbookDeps, options: ReportWorkbookOptions, out: Writable): Promise<ReportWorkbookResult> {
  const { db, vault, translator } = deps;
  const { city, date, masked, locale } = options;
  const t = (key: string, params?: Record<string, string | number>) => translator.t(locale, `reports.${key}`, params);
  const range = reportDayRange(date);
  const name = cityName(city) ?? city;
  const none = t('none');

  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useStyles: false, useSharedStrings: false, zip: { zlib: { level: 1 } } });
  workbook.creator = 'boardroll';
  workbook.created = options.now ?? new Date();
  const done = new Promise<void>((resolve, reject) => {
    out.once('error', reject);
    out.once('finish', () => resolve());
  });

  const counts = await reportCounts(db, city, range);
  const summary = workbook.addWorksheet(t('sheet.summary'));
  summary.columns = [{ width: 12 }, { width: 12 }, { width: 12 }, { width: 18 }, { width: 22 }, { width: 22 }, { width: 9 }, { width: 9 }, { width: 9 }, { width: 9 }, { width: 9 }];
  summary.addRow([t('sheet.title', { city_name: name, city, date })]).commit();
  summary.addRow([t('sheet.generated', { at: chinaDateTime(options.now ?? new Date()) })]).commit();
  summary.addRow([t(masked ? 'sheet.masked' : 'sheet.unmasked')]).commit();
  summary.addRow([]).commit();
  summary.addRow([t('sheet.item'), t('sheet.value')]).commit();
  for (const key of COUNT_KEYS) summary.addRow([t(`counts.${key}`), counts[key]]).commit();
  summary.addRow([]).commit();
  summary.addRow([t('sheet.trips_header')]).commit();
  summary.addRow([
    t('trip.code'), t('trip.plate'), t('trip.trip_number'), t('trip.departure'), t('trip.origin'), t('trip.destination'),
    t('counts.declared'), t('counts.registered'), t('counts.arrived'), t('counts.absent'), t('counts.missing'),
  ]).commit();
  let tripCount = 0;
  for await (const page of tripPages(db, city, range)) {
    for (const trip of page) {
      tripCount += 1;
      summary.addRow([
        trip.code, trip.plate, trip.tripNumber ?? none, chinaDateTime(trip.departureAt), trip.originText, trip.destinationText,
        trip.declared, trip.registered, trip.arrived, trip.registered - trip.arrived, Math.max(0, trip.declared - trip.registered),
      ]).commit();
    }
    await pace(out);
  }
  if (tripCount === 0) summary.addRow([t('sheet.empty_day')]).commit();
  summary.commit();

  // rosterChunks hands over the values as this reader may see them (masked or opened).
  const cell = {
    name: (v: string) => v,
    id: (v: string) => v,
    phone: (v: string | null) => v ?? '',
    address: (v: string | null) => v ?? '',
  };
  const header = [
    t('roster.index'), t('roster.name'), t('roster.id_type'), t('roster.id_number'), t('roster.phone'), t('roster.address_before'),
    t('roster.address_beijing'), t('roster.channel'), t('roster.registered_by'), t('roster.registered_at'), t('roster.arrived_at'),
  ];
  const passengerRow = (n: number, p: ReportPassenger) => [
    n, cell.name(p.name), t(`id_types.${p.idType}`), cell.id(p.idNumber), cell.phone(p.phone), cell.address(p.addressBefore),
    cell.address(p.addressBeijing), t(`channels.${p.channel}`), t(`registered_by.${p.registeredBy}`), chinaDateTime(p.createdAt),
    p.arrivedAt === null ? '' : chinaDateTime(p.arrivedAt),
  ];

  let rows = 0;
  let sheets = 1;
  for await (const page of tripPages(db, city, range)) {
    let sheet: ExcelJS.Worksheet | null = null;
    let n = 0;
    for await (const chunk of rosterChunks(db, vault, page, { masked })) {
      if (chunk.first) {
        const { trip } = chunk;
        sheet = workbook.addWorksheet(rosterSheetName(trip));
        sheets += 1;
        n = 0;
        sheet.columns = [{ width: 6 }, { width: 14 }, { width: 16 }, { width: 22 }, { width: 14 }, { width: 24 }, { width: 24 }, { width: 12 }, { width: 16 }, { width: 17 }, { width: 17 }];
        sheet.addRow([t('trip.line', {
          code: trip.code, plate: trip.plate, trip_number: trip.tripNumber ?? none, departure: chinaDateTime(trip.departureAt),
          origin: trip.originText, destination: trip.destinationText, declared: trip.declared, registered: trip.registered, arrived: trip.arrived,
        })]).commit();
        sheet.addRow(header).commit();
      }
      if (!sheet) throw new Error('roster chunk without a sheet');
      for (const p of chunk.passengers) {
        n += 1;
        sheet.addRow(passengerRow(n, p)).commit();
      }
      rows += chunk.passengers.length;
      if (chunk.last) sheet.commit();
      await pace(out);
    }
  }
  await workbook.commit();
  await done;
  return { counts, rows, sheets };
}
