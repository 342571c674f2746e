import type { ChannelName, Locale, Reply, TextParams, TextRef, UserInput } from '../contracts/conversation.js';
import { maskAddress, maskIdNumber, maskName, maskPhone } from '../security/mask.js';
import { globalCommandOf } from './commands.js';
import type { ChoiceStep, CollectStep, Condition, Step, SummaryStep, Trigger } from './flow-schema.js';
import { shanghaiMonthDayTime } from './format.js';
import type { CompiledFlow, FlowRegistry, ParserTable } from './registry.js';
import { freshState, readPath, type ConversationState, type Json } from './state.js';

/** The result of an action the service ran for an action step. */
export type ActionResult =
  | { ok: true; values?: Record<string, Json>; vars?: Record<string, Json> }
  | { ok: false; code: string; vars?: Record<string, Json> };

export type EngineInput =
  | UserInput
  | { type: 'result'; result: ActionResult }
  /** An outbound start (an SMS invitation): the flow begins with these vars already known. */
  | { type: 'start'; flow: string; vars: Record<string, Json> };

export interface EngineContext {
  now: Date;
  channel: ChannelName;
  defaultLocale: Locale;
  registry: FlowRegistry;
  parsers: ParserTable;
  /** A session idle longer than this offers to resume instead of taking the text as an answer. */
  sessionTtlMs: number;
  /** What the channel knows of the sender (SMS: its number), readable as `ctx:senderPhone` in choice `set`. */
  sender?: { phone?: string };
}

/** An action the caller must run before the conversation can go on; feed its result back as `{ type: 'result' }`. */
export interface ActionCall { action: string; flow: string; step: string }

export interface Outcome { state: ConversationState; replies: Reply[]; call: ActionCall | null }

const NONE_WORDS = new Set(['无', '没有', 'none', 'no', 'n/a', '-']);
const MAX_STEPS_PER_TURN = 200;
const RETRY_HINT_FROM = 2;
const TOO_MANY_RETRIES = 5;

function normalize(text: string): string {
  return text.normalize('NFKC').trim().replace(/\s+/g, ' ');
}

/** One turn of the conversation: pure; runs no I/O; returns the next state, the replies and at most one action to run. */
export function step(ctx: EngineContext, prior: ConversationState | null, input: EngineInput): Outcome {
  const turn = new Turn(ctx, prior ? structuredClone(prior) : freshState(ctx.defaultLocale, ctx.now.getTime()));
  turn.handle(input);
  return turn.finish();
}

class Turn {
  private readonly replies: Reply[] = [];
  private call: ActionCall | null = null;

  constructor(private readonly ctx: EngineContext, private readonly state: ConversationState) {}

  finish(): Outcome {
    this.state.updatedAt = this.ctx.now.getTime();
    return { state: this.state, replies: this.replies, call: this.call };
  }

  handle(input: EngineInput): void {
    switch (input.type) {
      case 'result': return this.onResult(input.result);
      case 'scan': return this.onScan(input.scene);
      case 'start': {
        const flow = this.ctx.registry.flows.get(input.flow);
        if (!flow) throw new Error(`unknown flow ${input.flow}`);
        return this.startFlow(flow, { invite: true }, {}, input.vars);
      }
      case 'follow': return this.active() ? this.reprompt() : this.say('common.welcome');
      case 'unsupported':
        this.say('common.unsupported');
        return this.active() ? this.reprompt() : undefined;
      case 'text': return this.onText(normalize(input.text));
      default: {
        const never: never = input;
        throw new Error(`unknown input ${JSON.stringify(never)}`);
      }
    }
  }

  // ── state helpers ────────────────────────────────────────────────────────
  private active(): boolean { return this.state.flow !== null && this.state.step !== null; }
  private compiled(): CompiledFlow | null { return this.state.flow ? this.ctx.registry.flows.get(this.state.flow) ?? null : null; }
  private currentStep(): Step | null { return this.state.step ? this.compiled()?.byId.get(this.state.step) ?? null : null; }
  private say(key: string, params?: TextParams): void { this.replies.push(params ? { type: 'text', key, params } : { type: 'text', key }); }

  private endFlow(): void {
    Object.assign(this.state, { flow: null, flowVersion: 0, step: null, values: {}, history: [], retries: 0, skipFilled: false, awaiting: null });
  }

