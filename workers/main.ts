import { Worker } from 'bullmq';
import { QUEUES } from '../src/contracts/jobs.js';
import { bullConnection, bullPrefix, type Services } from '../src/services.js';
import { createOutboundProcessor } from './processors/outbound.js';
import { createValidateProcessor } from './processors/validate.js';
import { startReportWorker } from './processors/report.js';
import { startRetentionWorker } from './processors/retention.js';
import { upstreamFailureOf } from '../src/ops/metrics.js';

/** Starts one BullMQ worker per queue; `close()` waits for running jobs (graceful shutdown). */
export async function startWorkers(services: Services): Promise<{ close(): Promise<void> }> {
  const { config, log } = services;
  const connections = [bullConnection(config)];
  const outbound = new Worker(QUEUES.outbound, createOutboundProcessor(services, { sms: (messageId) => services.sms.channel.sendMessage(messageId) }), { connection: connections[0]!, prefix: bullPrefix(config), concurrency: 8 });
  const validateConnection = bullConnection(config);
  connections.push(validateConnection);
  const validate = new Worker(QUEUES.validate, createValidateProcessor(services), { connection: validateConnection, prefix: bullPrefix(config), concurrency: 4 });
  const report = await startReportWorker(services);
  const retention = await startRetentionWorker(services);
  const workers = [outbound, validate, report.worker, retention.worker];
  for (const worker of workers) {
    worker.on('failed', (job, err) => {
      log.warn({ queue: worker.name, jobId: job?.id, attempts: job?.attemptsMade, err: err.message }, 'job failed');
      const upstream = upstreamFailureOf(job?.data, err);
      if (upstream) services.metrics.recordUpstreamError(upstream.service, upstream.code).catch((e: unknown) => log.warn({ err: e instanceof Error ? e.message : String(e) }, 'metrics update failed'));
    });
    worker.on('error', (err) => log.warn({ queue: worker.name, err: err.message }, 'worker error'));
  }
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  // SMS uplinks stored but left unprocessed by a crashed web process (src/channels/sms/sms-channel.ts).
  const smsSweep = setInterval(() => { services.sms.channel.sweep().catch((e: unknown) => log.warn({ err: e instanceof Error ? e.name : 'unknown' }, 'sms sweep failed')); }, 60_000);
  smsSweep.unref();
  return {
    async close() {
      clearInterval(smsSweep);
      await Promise.all(workers.map((w) => w.close()));
      await report.close();
      await retention.close();
      for (const c of connections) c.disconnect();
    },
  };
}
