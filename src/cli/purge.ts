import { parseArgs } from 'node:util';
import { ensureDevSecrets } from '../bootstrap.js';
import { loadConfig, type Config } from '../config.js';
import { asRelayCommand, cliLogger, openStoreForCli, runWhenEntry, UsageError } from './cli-runtime.js';
import { createAuditRepository } from '../store/audit.js';
import type { Database } from '../store/db.js';
import { openKeyRing } from '../store/key-ring.js';
import { createRetention } from '../store/retention.js';
import { createVault } from '../store/vault.js';

/**
 * `npm run purge -- [--as-of YYYY-MM-DD]`: the retention purge the worker runs daily, now, or as if it were the end
 * of that day (Asia/Shanghai). Sensitive values of trips that left RETENTION_DAYS before go; trip and passenger rows
 * and their counts stay; the run is written to the audit log. One line of counts on stdout. Opens only the database.
 */
const USAGE = 'usage: npm run purge -- [--as-of YYYY-MM-DD]';

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

/** `npm run purge -- …` run inside the embedded service through the relay (src/cli/relay.ts). */
export async function runPurgeInService(argv: string[], store: { database: Database; config: Config }, out: (line: string) => void): Promise<void> {
  await asRelayCommand(USAGE, () => purge(store.database, store.config, parsePurgeArgs(argv), out));
}

async function run(argv: string[]): Promise<void> {
  const asOf = parsePurgeArgs(argv);
  const log = cliLogger();
  const config = loadConfig(await ensureDevSecrets(process.env, log));
  let database: Database | null = null;
  try {
    database = await openStoreForCli(config, log, { command: 'purge', argv });
    await purge(database, config, asOf, (l) => process.stdout.write(`${l}\n`));
  } finally {
    await database?.close();
  }
}

runWhenEntry(import.meta.url, 'purge', USAGE, run);
