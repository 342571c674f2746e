import { parseArgs } from 'node:util';
import { ensureDevSecrets } from '../bootstrap.js';
import { loadConfig } from '../config.js';
import { AppError } from '../errors.js';
import { citiesWithTrips } from '../reports/data.js';
import { isReportDate, reportDayRange } from '../reports/day.js';
import { runCityReport, type RunOutcome } from '../reports/deliver.js';
import { createReportStore } from '../reports/store.js';
import { openServices, type Services } from '../services.js';
import { asRelayCommand, cliLogger, runWhenEntry, UsageError } from './cli-runtime.js';
import { RelayCommandError, runThroughService } from './relay.js';

/**
 * `npm run report -- --date YYYY-MM-DD [--city CODE] [--send]`: builds each city's report of that day into
 * DATA_DIR/reports/<date>/<city>.xlsx (masked) exactly as the report worker does, and with --send delivers it
 * (once per city and day: a run that finds the day sent sends nothing). One line per city on stdout; logs on stderr.
 * Exit status 1 when a city failed.
 */
const USAGE = 'usage: npm run report -- --date YYYY-MM-DD [--city CODE] [--send]';


function line(outcome: RunOutcome): string {
  const c = outcome.counts;
  const counts = c === null ? 'counts=unknown' : `trips=${c.trips} declared=${c.declared} registered=${c.registered} arrived=${c.arrived} missing=${c.missing} alerts=${c.alerts}`;
  return [
    outcome.city, outcome.date, outcome.status, counts, `rows=${outcome.rows}`, `emailed=${outcome.emailed}`,
    `file=${outcome.filePath ?? '-'}`, ...(outcome.note ? [`note="${outcome.note}"`] : []),
  ].join(' ');
}

interface ReportArgs { date: string; city: string | undefined; send: boolean }

function parseReportArgs(argv: string[]): ReportArgs {
  const { values } = parseArgs({ args: argv, strict: true, options: { date: { type: 'string' }, city: { type: 'string' }, send: { type: 'boolean', default: false }, help: { type: 'boolean' } } });
  if (values.help) throw new UsageError('');
  const date = values.date;
  if (date === undefined || !isReportDate(date)) throw new UsageError(`--date: expected a calendar date YYYY-MM-DD${date === undefined ? '' : `, got "${date.slice(0, 20)}"`}`);
  if (values.city !== undefined && !/^\d{6}$/.test(values.city)) throw new UsageError(`--city: expected a 6-digit city code such as 210100, got "${values.city.slice(0, 20)}"`);
  return { date, city: values.city, send: values.send };
}

/** Builds (and sends) each city's report with open services; one line per city through `write`; returns the exit status. */
async function report(services: Services, args: ReportArgs, write: (line: string) => void, warn: (line: string) => void): Promise<number> {
  const { date } = args;
  const cities = args.city !== undefined
    ? [args.city]
    : [...new Set([...await citiesWithTrips(services.database.db, reportDayRange(date)), ...await createReportStore(services.database.db).recipientCities()])].sort();
  if (cities.length === 0) warn(`no city has trips on ${date} and none has report recipients`);
  let failed = 0;
  for (const city of cities) {
    try {
      write(line(await runCityReport(services, { city, date, send: args.send, holder: `cli:${process.pid}` })));
    } catch (err) {
      failed += 1;
      const code = err instanceof AppError ? err.code : 'REPORT_FAILED';
      write(`${city} ${date} failed code=${code} error="${err instanceof Error ? err.message : String(err)}"`);
    }
  }
  return failed > 0 ? 1 : 0;
}

/** `npm run report -- …` run inside the embedded service through the relay (src/cli/relay.ts). */
export async function runReportInService(argv: string[], services: Services, out: (line: string) => void): Promise<void> {
  await asRelayCommand(USAGE, async () => {
    const status = await report(services, parseReportArgs(argv), out, out);
    if (status !== 0) throw new RelayCommandError('some cities failed', status);
  });
}

async function run(argv: string[]): Promise<number> {
  const args = parseReportArgs(argv);
  const log = cliLogger();
  const config = loadConfig(await ensureDevSecrets(process.env, log));
  let services: Services;
  try {
    services = await openServices(config, { logger: log });
  } catch (err) {
    // The embedded store is open in `npm start`: let the running service build the reports.
    if (!(err instanceof AppError && err.code === 'STORE_DATA_DIR_LOCKED')) throw err;
    const exit = await runThroughService(config.dataDir, 'report', argv);
    if (exit === null) throw err;
    return exit;
  }
  try {
    return await report(services, args, (l) => process.stdout.write(`${l}\n`), (l) => process.stderr.write(`${l}\n`));
  } finally {
    await services.close();
  }
}

runWhenEntry(import.meta.url, 'report', USAGE, run);
