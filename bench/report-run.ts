/**
 * One report benchmark in a process of its own (bench/run.ts starts it with a bounded heap, as a report worker
 * would run: `node --max-old-space-size=…`): seeds a day over a fresh database, builds every city's workbook, prints
 * the result as one JSON line on stdout. Arguments: registrations, cities.
 */
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { loadConfig } from '../src/config.js';
import { openServices } from '../src/services.js';
import { dropRedisPrefix, freshDatabase, serviceEnv, SHARED_PG_URL, SHARED_REDIS_URL } from './harness.js';
import { benchReports } from './reports.js';

const registrations = Number(process.argv[2] ?? 1_000_000);
const cities = Number(process.argv[3] ?? 14);
const db = await freshDatabase(SHARED_PG_URL);
const prefix = `bench-${randomUUID().slice(0, 8)}`;
const config = loadConfig(serviceEnv({ databaseUrl: db.url, redisUrl: SHARED_REDIS_URL, prefix, aes: false, logLevel: 'warn' }));
const services = await openServices(config, { logger: pino({ level: 'warn' }, pino.destination(2)) });
try {
  const result = await benchReports({ services, registrations, cities });
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  await services.close();
  await dropRedisPrefix(SHARED_REDIS_URL, prefix);
  await db.drop();
}