  private test(conditions: readonly Condition[] | undefined): boolean {
    if (!conditions) return true;
    return conditions.every((c) => {
      if ('channel' in c) return c.channel.includes(this.ctx.channel);
      const actual = 'field' in c ? this.state.values[c.field] : readPath(this.state.vars, c.var);
      if ('missing' in c) return actual === undefined || actual === null;
      if ('equals' in c) return (actual ?? null) === c.equals;
      return (actual ?? null) !== c.notEquals;
    });
  }

  /** Vars flattened one level (`trip.code` → `trip_code`) so prompts can name them. */
  private promptParams(): TextParams {
    const params: TextParams = {};
    for (const [name, raw] of Object.entries(this.state.vars)) {
      // What the trigger set (`{triggerValues_plate}`) is shown as it stands now: the plate may have been edited since.
      const value = name === 'triggerValues' && raw && typeof raw === 'object' && !Array.isArray(raw)
        ? Object.fromEntries(Object.keys(raw).map((k) => [k, this.state.values[k] ?? raw[k] ?? null])) : raw;
      if (typeof value === 'string' || typeof value === 'number') params[name] = value;
      else if (isTextRef(value)) params[name] = value;
      else if (value && typeof value === 'object' && !Array.isArray(value)) {
        for (const [sub, leaf] of Object.entries(value)) {
          if (typeof leaf === 'string' || typeof leaf === 'number') params[`${name}_${sub}`] = leaf;
          else if (isTextRef(leaf)) params[`${name}_${sub}`] = leaf;
        }
      }
    }
    return params;
  }

  // ── input handlers ───────────────────────────────────────────────────────
  private onText(text: string): void {
    if (text === '') return this.active() ? this.reprompt() : this.say('common.welcome');
    const expired = this.active() && this.ctx.now.getTime() - this.state.updatedAt > this.ctx.sessionTtlMs;
    const command = globalCommandOf(text, this.ctx.channel);

    if (command === 'lang_en' || command === 'lang_zh') {
      this.state.locale = command === 'lang_en' ? 'en' : 'zh-CN';
      this.say('common.language_switched');
      return this.active() ? this.reprompt() : this.say('common.welcome');
    }
    if (this.startByCommand(text)) return;

    if (this.state.awaiting === 'resume') {
      if (command === null) return this.onResumeAnswer(text);
      this.state.awaiting = null; // a command (取消, 帮助, 0…) answers the offer as it would any question
    }
    if (expired) {
      this.state.awaiting = 'resume';
      return this.say('common.resume_offer', { question: this.promptRef() ?? { key: 'common.welcome' } });
    }
    if (command === 'help') {
      this.say(this.ctx.channel === 'sms' ? 'common.help_sms' : 'common.help');
      return this.active() ? this.reprompt() : undefined;
    }
    if (this.active()) {
      if (command === 'cancel') { this.endFlow(); return this.say('common.cancelled'); }
      if (command === 'restart') return this.restart();
      if (command === 'back') return this.back();
      return this.answer(text);
    }
    return this.idle(text);
  }

  private idle(text: string): void {
    const found = this.matchTrigger(text);
    if (found) return this.startFlow(found.flow, found.trigger, { [found.field]: found.value });
    // Nearly a trigger (a plate with a wrong letter, a 5-digit code): say what is wrong instead of the welcome.
    const near = this.nearTrigger(text);
    if (near) return this.say(near.key, near.params);
    this.say('common.welcome');
  }

  private nearTrigger(text: string): TextRef | null {
    for (const { trigger } of this.ctx.registry.triggers) {
      if (!('match' in trigger)) continue;
      const parser = this.ctx.parsers[trigger.match];
      if (!parser?.looksLike?.(text)) continue;
      const parsed = parser.parse(text, { now: this.ctx.now, values: {}, vars: {} });
      if (!parsed.ok) return { key: `${parser.messages}.${parsed.reason}`, params: parsed.params ?? {} };
    }
    return null;
  }

  /** The plain-text trigger (a plate, a trip code) this text would start when no flow waits for an answer. */
  private matchTrigger(text: string): { flow: CompiledFlow; trigger: Trigger; field: string; value: Json } | null {
    for (const { flow, trigger } of this.ctx.registry.triggers) {
      if (!('match' in trigger)) continue;
      const parser = this.ctx.parsers[trigger.match];
      const parsed = parser?.parse(text, { now: this.ctx.now, values: {}, vars: {} });
      if (parsed?.ok) return { flow, trigger, field: trigger.field, value: parsed.value };
    }
    return null;
  }

