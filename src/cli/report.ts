import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { z } from 'zod';
import { ensureDevSecrets } from '../bootstrap.js';
import { loadConfig } from '../config.js';
import { AppError } from '../errors.js';
import { loggerOptions } from '../logger.js';
import { citiesWithTrips } from '../reports/data.js';
import { isReportDate, reportDayRange } from '../reports/day.js';
import { runCityReport, type RunOutcome } from '../reports/deliver.js';
import { createReportStore } from '../reports/store.js';
import { openServices } from '../services.js';

/**
 * `npm run report -- --date YYYY-MM-DD [--city CODE] [--send]`: builds each city's report of that day into
 * DATA_DIR/reports/<date>/<city>.xlsx (masked) exactly as the report worker does, and with --send delivers it
 * (once per city and day: a run that finds the day sent sends nothing). One line per city on stdout; logs on stderr.
 * Exit status 1 when a city failed.
 */
const USAGE = 'usage: npm run report -- --date YYYY-MM-DD [--city CODE] [--send]';

class UsageError extends Error {}

function line(outcome: RunOutcome): string {
  const c = outcome.counts;
  const counts = c === null ? 'counts=unknown' : `trips=${c.trips} declared=${c.declared} registered=${c.registered} arrived=${c.arrived} missing=${c.missing} alerts=${c.alerts}`;
  return [
    outcome.city, outcome.date, outcome.status, counts, `rows=${outcome.rows}`, `emailed=${outcome.emailed}`,
    `file=${outcome.filePath ?? '-'}`, ...(outcome.note ? [`note="${outcome.note}"`] : []),
  ].join(' ');
}

async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, strict: true, options: { date: { type: 'string' }, city: { type: 'string' }, send: { type: 'boolean', default: false }, help: { type: 'boolean' } } });
  if (values.help) throw new UsageError('');
  const date = values.date;
  if (date === undefined || !isReportDate(date)) throw new UsageError(`--date: expected a calendar date YYYY-MM-DD${date === undefined ? '' : `, got "${date.slice(0, 20)}"`}`);
  if (values.city !== undefined && !/^\d{6}$/.test(values.city)) throw new UsageError(`--city: expected a 6-digit city code such as 210100, got "${values.city.slice(0, 20)}"`);

  const log = pino({ ...loggerOptions({ logLevel: 'warn', logPretty: false }) }, pino.destination(2));
  const env = await ensureDevSecrets(process.env, log);
  const config = loadConfig(env);
  const services = await openServices(config, { logger: log });
  let failed = 0;
  try {
    const cities = values.city !== undefined
      ? [values.city]
      : [...new Set([...await citiesWithTrips(services.database.db, reportDayRange(date)), ...await createReportStore(services.database.db).recipientCities()])].sort();
    if (cities.length === 0) process.stderr.write(`no city has trips on ${date} and none has report recipients\n`);
    for (const city of cities) {
      try {
        process.stdout.write(`${line(await runCityReport(services, { city, date, send: values.send, holder: `cli:${process.pid}` }))}\n`);
      } catch (err) {
        failed += 1;
        const code = err instanceof AppError ? err.code : 'REPORT_FAILED';
        process.stdout.write(`${city} ${date} failed code=${code} error="${err instanceof Error ? err.message : String(err)}"\n`);
      }
    }
  } finally {
    await services.close();
  }
  return failed > 0 ? 1 : 0;
}

run(process.argv.slice(2)).then(
  (status) => { process.exitCode = status; },
  (err: unknown) => {
    if (err instanceof UsageError || (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS'))) {
      process.stderr.write(`${err.message ? `${err.message}\n` : ''}${USAGE}\n`);
      process.exitCode = 2;
      return;
    }
    if (err instanceof z.ZodError) {
      process.stderr.write(`configuration error:\n${z.prettifyError(err)}\n`);
      process.exitCode = 1;
      return;
    }
    process.stderr.write(`report failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
