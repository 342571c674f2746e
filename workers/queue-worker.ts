import { Queue, Worker, type Processor } from 'bullmq';
import type { QueueName } from '../src/contracts/jobs.js';
import { bullConnection, bullPrefix, type Services } from '../src/services.js';

export interface QueueWorker { worker: Worker; queue: Queue; close(): Promise<void> }

/**
 * A queue and its worker on their own connections (a blocking worker needs its own); `close()` lets running jobs
 * finish, then disconnects both. `processorFor` gets the queue (a processor may fan out onto it).
 */
export function startQueueWorker(services: Services, name: QueueName, processorFor: (queue: Queue) => Processor, options: { concurrency: number }): QueueWorker {
  const { config } = services;
  const queueConnection = bullConnection(config);
  const workerConnection = bullConnection(config);
  const queue = new Queue(name, { connection: queueConnection, prefix: bullPrefix(config) });
  queue.on('error', (err) => services.log.warn({ queue: name, err: err.message }, 'queue error'));
  const worker = new Worker(name, processorFor(queue), { connection: workerConnection, prefix: bullPrefix(config), concurrency: options.concurrency });
  return {
    worker,
    queue,
    async close() {
      await worker.close();
      await queue.close();
      queueConnection.disconnect();
      workerConnection.disconnect();
    },
  };
}