  private startByCommand(text: string): boolean {
    const [head = '', ...rest] = text.split(' ');
    const word = head.toLowerCase();
    for (const { flow, trigger } of this.ctx.registry.triggers) {
      if (!('command' in trigger) || !trigger.command.some((w) => w.toLowerCase() === word)) continue;
      const argText = rest.join(' ').trim();
      const values: Record<string, Json> = {};
      if (trigger.arg) {
        if (argText === '' && trigger.arg.optional) return this.startFlow(flow, trigger, values), true;
        const parser = this.ctx.parsers[trigger.arg.parse];
        const parsed = parser?.parse(argText, { now: this.ctx.now, values: {}, vars: {} });
        if (!parser || !parsed) return false;
        if (!parsed.ok) {
          this.say('common.command_usage', { command: head, problem: { key: `${parser.messages}.${parsed.reason}`, params: parsed.params ?? {} } });
          return true;
        }
        values[trigger.arg.field] = parsed.value;
      } else if (argText !== '') {
        continue;
      }
      this.startFlow(flow, trigger, values);
      return true;
    }
    return false;
  }

  private onScan(scene: string): void {
    const entry = this.ctx.registry.triggers.find(({ trigger }) => 'scan' in trigger);
    if (!entry) return this.say('common.welcome');
    this.startFlow(entry.flow, entry.trigger, {}, { scene });
  }

  private startFlow(flow: CompiledFlow, trigger: Trigger, values: Record<string, Json>, vars: Record<string, Json> = {}): void {
    const lastTrip = this.state.vars['trip'] ?? this.state.vars['lastTrip'];
    this.endFlow();
    Object.assign(this.state, {
      flow: flow.flow.id, flowVersion: flow.flow.version, values: { ...values },
      vars: { ...(lastTrip === undefined ? {} : { lastTrip }), ...vars, triggerValues: { ...values } },
      skipFilled: 'command' in trigger && trigger.skipFilled === true,
    });
    const first = ('command' in trigger && trigger.startAt) || flow.flow.steps[0]?.id;
    if (first) this.enter(first);
  }

  private onResumeAnswer(text: string): void {
    this.state.awaiting = null;
    if (text === '1') return this.reprompt();
    if (text === '2') return this.restart();
    if (this.matchTrigger(text)) { this.endFlow(); return this.onText(text); }
    this.answer(text);
  }

  private restart(): void {
    const flow = this.compiled();
    if (!flow) return this.say('common.welcome');
    const triggerValues = this.state.vars['triggerValues'];
    this.state.values = triggerValues && typeof triggerValues === 'object' && !Array.isArray(triggerValues) ? { ...triggerValues } : {};
    Object.assign(this.state, { history: [], skipFilled: false, awaiting: null });
    this.say('common.restarted');
    this.enter(flow.flow.restartAt, true);
  }

  private back(): void {
    if (this.state.awaiting === 'edit_pick') { this.state.awaiting = null; return this.reprompt(); }
    const history = this.state.history;
    const current = this.state.step;
    while (history.length > 0 && history[history.length - 1] === current) history.pop();
    const previous = history.pop();
    if (!previous) { if (current) history.push(current); this.say('common.cannot_go_back'); return this.reprompt(); }
    this.state.skipFilled = false;
    this.enter(previous, true);
  }

  // ── answering the current step ───────────────────────────────────────────
  private answer(text: string): void {
    const current = this.currentStep();
    if (!current) { this.endFlow(); return this.idle(text); }
    switch (current.kind) {
      case 'collect': return this.answerCollect(current, text);
      case 'choice': return this.answerChoice(current, text);
      case 'summary': return this.answerSummary(current, text);
      case 'action': return this.say('common.busy');
      case 'message': this.endFlow(); return this.idle(text);
      default: {
        const never: never = current;
        throw new Error(`unknown step ${JSON.stringify(never)}`);
      }
    }
  }

  private answerCollect(current: CollectStep, text: string): void {
    if (current.allowNone && NONE_WORDS.has(text.toLowerCase())) {
      this.state.values[current.field] = null;
      return this.advance(current);
    }
    const parser = this.ctx.parsers[current.parse];
    if (!parser) throw new Error(`parser ${current.parse} vanished after registry check`);
    const parsed = parser.parse(text, { now: this.ctx.now, values: this.state.values, vars: this.state.vars });
    if (parsed.ok) {
      this.state.values[current.field] = parsed.value;
      return this.advance(current);
    }
    this.reject({ key: `${parser.messages}.${parsed.reason}`, params: parsed.params ?? {} });
    if (this.matchTrigger(text)) this.say('common.looks_like_start', { text });
  }

