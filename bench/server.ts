/**
 * The server side of the benchmarks, run as a child process by bench/harness.ts `startServer`:
 * - `service <trips>`: the real service, buildApp(openServices(loadConfig(env))) on 127.0.0.1:0, after creating
 *   <trips> open trips (non-Beijing, departing tomorrow) straight through the trip repository;
 * - `bare`: a bare Fastify hello route (the reference figure), same Node, same machine.
 * - `worker`: workers only (the fault run kills this one mid-job).
 * Reports `{ port, trips }` to the parent over IPC; SIGTERM closes everything.
 */
import Fastify from 'fastify';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { openServices } from '../src/services.js';
import { startWorkers } from '../workers/main.js';

const [mode = 'service', tripsArg = '0'] = process.argv.slice(2);

function send(message: unknown): void {
  if (process.send) process.send(message);
}

async function main(): Promise<void> {
  if (mode === 'bare') {
    const app = Fastify({ logger: false });
    app.get('/', async () => ({ hello: 'world' }));
    app.post('/', async () => 'success');
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    send({ port: typeof address === 'object' && address ? address.port : 0, trips: [] });
    process.once('SIGTERM', () => { void app.close().then(() => process.exit(0)); });
    return;
  }
  const config = loadConfig(process.env);
  const services = await openServices(config);
  if (mode === 'worker') {
    const workers = await startWorkers(services);
    send({ port: 0, trips: [] });
    process.once('SIGTERM', () => { void workers.close().then(() => services.close()).then(() => process.exit(0)); });
    return;
  }
  const trips = [];
  const departure = new Date(Date.now() + 24 * 3600_000);
  for (let i = 0; i < Number(tripsArg); i++) {
    const trip = await services.repos.trips.create({
      plate: `辽A${String(10000 + i).padStart(5, '0')}`, plateCity: '210100', declaredCount: 999,
      driver: { name: '张建国', phone: '13812345678' }, registrant: null, crew: null, tripNumber: `K${1000 + i}`,
      departureAt: departure, originText: '沈阳北站', originCity: '210100', destinationText: '大连', destinationCity: '210200',
      beijingBound: false, reportingCity: '210100', createdBy: null,
    });
    trips.push({ id: trip.id, code: trip.code });
  }
  const app = await buildApp(services);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  send({ port: typeof address === 'object' && address ? address.port : 0, trips });
  process.once('SIGTERM', () => {
    void app.close().then(() => services.close()).then(() => process.exit(0));
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`bench server failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
