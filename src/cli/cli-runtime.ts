import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { pino, type Logger } from 'pino';
import { z } from 'zod';
import type { Config } from '../config.js';
import { AppError } from '../errors.js';
import { loggerOptions } from '../logger.js';
import { migrateDatabase, openDatabase, type Database } from '../store/db.js';
import { RelayCommandError, runThroughService } from './relay.js';

/** What the CLI commands (`keys`, `report`, `purge`) share: usage errors, logging, opening the store, the exit code. */

/** A bad command line: exit 2 with the usage text. */
export class UsageError extends Error {}

/** An exit code already decided by the service that ran the command through the relay. */
export class RelayedExit extends Error {
  constructor(readonly exitCode: number) { super('relayed'); }
}

export function isUsageError(err: unknown): err is Error {
  return err instanceof UsageError || (err instanceof Error && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS'));
}

/** Warnings and errors on stderr; stdout stays for the command's answer. */
export function cliLogger(): Logger {
  return pino({ ...loggerOptions({ logLevel: 'warn', logPretty: false }) }, pino.destination(2));
}

/**
 * Opens (and migrates) the store the service uses. When the embedded store is held by a running `npm start`, the
 * command runs in that service instead (src/cli/relay.ts) and this throws RelayedExit with its exit code.
 */
export async function openStoreForCli(config: Config, log: Logger, relay: { command: string; argv: string[] }): Promise<Database> {
  let database: Database;
  try {
    database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 2, onPoolError: (err) => log.warn({ err: err.message }, 'database pool error') });
  } catch (err) {
    if (!(err instanceof AppError && err.code === 'STORE_DATA_DIR_LOCKED')) throw err;
    const exit = await runThroughService(config.dataDir, relay.command, relay.argv);
    if (exit === null) throw err;
    throw new RelayedExit(exit);
  }
  await migrateDatabase(database);
  return database;
}

/** Inside the service (relay handler): usage errors become exit 2 with the usage text. */
export async function asRelayCommand(usage: string, run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (err) {
    if (isUsageError(err)) throw new RelayCommandError(`${err.message ? `${err.message}\n` : ''}${usage}`, 2);
    throw err;
  }
}

/** Runs `main` when this module is the process entry point, mapping failures to exit codes and stderr messages. */
export function runWhenEntry(moduleUrl: string, name: string, usage: string, main: (argv: string[]) => Promise<number | void>): void {
  const entry = process.argv[1];
  if (entry === undefined || moduleUrl !== pathToFileURL(resolve(entry)).href) return;
  main(process.argv.slice(2)).then(
    (status) => { process.exitCode = status ?? 0; },
    (err: unknown) => {
      if (err instanceof RelayedExit) {
        process.exitCode = err.exitCode;
      } else if (isUsageError(err)) {
        process.stderr.write(`${err.message ? `${err.message}\n` : ''}${usage}\n`);
        process.exitCode = 2;
      } else if (err instanceof z.ZodError) {
        process.stderr.write(`configuration error:\n${z.prettifyError(err)}\n`);
        process.exitCode = 1;
      } else {
        process.stderr.write(`${name} failed: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exitCode = 1;
      }
    },
  );
}
