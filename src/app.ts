import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import type { Services } from './services.js';
import { AppError } from './errors.js';
import { sealRecipient } from './security/recipient.js';
import { healthRoutes } from './routes/health.js';
import { wechatRoutes } from './routes/webhooks/wechat.js';
import { smsRoutes } from './routes/webhooks/sms.js';
import { apiRoutes } from './routes/api/api.js';
import { registerOpenApi } from './routes/ops/docs.js';
import { opsRoutes, registerHttpMetrics } from './routes/ops/ops.js';
import { simulatorRoutes } from './simulator/routes.js';
import { oversightRoutes } from './routes/api/oversight.js';
import { reportRoutes } from './routes/api/reports.js';
import { auditRoutes } from './routes/api/audit.js';

/** Builds the HTTP app over already-opened services; never listens (server entry does). */
export async function buildApp(services: Services): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: services.log as FastifyBaseLogger,
    // One info line per inbound message is written by the channel routes; Fastify's two per request would triple it.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024 * 1024,
    genReqId: () => crypto.randomUUID(),
  });

  app.setErrorHandler((error: FastifyError | AppError | Error, request, reply) => {
    if (error instanceof AppError && error.statusCode < 500) {
      request.log.info({ code: error.code, status: error.statusCode }, 'request refused');
      return reply.status(error.statusCode).send({ code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) });
    }
    const fastifyError = error as FastifyError;
    if (fastifyError.validation) {
      return reply.status(400).send({ code: 'INPUT_INVALID', message: fastifyError.message, details: { issues: fastifyError.validation.map((v) => ({ path: v.instancePath, message: v.message })) } });
    }
    if (typeof fastifyError.statusCode === 'number' && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
      request.log.info({ code: fastifyError.code, status: fastifyError.statusCode }, 'request refused');
      return reply.status(fastifyError.statusCode).send({ code: fastifyError.code ?? 'BAD_REQUEST', message: fastifyError.message });
    }
    const status = error instanceof AppError ? error.statusCode : 500;
    request.log.error({ err: error }, 'request failed');
    return reply.status(status).send({ code: error instanceof AppError ? error.code : 'INTERNAL', message: 'Internal Server Error', reqId: request.id });
  });

  // Before any route: the OpenAPI generator and the HTTP metrics hook must see every route.
  await registerOpenApi(app, { version: '1.0.0' });
  registerHttpMetrics(app, services);
  await app.register(healthRoutes, { services });
  if (services.wechat) {
    const wechat = services.wechat;
    await app.register(async (scope) => wechatRoutes(scope, { token: wechat.token, crypto: wechat.crypto, conversation: services.conversation, translator: services.translator, outbound: services.queues.outbound, sealRecipient: (openid) => sealRecipient(services.keys.session, openid) }));
  }
  const uplinkToken = services.config.sms.uplinkToken;
  if (uplinkToken) await app.register(async (scope) => smsRoutes(scope, { uplinkToken, channel: services.sms.channel }));
  await app.register(apiRoutes, { services });
  await app.register(opsRoutes, { services });
  if (services.config.simulator) {
    const gateway = services.sms.simulatorGateway;
    await app.register(simulatorRoutes, { services, ...(gateway ? { smsOutbox: (phone: string) => gateway.outbox(phone) } : {}) });
  }
  await app.register(oversightRoutes, { services });
  await app.register(reportRoutes, { services });
  await app.register(auditRoutes, { services });
  return app;
}