  private answerChoice(current: ChoiceStep, text: string): void {
    const option = current.options.find((o) => o.value === text);
    if (option) {
      if (option.reset) {
        const triggerValues = this.state.vars['triggerValues'];
        this.state.values = triggerValues && typeof triggerValues === 'object' && !Array.isArray(triggerValues) ? { ...triggerValues } : {};
        this.state.history = [];
      }
      if (current.field) this.state.values[current.field] = option.value;
      for (const [field, source] of Object.entries(option.set ?? {})) this.state.values[field] = this.resolveSetValue(source);
      if (option.skipFilled) this.state.skipFilled = true;
      if (option.end) { this.endFlow(); return this.say(option.end, this.promptParams()); }
      if (option.next) return this.enter(option.next);
      return this.advance(current);
    }
    if (current.shortcut) {
      const parser = this.ctx.parsers[current.shortcut.parse];
      const parsed = parser?.parse(text, { now: this.ctx.now, values: this.state.values, vars: this.state.vars });
      if (parsed?.ok) {
        for (const [field, source] of Object.entries(current.shortcut.set)) this.state.values[field] = source === 'value' ? parsed.value : source;
        return this.enter(current.shortcut.next);
      }
      if (parsed && !parsed.ok && parser && /^[0-9Xx]{15,}$/.test(text.replace(/ /g, ''))) return this.reject({ key: `${parser.messages}.${parsed.reason}`, params: parsed.params ?? {} });
    }
    if (current.idleOnOther) { this.endFlow(); return this.idle(text); }
    this.reject({ key: 'common.invalid_choice', params: { max: current.options.length, menu: this.promptRef() ?? { key: 'common.welcome' } } });
    if (this.matchTrigger(text)) this.say('common.looks_like_start', { text });
  }

  private resolveSetValue(source: string | number | boolean | null): Json {
    if (typeof source !== 'string') return source;
    if (source.startsWith('var:')) return readPath(this.state.vars, source.slice(4)) ?? null;
    if (source === 'ctx:senderPhone') return this.ctx.sender?.phone ?? null;
    return source;
  }

  private answerSummary(current: SummaryStep, text: string): void {
    const items = this.summaryItems(current);
    if (this.state.awaiting === 'edit_pick') return this.pickEdit(items, text);
    const [head, arg] = text.split(' ');
    if (head === '1' && arg === undefined) return this.advance(current);
    if (head === '3' && arg === undefined) { this.endFlow(); return this.say('common.cancelled'); }
    if (head === '2') {
      if (arg !== undefined) return this.pickEdit(items, arg);
      this.state.awaiting = 'edit_pick';
      return this.say('common.edit_which', { items: items.map((i) => i.line), max: items.length });
    }
    this.reject({ key: 'common.summary_choice', params: { menu: this.promptRef() ?? { key: 'common.welcome' } } });
  }

  private pickEdit(items: SummaryLine[], text: string): void {
    const n = Number(text);
    const item = Number.isInteger(n) ? items[n - 1] : undefined;
    if (!item) return this.reject({ key: 'common.edit_invalid', params: { max: items.length } });
    this.state.awaiting = null;
    for (const field of item.clears) delete this.state.values[field];
    this.state.skipFilled = true;
    this.enter(item.edit, true);
  }

  private reject(problem: TextRef): void {
    this.state.retries += 1;
    const params: TextParams = { problem };
    if (this.state.retries >= TOO_MANY_RETRIES) return this.say('common.too_many_retries', params);
    if (this.state.retries >= RETRY_HINT_FROM) return this.say('common.retry_with_hint', params);
    this.say(problem.key, problem.params);
  }

  // ── moving through steps ─────────────────────────────────────────────────
  private advance(from: Step): void {
    const next = from.next ?? this.compiled()?.following(from.id) ?? null;
    if (next === null) { this.endFlow(); return; }
    this.enter(next);
  }

  private onResult(result: ActionResult): void {
    const current = this.currentStep();
    if (!current || current.kind !== 'action') return;
    Object.assign(this.state.vars, result.vars ?? {});
    if (result.ok) {
      Object.assign(this.state.values, result.values ?? {});
      return this.advance(current);
    }
    const target = current.on?.[result.code] ?? current.on?.['*'];
    if (target) return this.enter(target);
    this.endFlow();
    this.say('common.action_failed');
  }

