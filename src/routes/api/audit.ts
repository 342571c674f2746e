import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Services } from '../../services.js';
import { InputError } from '../../errors.js';
import { bearerDoc, zodDocs } from '../ops/docs.js';
import { authenticate, parseOr400 } from './api.js';

/**
 * `GET /api/v1/audit?from=&to=&actor=&action=&limit=` (admin): the append-only audit trail, newest first. `from` and
 * `to` are a date (YYYY-MM-DD, China time; `to` inclusive) or an ISO instant (`to` exclusive). The log itself cannot be
 * changed: no route updates or deletes it and the database refuses UPDATE, DELETE and TRUNCATE.
 */
const instant = z.union([z.iso.date(), z.iso.datetime({ offset: true })], 'expected a date YYYY-MM-DD or an ISO instant such as 2030-05-01T08:00:00+08:00');
const AuditQuery = z.object({
  from: instant.optional(),
  to: instant.optional(),
  actor: z.string().trim().min(1).max(200).optional(),
  action: z.string().trim().min(1).max(100).optional(),
  limit: z.coerce.number('limit: expected a whole number from 1 to 1000').int('limit: expected a whole number from 1 to 1000').min(1, 'limit: expected a whole number from 1 to 1000').max(1000, 'limit: expected a whole number from 1 to 1000').default(100),
});

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;

function boundOf(value: string | undefined, end: boolean): Date | undefined {
  if (value === undefined) return undefined;
  if (!DATE_ONLY.test(value)) return new Date(value);
  const start = new Date(`${value}T00:00:00+08:00`);
  return end ? new Date(start.getTime() + DAY_MS) : start;
}

export async function auditRoutes(app: FastifyInstance, opts: { services: Services }): Promise<void> {
  const { services } = opts;
  app.get('/api/v1/audit', {
    schema: bearerDoc({ summary: 'The audit trail (who read unmasked data, when and why; purges; key changes)', tags: ['audit'], description: 'Role: admin. Newest first; `from`/`to` are dates (China time, `to` inclusive) or ISO instants.' }),
    config: zodDocs({ querystring: AuditQuery }),
  }, async (request) => {
    await authenticate(services, request, ['admin']);
    const q = parseOr400(AuditQuery, request.query);
    const from = boundOf(q.from, false);
    const to = boundOf(q.to, true);
    if (from && to && from.getTime() >= to.getTime()) throw new InputError('INPUT_INVALID', '`from` must be before `to`');
    const entries = await services.repos.audit.list({ from, to, actor: q.actor, action: q.action, limit: q.limit });
    return {
      entries: entries.map((e) => ({ id: e.id, at: e.at.toISOString(), actor: e.actor, action: e.action, subject: e.subject, reason: e.reason, details: e.details })),
    };
  });
}
