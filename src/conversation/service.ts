import { setTimeout as sleep } from 'node:timers/promises';
import type { InboundMessage, Locale, Reply } from '../contracts/conversation.js';
import { ConflictError } from '../errors.js';
import type { FlowRegistry, ParserTable } from '../engine/registry.js';
import type { ConversationState } from '../engine/state.js';
import { step, type ActionCall, type ActionResult, type EngineInput } from '../engine/step.js';
import type { SessionStore } from './session-store.js';

/** What an action sees: the state at its step, the message that led there and who sent it. */
export interface ActionContext { call: ActionCall; state: ConversationState; inbound: InboundMessage; userKey: string; now: Date }
export type ActionHandler = (ctx: ActionContext) => Promise<ActionResult>;
export type ActionTable = Readonly<Record<string, ActionHandler>>;

export interface TurnResult {
  replies: Reply[];
  locale: Locale;
  /** True when this delivery was a retry: the replies are the first delivery's, and no effect ran again. */
  duplicate: boolean;
}

export interface ConversationServiceDeps {
  sessions: SessionStore;
  registry: FlowRegistry;
  parsers: ParserTable;
  actions: ActionTable;
  userKeyOf(channel: string, userId: string): string;
  defaultLocale: Locale;
  sessionTtlSeconds: number;
  now?: () => Date;
  /** How long a retried delivery waits for the first one's reply (WeChat gives up at 5 s). */
  duplicateWaitMs?: number;
  /** Observes each saved turn (metrics: per-flow step counts and drop-off); must not throw or block. */
  onTurn?(event: { channel: string; before: ConversationState | null; after: ConversationState }): void;
}

const MAX_ACTIONS_PER_TURN = 10;
const MAX_SAVE_ATTEMPTS = 5;

/**
 * Runs one inbound message through the engine: claims the delivery (retries get the first reply), loads the
 * session, steps the engine, runs the actions it asks for, saves the session with the reply. I/O lives here,
 * never in the engine.
 */
export function createConversationService(deps: ConversationServiceDeps) {
  const now = deps.now ?? (() => new Date());
  const waitMs = deps.duplicateWaitMs ?? 4000;

  async function runTurn(state: ConversationState | null, input: EngineInput, inbound: InboundMessage, userKey: string, at: Date) {
    const ctx = {
      now: at, channel: inbound.channel, defaultLocale: deps.defaultLocale, registry: deps.registry, parsers: deps.parsers,
      sessionTtlMs: deps.sessionTtlSeconds * 1000, sender: inbound.channel === 'sms' ? { phone: inbound.userId } : {},
    };
    let outcome = step(ctx, state, input);
    const replies = [...outcome.replies];
    for (let n = 0; outcome.call && n < MAX_ACTIONS_PER_TURN; n += 1) {
      const handler = deps.actions[outcome.call.action];
      if (!handler) throw new Error(`no handler for action ${outcome.call.action}`);
      const result = await handler({ call: outcome.call, state: outcome.state, inbound, userKey, now: at });
      outcome = step(ctx, outcome.state, { type: 'result', result });
      replies.push(...outcome.replies);
    }
    return { state: outcome.state, replies };
  }

  async function waitForReply(dedupeKey: string): Promise<TurnResult> {
    const deadline = Date.now() + waitMs;
    while (Date.now() < deadline) {
      await sleep(25);
      const claim = await deps.sessions.replyOf(dedupeKey);
      if (claim.kind === 'done') return { ...(JSON.parse(claim.reply) as Omit<TurnResult, 'duplicate'>), duplicate: true };
    }
    return { replies: [], locale: deps.defaultLocale, duplicate: true };
  }

  /** Handles a message from a user (or an outbound start when `input` is given). */
  async function handle(inbound: InboundMessage, input: EngineInput = inbound.input): Promise<TurnResult> {
    const userKey = deps.userKeyOf(inbound.channel, inbound.userId);
    const sessionId = `${inbound.channel}:${userKey}`;
    const { claim, session } = await deps.sessions.claimAndLoad(inbound.dedupeKey, sessionId);
    if (claim.kind === 'done') return { ...(JSON.parse(claim.reply) as Omit<TurnResult, 'duplicate'>), duplicate: true };
    if (claim.kind === 'pending') return waitForReply(inbound.dedupeKey);
    try {
      let loaded = session;
      for (let attempt = 0; attempt < MAX_SAVE_ATTEMPTS; attempt += 1) {
        const turn = await runTurn(loaded.state, input, inbound, userKey, now());
        const result = { replies: turn.replies, locale: turn.state.locale };
        if (await deps.sessions.save(sessionId, loaded.version, turn.state, inbound.dedupeKey, JSON.stringify(result))) {
          deps.onTurn?.({ channel: inbound.channel, before: loaded.state, after: turn.state });
          return { ...result, duplicate: false };
        }
        loaded = await deps.sessions.load(sessionId);
      }
      throw new ConflictError('SESSION_CONFLICT', 'the conversation changed concurrently too often');
    } catch (err) {
      await deps.sessions.release(inbound.dedupeKey);
      throw err;
    }
  }

  return { handle };
}
export type ConversationService = ReturnType<typeof createConversationService>;
