import { z } from 'zod';

/** A JSON value: what a session may hold. */
export type Json = string | number | boolean | null | Json[] | { [k: string]: Json };
const JsonSchema: z.ZodType<Json> = z.lazy(() => z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(JsonSchema), z.record(z.string(), JsonSchema)]));

/**
 * The conversation snapshot kept per user (Redis, sealed). It is untrusted on read: parsed with this schema,
 * and a snapshot of another flow version is dropped rather than interpreted (xstate persistence advice).
 */
export const ConversationStateSchema = z.object({
  v: z.literal(1),
  locale: z.enum(['zh-CN', 'en']),
  flow: z.string().nullable(),
  flowVersion: z.number().int(),
  step: z.string().nullable(),
  values: z.record(z.string(), JsonSchema),
  vars: z.record(z.string(), JsonSchema),
  history: z.array(z.string()),
  retries: z.number().int(),
  skipFilled: z.boolean(),
  awaiting: z.enum(['edit_pick', 'resume']).nullable(),
  updatedAt: z.number(),
});
export type ConversationState = z.infer<typeof ConversationStateSchema>;

export function freshState(locale: ConversationState['locale'], now: number): ConversationState {
  return { v: 1, locale, flow: null, flowVersion: 0, step: null, values: {}, vars: {}, history: [], retries: 0, skipFilled: false, awaiting: null, updatedAt: now };
}

/** Reads `a.b.c` out of nested JSON. */
export function readPath(source: Record<string, Json>, path: string): Json | undefined {
  let cur: Json | undefined = source;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, Json>)[part];
  }
  return cur;
}
