import swagger from '@fastify/swagger';
import type { FastifyInstance, FastifySchema } from 'fastify';
import { z } from 'zod';

/**
 * OpenAPI generated from the route schemas (@fastify/swagger, registered before any route so it sees them all).
 *
 * The API routes validate their input with zod (`parseOr400`) so that errors keep the project's `{ code, message }`
 * shape. To document that input without making Fastify validate it a second time with other messages, a route
 * passes its zod schemas to `zodDocs(...)`: they become JSON Schema (`z.toJSONSchema`) in the OpenAPI document only,
 * through @fastify/swagger's per-route `swaggerTransform`.
 */
export async function registerOpenApi(app: FastifyInstance, info: { version: string }): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'boardroll API',
        description: 'Trips and passengers registered by conversation (WeChat OA, SMS, Wechaty). API calls carry `Authorization: Bearer <key>`; keys are made with `npm run keys -- create --role ROLE [--city CODE]`. Errors are `{ "code": "UPPER_SNAKE", "message": "…" }`.',
        version: info.version,
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'an API key' } } },
      tags: [
        { name: 'trips', description: 'rosters and arrivals' },
        { name: 'trace', description: 'contact tracing (audited)' },
        { name: 'stats', description: 'registration funnel' },
        { name: 'ops', description: 'health and metrics' },
      ],
    },
  });
}

type DocPart = 'params' | 'querystring' | 'body';

/** Route `config` that documents zod input schemas in OpenAPI without adding Fastify validation. */
export function zodDocs(parts: Partial<Record<DocPart, z.ZodType>>): { swaggerTransform: (arg: { schema: FastifySchema; url: string }) => { schema: FastifySchema; url: string } } {
  const json: Record<string, unknown> = {};
  for (const [part, schema] of Object.entries(parts)) {
    const converted = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'draft-7' }) as Record<string, unknown>;
    delete converted['$schema'];
    json[part] = converted;
  }
  return { swaggerTransform: ({ schema, url }) => ({ schema: { ...schema, ...json } as FastifySchema, url }) };
}

/** The documentation-only part of a bearer-protected route's schema. */
export function bearerDoc(doc: { summary: string; description?: string; tags: string[] }): FastifySchema {
  return { ...doc, security: [{ bearer: [] }] } as FastifySchema;
}
