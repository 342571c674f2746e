import { z } from 'zod';
import { FlowDefinitionError } from '../errors.js';
import { FlowSchema, type Flow, type Step, type Trigger } from './flow-schema.js';
import type { Json } from './state.js';

export interface ParseContext { now: Date; values: Record<string, Json>; vars: Record<string, Json> }
export type ParseResult = { ok: true; value: Json } | { ok: false; reason: string; params?: Record<string, string | number> };
/** A named parser: normalizes and validates one answer. `messages` is the locale prefix of its rejection texts. */
export interface ParserEntry {
  parse: (raw: string, ctx: ParseContext) => ParseResult;
  messages: string;
  reasons: readonly string[];
  /** For trigger parsers: text that was probably meant as this (answered with the rejection, not the welcome). */
  looksLike?: (raw: string) => boolean;
}
export type ParserTable = Readonly<Record<string, ParserEntry>>;

export interface CompiledFlow {
  flow: Flow;
  byId: ReadonlyMap<string, Step>;
  /** The step after `id` in document order, or null at the end. */
  following(id: string): string | null;
}

export interface FlowRegistry {
  flows: ReadonlyMap<string, CompiledFlow>;
  /** Triggers in declaration order, with the flow they start. */
  triggers: readonly { flow: CompiledFlow; trigger: Trigger }[];
}

export interface RegistryChecks {
  parsers: ParserTable;
  actions: ReadonlySet<string>;
  /** Does every locale hold this key? */
  hasKey(key: string): boolean;
}

function stepTargets(step: Step): string[] {
  const out: string[] = [];
  if (step.next) out.push(step.next);
  if (step.kind === 'choice') {
    for (const o of step.options) if (o.next) out.push(o.next);
    if (step.shortcut) out.push(step.shortcut.next);
  }
  if (step.kind === 'summary') for (const item of step.items) out.push(item.edit);
  if (step.kind === 'action' && step.on) out.push(...Object.values(step.on));
  return out;
}

function stepKeys(step: Step): string[] {
  const keys: string[] = [];
  if ('prompt' in step) keys.push(step.prompt);
  if (step.kind === 'choice') for (const o of step.options) if (o.end) keys.push(o.end);
  if (step.kind === 'summary') for (const item of step.items) keys.push(item.label);
  return keys;
}

/** Parses every flow strictly and checks every reference (steps, parsers, actions, locale keys); lists all problems at once. */
export function buildRegistry(definitions: readonly unknown[], checks: RegistryChecks): FlowRegistry {
  const problems: string[] = [];
  const flows = new Map<string, CompiledFlow>();
  const triggers: { flow: CompiledFlow; trigger: Trigger }[] = [];
  for (const [index, definition] of definitions.entries()) {
    const parsed = FlowSchema.safeParse(definition);
    if (!parsed.success) { problems.push(`flow #${index}: ${z.prettifyError(parsed.error)}`); continue; }
    const flow = parsed.data;
    const order = flow.steps.map((s) => s.id);
    const byId = new Map(flow.steps.map((s) => [s.id, s] as const));
    if (byId.size !== order.length) problems.push(`${flow.id}: duplicate step ids`);
    if (flows.has(flow.id)) problems.push(`${flow.id}: duplicate flow id`);
    const where = (s: string) => `${flow.id}.${s}`;
    if (!byId.has(flow.restartAt)) problems.push(`${flow.id}: restartAt ${flow.restartAt} is not a step`);
    for (const step of flow.steps) {
      for (const target of stepTargets(step)) if (!byId.has(target)) problems.push(`${where(step.id)}: goes to unknown step ${target}`);
      for (const key of stepKeys(step)) if (!checks.hasKey(key)) problems.push(`${where(step.id)}: locale key ${key} missing in a locale`);
      if (step.kind === 'collect' && !checks.parsers[step.parse]) problems.push(`${where(step.id)}: unknown parser ${step.parse}`);
      if (step.kind === 'choice' && step.shortcut && !checks.parsers[step.shortcut.parse]) problems.push(`${where(step.id)}: unknown parser ${step.shortcut.parse}`);
      if (step.kind === 'action' && !checks.actions.has(step.action)) problems.push(`${where(step.id)}: unknown action ${step.action}`);
    }
    const compiled: CompiledFlow = {
      flow,
      byId,
      following(id) {
        const i = order.indexOf(id);
        return i >= 0 && i + 1 < order.length ? (order[i + 1] ?? null) : null;
      },
    };
    flows.set(flow.id, compiled);
    for (const trigger of flow.triggers) {
      if ('match' in trigger && !checks.parsers[trigger.match]) problems.push(`${flow.id}: trigger uses unknown parser ${trigger.match}`);
      if ('command' in trigger && trigger.arg && !checks.parsers[trigger.arg.parse]) problems.push(`${flow.id}: trigger uses unknown parser ${trigger.arg.parse}`);
      if ('command' in trigger && trigger.startAt && !byId.has(trigger.startAt)) problems.push(`${flow.id}: trigger starts at unknown step ${trigger.startAt}`);
      triggers.push({ flow: compiled, trigger });
    }
  }
  for (const [name, entry] of Object.entries(checks.parsers)) {
    for (const reason of entry.reasons) if (!checks.hasKey(`${entry.messages}.${reason}`)) problems.push(`parser ${name}: locale key ${entry.messages}.${reason} missing in a locale`);
  }
  if (problems.length > 0) throw new FlowDefinitionError(`flow definitions are invalid:\n- ${problems.join('\n- ')}`);
  return { flows, triggers };
}
