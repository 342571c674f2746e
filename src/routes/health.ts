import type { FastifyInstance } from 'fastify';
import type { Services } from '../services.js';

/** 200 when PostgreSQL and Redis answer; 503 naming what failed. */
export async function healthRoutes(app: FastifyInstance, opts: { services: Services }): Promise<void> {
  const { services } = opts;
  app.get('/healthz', async (_request, reply) => {
    const [db, redis] = await Promise.allSettled([services.database.ping(), withTimeout(services.redis.ping(), 2000)]);
    const failed = [...(db.status === 'rejected' ? ['postgres'] : []), ...(redis.status === 'rejected' ? ['redis'] : [])];
    if (failed.length === 0) return { status: 'ok' };
    return reply.status(503).send({ status: 'unavailable', failed });
  });
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error('timeout')), ms); });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
