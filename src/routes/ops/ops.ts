import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import swaggerUi from '@fastify/swagger-ui';
import { Queue } from 'bullmq';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { QUEUES } from '../../contracts/jobs.js';
import { AuthError, ForbiddenError } from '../../errors.js';
import { bullConnection, bullPrefix, type Services } from '../../services.js';
import { authenticate, parseOr400 } from '../api/api.js';
import { bearerDoc, zodDocs } from './docs.js';

export const ADMIN_COOKIE = 'boardroll_admin';
const BOARD_PATH = '/admin/queues';

/** Observes every request's duration by route pattern and status (root-level hook: register before the routes). */
export function registerHttpMetrics(app: FastifyInstance, services: Services): void {
  app.addHook('onResponse', async (request, reply) => {
    services.metrics.observeHttp({ method: request.method, route: request.routeOptions.url ?? 'unmatched', status: reply.statusCode }, reply.elapsedTime / 1000);
  });
}

const FunnelQuery = z.object({ flow: z.string().min(1).optional() });

/**
 * Operations: `/metrics` (Prometheus), `/docs` (OpenAPI UI, JSON at `/docs/json`), `/admin/queues` (bull-board,
 * admin role), `GET /api/v1/stats/funnel` (admin, authority).
 */
export async function opsRoutes(app: FastifyInstance, opts: { services: Services }): Promise<void> {
  const { services } = opts;
  const connection = bullConnection(services.config);
  const queues = Object.values(QUEUES).map((name) => new Queue(name, { connection, prefix: bullPrefix(services.config) }));
  for (const q of queues) q.on('error', (err) => services.log.warn({ queue: q.name, err: err.message }, 'ops queue error'));
  services.metrics.setQueues(queues);
  app.addHook('onClose', async () => {
    services.metrics.setQueues([]);
    await Promise.all(queues.map((q) => q.close()));
    connection.disconnect();
  });

  app.get('/metrics', { schema: { summary: 'Prometheus metrics (text exposition format)', tags: ['ops'] } }, async (_request, reply) => {
    const body = await services.metrics.registry.metrics();
    return reply.type(services.metrics.registry.contentType).send(body);
  });

  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list', deepLinking: false } });

  app.get('/api/v1/stats/funnel', {
    schema: bearerDoc({ summary: 'Registration funnel: per flow step, how many entered, moved on, ended there, or abandoned', tags: ['stats'] }),
    config: zodDocs({ querystring: FunnelQuery }),
  }, async (request) => {
    await authenticate(services, request, ['admin', 'authority']);
    const q = parseOr400(FunnelQuery, request.query);
    const flows = await services.metrics.funnel();
    if (q.flow !== undefined && !flows.some((f) => f.flow === q.flow)) {
      parseOr400(z.object({ flow: z.enum(flows.map((f) => f.flow) as [string, ...string[]]) }), request.query);
    }
    return { flows: q.flow === undefined ? flows : flows.filter((f) => f.flow === q.flow) };
  });

  await app.register(async (scope) => {
    scope.addHook('onRequest', async (request, reply) => authorizeBoard(services, request, reply));
    const serverAdapter = new FastifyAdapter();
    // @bull-board/fastify pins its own copy of @bull-board/api (a patch version apart): same shape, separate declarations.
    createBullBoard({ queues: queues.map((q) => new BullMQAdapter(q)), serverAdapter: serverAdapter as unknown as Parameters<typeof createBullBoard>[0]['serverAdapter'], options: { uiConfig: { boardTitle: 'boardroll queues' } } });
    serverAdapter.setBasePath(BOARD_PATH);
    await scope.register(serverAdapter.registerPlugin(), { prefix: BOARD_PATH });
  });
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

/**
 * The queue board needs an `admin` key, given as (1) `Authorization: Bearer <key>`, (2) HTTP basic auth with the key
 * as the password (any user name; browsers prompt for it), or (3) once as `?key=<key>`: the key is then kept in an
 * HttpOnly, SameSite=Strict cookie limited to /admin/queues and the browser is redirected to the URL without it.
 */
async function authorizeBoard(services: Services, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
  const header = request.headers.authorization;
  const query = request.query as Record<string, unknown>;
  let key: string | undefined;
  let fromQuery = false;
  const basic = typeof header === 'string' ? /^Basic\s+(\S+)$/i.exec(header) : null;
  if (basic?.[1]) key = Buffer.from(basic[1], 'base64').toString('utf8').split(':').slice(1).join(':');
  else if (typeof header === 'string' && /^Bearer\s/i.test(header)) {
    await authenticate(services, request, ['admin']);
    return undefined;
  } else if (typeof query['key'] === 'string') {
    key = query['key'];
    fromQuery = true;
  } else key = cookieValue(request.headers.cookie, ADMIN_COOKIE);

  if (!key) {
    reply.header('www-authenticate', 'Basic realm="boardroll admin", charset="UTF-8"');
    throw new AuthError('AUTH_MISSING', 'the queue board needs an admin key: Authorization: Bearer <key>, basic auth with the key as password, or ?key=<key> once');
  }
  const record = await services.repos.apiKeys.verify(key);
  if (!record) {
    reply.header('www-authenticate', 'Basic realm="boardroll admin", charset="UTF-8"');
    throw new AuthError('AUTH_INVALID', 'the API key is unknown, revoked or expired');
  }
  if (record.role !== 'admin') throw new ForbiddenError('AUTH_ROLE', `the queue board needs the admin role; the key has ${record.role}`);
  if (fromQuery) {
    const url = new URL(request.url, 'http://local');
    url.searchParams.delete('key');
    const secure = request.protocol === 'https' ? '; Secure' : '';
    reply.header('set-cookie', `${ADMIN_COOKIE}=${encodeURIComponent(key)}; Path=${BOARD_PATH}; HttpOnly; SameSite=Strict; Max-Age=28800${secure}`);
    return reply.redirect(`${url.pathname}${url.search}`, 303);
  }
  return undefined;
}
