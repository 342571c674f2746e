import closeWithGrace from 'close-with-grace';
import { pino } from 'pino';
import { z } from 'zod';
import { loadConfig } from './config.js';
import { buildApp } from './app.js';
import { ensureDevSecrets, ensureRedis } from './bootstrap.js';
import { loggerOptions } from './logger.js';
import { openServices } from './services.js';
import { startWorkers } from '../workers/main.js';
import { RelayCommandError, serveCliRelay } from './cli/relay.js';
import { runPurgeInService } from './cli/purge.js';
import { runReportInService } from './cli/report.js';
import { runKeysInService } from './cli/keys.js';
import { isMemoryDataDir } from './store/db.js';

/** Entry point: `all` (web + workers), `web`, or `worker`. The only place that exits the process. */
async function main(mode: string): Promise<void> {
  const bootLog = pino(loggerOptions({ logLevel: 'info', logPretty: undefined }));
  const env = await ensureDevSecrets(process.env, bootLog);
  const redisChild = await ensureRedis(env, bootLog);
  let config;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (err instanceof z.ZodError) {
      process.stderr.write(`configuration error:\n${z.prettifyError(err)}\n`);
      process.exit(1);
    }
    throw err;
  }
  const services = await openServices(config);
  const app = mode === 'worker' ? null : await buildApp(services);
  const workers = mode === 'web' ? null : await startWorkers(services);
  // The embedded store is open here only: `npm run keys -- …` runs through this process meanwhile (src/cli/relay.ts).
  const relay = services.database.kind === 'pglite' && !isMemoryDataDir(config.dataDir)
    ? await serveCliRelay(config.dataDir, async (command, argv, out) => {
      switch (command) {
        case 'keys': return runKeysInService(argv, { database: services.database, config, out });
        case 'report': return runReportInService(argv, services, out);
        case 'purge': return runPurgeInService(argv, { database: services.database, config }, out);
        default: throw new RelayCommandError(`${command}: not available while the service runs; stop it first`, 1);
      }
    }, services.log)
    : null;
  if (app) {
    await app.listen({ host: config.host, port: config.port });
    services.log.info({ url: `http://${config.host}:${config.port}`, store: services.database.kind, simulator: config.simulator }, 'boardroll listening');
  }
  closeWithGrace({ delay: 10_000 }, async ({ err }) => {
    if (err) services.log.error({ err }, 'shutting down after an error');
    await relay?.close();
    await app?.close();
    await workers?.close();
    await services.close();
    redisChild?.stop();
  });
}

main(process.argv[2] ?? 'all').catch((err: unknown) => {
  process.stderr.write(`boardroll failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