  /** Enters a step: skips steps whose condition fails (and filled ones while editing), runs messages, stops at a question or action. */
  private enter(stepId: string, force = false): void {
    const flow = this.compiled();
    if (!flow) return;
    let id: string | null = stepId;
    let forced = force;
    for (let guard = 0; id !== null && guard < MAX_STEPS_PER_TURN; guard += 1) {
      const s = flow.byId.get(id);
      if (!s) { this.endFlow(); this.say('common.action_failed'); return; }
      const following: string | null = s.next ?? flow.following(s.id);
      // A step that does not apply is passed over in document order: its `next` is where it goes once done.
      if (!forced && !this.test(s.when)) { id = flow.following(s.id); continue; }
      if (!forced && this.state.skipFilled && this.isFilled(s)) { id = following; continue; }
      forced = false;
      if (s.kind === 'summary') this.state.skipFilled = false;
      this.state.step = s.id;
      this.state.retries = 0;
      switch (s.kind) {
        case 'action':
          this.call = { action: s.action, flow: flow.flow.id, step: s.id };
          return;
        case 'message':
          this.say(s.prompt, this.promptParams());
          if (s.attachQr) this.attachQr();
          if (s.end || following === null) { this.endFlow(); return; }
          id = following;
          continue;
        case 'collect':
        case 'choice':
        case 'summary':
          if (this.state.history[this.state.history.length - 1] !== s.id) this.state.history.push(s.id);
          this.reprompt();
          return;
        default: {
          const never: never = s;
          throw new Error(`unknown step ${JSON.stringify(never)}`);
        }
      }
    }
    if (id === null) this.endFlow();
  }

  /** Has this question been answered already? null counts only where the step accepts "none". */
  private isFilled(s: Step): boolean {
    if (s.kind !== 'collect' && s.kind !== 'choice') return false;
    if (s.field === undefined) return false;
    const value = this.state.values[s.field];
    if (value === undefined) return false;
    return value !== null || (s.kind === 'collect' && s.allowNone === true);
  }

  private attachQr(): void {
    const trip = this.state.vars['trip'];
    if (trip && typeof trip === 'object' && !Array.isArray(trip) && typeof trip['id'] === 'string' && typeof trip['code'] === 'string') {
      this.replies.push({ type: 'qr', tripId: trip['id'], tripCode: trip['code'] });
    }
  }

  private promptRef(): TextRef | null {
    const s = this.currentStep();
    if (!s || !('prompt' in s)) return null;
    if (s.kind === 'summary') return { key: s.prompt, params: this.summaryParams(s) };
    return { key: s.prompt, params: this.promptParams() };
  }

  private reprompt(): void {
    const ref = this.promptRef();
    if (ref) this.say(ref.key, ref.params);
  }

  // ── summaries ────────────────────────────────────────────────────────────
  private summaryItems(s: SummaryStep): SummaryLine[] {
    return s.items.filter((item) => this.test(item.when)).map((item, index) => {
      const value = formatValue(item.format, this.state.values[item.field] ?? null);
      return { edit: item.edit, clears: item.clears ?? [], field: item.field, value, line: { key: 'common.summary_item', params: { n: index + 1, label: { key: item.label }, value } } };
    });
  }

  private summaryParams(s: SummaryStep): TextParams {
    const items = this.summaryItems(s);
    const params: TextParams = { ...this.promptParams(), items: items.map((i) => i.line) };
    for (const item of items) params[`f_${item.field}`] = item.value;
    return params;
  }
}

/** Vars may hold a locale reference (`{ key: 'staff.roles.station' }`) where the text depends on the reader's language. */
function isTextRef(value: Json | undefined): value is { key: string } {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && typeof value['key'] === 'string' && Object.keys(value).length === 1;
}

interface SummaryLine { edit: string; clears: string[]; field: string; value: string | TextRef; line: TextRef }

function formatValue(format: SummaryStep['items'][number]['format'], value: Json): string | TextRef {
  if (value === null || value === undefined) return { key: 'common.none' };
  switch (format) {
    case 'text': case 'count': return String(value);
    case 'none_or_text': return String(value);
    case 'masked_name': return maskName(String(value));
    case 'masked_id': return maskIdNumber(String(value));
    case 'masked_phone': return maskPhone(String(value));
    case 'masked_address': return maskAddress(String(value));
    case 'datetime': return shanghaiMonthDayTime(String(value));
    case 'id_type': return { key: `common.id_types.t${String(value)}` };
    case 'place': {
      if (typeof value === 'object' && !Array.isArray(value)) return `${String(value['text'])}（${String(value['cityName'])}）`;
      return String(value);
    }
    default: {
      const never: never = format;
      return String(never);
    }
  }
}
