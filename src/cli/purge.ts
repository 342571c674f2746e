import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { z } from 'zod';
import { ensureDevSecrets } from '../bootstrap.js';
import { loadConfig, type Config } from '../config.js';
import { AppError } from '../errors.js';
import { RelayCommandError, runThroughService } from './relay.js';
import { loggerOptions } from '../logger.js';
import { createAuditRepository } from '../store/audit.js';
import { migrateDatabase, openDatabase, type Database } from '../store/db.js';
import { openKeyRing } from '../store/key-ring.js';
import { createRetention } from '../store/retention.js';
import { createVault } from '../store/vault.js';

/**
 * `npm run purge -- [--as-of YYYY-MM-DD]`: the retention purge the worker runs daily, now, or as if it were the end
 * of that day (Asia/Shanghai). Sensitive values of trips that left RETENTION_DAYS before go; trip and passenger rows
 * and their counts stay; the run is written to the audit log. One line of counts on stdout. Opens only the database.
 */
const USAGE = 'usage: npm run purge -- [--as-of YYYY-MM-DD]';

class UsageError extends Error {}

/** The end of a China calendar day, or undefined for a date that is not a real calendar date. */
export function endOfChinaDay(date: string): Date | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const utc = new Date(Date.UTC(y, mo - 1, d));
  if (utc.getUTCFullYear() !== y || utc.getUTCMonth() !== mo - 1 || utc.getUTCDate() !== d) return undefined;
  // 24:00 China time (UTC+8, no daylight saving) minus 1 ms.
  return new Date(utc.getTime() + 86_400_000 - 8 * 3_600_000 - 1);
}

function parsePurgeArgs(argv: string[]): Date {
  const { values, positionals } = parseArgs({ args: argv, strict: true, allowPositionals: true, options: { 'as-of': { type: 'string' }, help: { type: 'boolean' } } });
  if (values.help) throw new UsageError('');
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${(positionals[0] ?? '').slice(0, 20)}"`);
  const asOfText = values['as-of'];
  const asOf = asOfText === undefined ? new Date() : endOfChinaDay(asOfText);
  if (asOf === undefined) throw new UsageError(`--as-of: expected a calendar date YYYY-MM-DD, got "${(asOfText ?? '').slice(0, 20)}"`);
  return asOf;
}

/** The purge over an open database; one line of counts through `write`. */
async function purge(database: Database, config: Config, asOf: Date, write: (line: string) => void): Promise<void> {
  if (!config.masterKey) throw new Error('BOARDROLL_MASTER_KEY is required');
  const ring = await openKeyRing(database.db, { masterKey: config.masterKey, previousMasterKey: config.previousMasterKey });
  const vault = createVault(database.db, ring.keys, { ring });
  const retention = createRetention({ db: database.db, vault, retentionDays: config.retentionDays, audit: createAuditRepository({ db: database.db }) });
  const result = await retention.purge(asOf, { actor: 'cli' });
  write(`purged as of ${asOf.toISOString()} (RETENTION_DAYS=${config.retentionDays}): values=${result.values} trips=${result.trips} passengers=${result.passengers} preregistrations=${result.preregistrations}`);
}

function isUsage(err: unknown): boolean {
  return err instanceof UsageError || (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS'));
}

/** `npm run purge -- …` run inside the embedded service through the relay (src/cli/relay.ts). */
export async function runPurgeInService(argv: string[], store: { database: Database; config: Config }, out: (line: string) => void): Promise<void> {
  let asOf: Date;
  try {
    asOf = parsePurgeArgs(argv);
  } catch (err) {
    if (isUsage(err)) throw new RelayCommandError(`${err instanceof Error && err.message ? `${err.message}\n` : ''}${USAGE}`, 2);
    throw err;
  }
  await purge(store.database, store.config, asOf, out);
}

/** Exit status decided by the service that ran the command through the relay. */
class RelayedExit extends Error {
  constructor(readonly exitCode: number) { super('relayed'); }
}

async function run(argv: string[]): Promise<void> {
  const asOf = parsePurgeArgs(argv);
  const log = pino({ ...loggerOptions({ logLevel: 'warn', logPretty: false }) }, pino.destination(2));
  const env = await ensureDevSecrets(process.env, log);
  const config = loadConfig(env);
  let database: Database | null = null;
  try {
    try {
      database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 2, onPoolError: (err) => log.warn({ err: err.message }, 'database pool error') });
    } catch (err) {
      // The embedded store is open in `npm start`: let the running service purge.
      if (!(err instanceof AppError && err.code === 'STORE_DATA_DIR_LOCKED')) throw err;
      const exit = await runThroughService(config.dataDir, 'purge', argv);
      if (exit === null) throw err;
      throw new RelayedExit(exit);
    }
    await migrateDatabase(database);
    await purge(database, config, asOf, (l) => process.stdout.write(`${l}\n`));
  } finally {
    await database?.close();
  }
}

const isEntry = process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (isEntry) run(process.argv.slice(2)).then(
  () => { process.exitCode = 0; },
  (err: unknown) => {
    if (err instanceof RelayedExit) {
      process.exitCode = err.exitCode;
      return;
    }
    if (err instanceof UsageError || (err instanceof Error && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS'))) {
      process.stderr.write(`${err.message ? `${err.message}\n` : ''}${USAGE}\n`);
      process.exitCode = 2;
      return;
    }
    if (err instanceof z.ZodError) {
      process.stderr.write(`configuration error:\n${z.prettifyError(err)}\n`);
      process.exitCode = 1;
      return;
    }
    process.stderr.write(`purge failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
