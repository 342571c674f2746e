import { z } from 'zod';

/**
 * A flow is data: an ordered list of steps plus the triggers that start it. The engine interprets it;
 * parsers, actions and conditions are referred to by name only (STYLE §1, xstate `setup` idea).
 */
const StepId = z.string().regex(/^[a-zA-Z][\w]*$/);
const Key = z.string().regex(/^[a-z][\w-]*(\.[\w-]+)+$/, 'locale key like area.step.prompt');

/** A data condition over the conversation: `{ field: 'hasCrew', equals: '1' }`, `{ var: 'trip.beijingBound', equals: true }`. */
export const ConditionSchema = z.union([
  z.strictObject({ field: z.string(), equals: z.union([z.string(), z.number(), z.boolean(), z.null()]) }),
  z.strictObject({ field: z.string(), notEquals: z.union([z.string(), z.number(), z.boolean(), z.null()]) }),
  z.strictObject({ field: z.string(), missing: z.literal(true) }),
  z.strictObject({ var: z.string(), equals: z.union([z.string(), z.number(), z.boolean(), z.null()]) }),
  z.strictObject({ var: z.string(), notEquals: z.union([z.string(), z.number(), z.boolean(), z.null()]) }),
  z.strictObject({ channel: z.array(z.enum(['wechat', 'sms', 'wechaty', 'simulator'])) }),
]);
export type Condition = z.infer<typeof ConditionSchema>;

const common = { id: StepId, when: z.array(ConditionSchema).optional() };

export const CollectStepSchema = z.strictObject({
  ...common,
  kind: z.literal('collect'),
  field: z.string(),
  parse: z.string(),
  prompt: Key,
  /** Words like 无/none store null instead of asking the parser. */
  allowNone: z.boolean().optional(),
  next: StepId.optional(),
});

export const ChoiceOptionSchema = z.strictObject({
  value: z.string().regex(/^[1-9]$/),
  next: StepId.optional(),
  /** Copy values: `{ phone: 'var:senderPhone' }` or literals. */
  set: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).optional(),
  /** Clear the collected values first (register the next person). */
  reset: z.boolean().optional(),
  /** Continue with every step whose field already has a value skipped. */
  skipFilled: z.boolean().optional(),
  end: Key.optional(),
});

export const ChoiceStepSchema = z.strictObject({
  ...common,
  kind: z.literal('choice'),
  field: z.string().optional(),
  prompt: Key,
  options: z.array(ChoiceOptionSchema).min(1),
  /** Another accepted answer, e.g. an 18-character resident ID at the document-type menu. */
  shortcut: z.strictObject({ parse: z.string(), set: z.record(z.string(), z.union([z.string(), z.number()])), next: StepId }).optional(),
  /** Input that is no option is treated as if no flow were active (triggers, welcome). */
  idleOnOther: z.boolean().optional(),
  next: StepId.optional(),
});

export const SummaryItemSchema = z.strictObject({
  label: Key,
  field: z.string(),
  format: z.enum(['text', 'masked_name', 'masked_id', 'masked_phone', 'masked_address', 'datetime', 'place', 'id_type', 'count', 'none_or_text']),
  edit: StepId,
  /** Fields cleared when this item is edited (the document number when its type changes). */
  clears: z.array(z.string()).optional(),
  when: z.array(ConditionSchema).optional(),
});

export const SummaryStepSchema = z.strictObject({
  ...common,
  kind: z.literal('summary'),
  prompt: Key,
  items: z.array(SummaryItemSchema).min(1),
  next: StepId.optional(),
});

export const ActionStepSchema = z.strictObject({
  ...common,
  kind: z.literal('action'),
  action: z.string(),
  next: StepId.optional(),
  /** Where a failed action goes, by its result code. */
  on: z.record(z.string(), StepId).optional(),
});

export const MessageStepSchema = z.strictObject({
  ...common,
  kind: z.literal('message'),
  prompt: Key,
  /** Also send the trip's QR code (the trip is vars.trip). */
  attachQr: z.boolean().optional(),
  next: StepId.optional(),
  end: z.boolean().optional(),
});

export const StepSchema = z.discriminatedUnion('kind', [CollectStepSchema, ChoiceStepSchema, SummaryStepSchema, ActionStepSchema, MessageStepSchema]);
export type Step = z.infer<typeof StepSchema>;
export type CollectStep = z.infer<typeof CollectStepSchema>;
export type ChoiceStep = z.infer<typeof ChoiceStepSchema>;
export type SummaryStep = z.infer<typeof SummaryStepSchema>;
export type ActionStep = z.infer<typeof ActionStepSchema>;
export type MessageStep = z.infer<typeof MessageStepSchema>;

export const TriggerSchema = z.union([
  /** Plain text that a parser accepts (a plate, a 6-digit trip code); only when no flow is waiting for text. */
  z.strictObject({ match: z.string(), field: z.string() }),
  /** A keyword, optionally followed by an argument parsed by `arg`; works at any step. */
  z.strictObject({ command: z.array(z.string()).min(1), arg: z.strictObject({ parse: z.string(), field: z.string(), optional: z.boolean().optional() }).optional(), startAt: StepId.optional(), skipFilled: z.boolean().optional() }),
  /** A trip QR code scan; the scene goes to vars.scene. Works at any step. */
  z.strictObject({ scan: z.literal(true) }),
  /** An outbound start (an SMS invitation): the service starts the flow at a step with vars prepared. */
  z.strictObject({ invite: z.literal(true) }),
]);
export type Trigger = z.infer<typeof TriggerSchema>;

export const FlowSchema = z.strictObject({
  id: StepId,
  version: z.number().int().positive(),
  triggers: z.array(TriggerSchema),
  /** Where `restart` (重填) goes: the first question, keeping what the trigger loaded. */
  restartAt: StepId,
  steps: z.array(StepSchema).min(1),
});
export type Flow = z.infer<typeof FlowSchema>;
