import type { Redis, Result } from 'ioredis';
import { open, openJson, seal, sealJson } from '../security/cipher.js';
import { DecryptionError } from '../security/errors.js';
import { ConversationStateSchema, type ConversationState } from '../engine/state.js';

/**
 * Conversation sessions in Redis, sealed with AES-GCM (they hold answers in progress), with optimistic
 * concurrency: a save succeeds only if nobody saved since our load. The same script stores the turn's
 * reply under the delivery's dedupe key, so a retried delivery finds it.
 *
 * One turn = two round trips: [claim delivery + load session] and [save session + reply].
 */
const SAVE_SCRIPT = `
local current = redis.call('GET', KEYS[1])
local version = 0
if current then version = tonumber(string.match(current, '^(%d+)|')) or 0 end
if version ~= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], (version + 1) .. '|' .. ARGV[2], 'EX', tonumber(ARGV[3]))
if KEYS[2] ~= '' then redis.call('SET', KEYS[2], ARGV[4], 'EX', tonumber(ARGV[5])) end
return 1
`;

/** Claims the delivery (SET NX with a short TTL) and returns [claimed, what the dedupe key holds, the session]. */
const CLAIM_SCRIPT = `
local claimed = redis.call('SET', KEYS[1], ARGV[1], 'EX', tonumber(ARGV[2]), 'NX')
local existing = false
if not claimed then existing = redis.call('GET', KEYS[1]) end
return { claimed and 1 or 0, existing, redis.call('GET', KEYS[2]) }
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    boardrollClaimAndLoad(dedupeKey: string, sessionKey: string, pending: string, pendingTtlSeconds: number): Result<[number, string | null, string | null], Context>;
    boardrollSaveSession(sessionKey: string, replyKey: string, expectedVersion: number, blob: string, ttlSeconds: number, reply: string, replyTtlSeconds: number): Result<number, Context>;
  }
}

export type Claim = { kind: 'claimed' } | { kind: 'done'; reply: string } | { kind: 'pending' };
export interface LoadedSession { state: ConversationState | null; version: number }

const PENDING = 'pending';
/** Cached replies hold what the user typed (names in summaries): sealed like the session, bound to the delivery. */
const SEALED_REPLY = 'r1:';
/** A claim dies quickly if its process does, so WeChat's next retry is served. */
const PENDING_TTL_SECONDS = 15;
const REPLY_TTL_SECONDS = 600;
/** Sessions stay readable this long, so an expired conversation can still be offered for resumption. */
const SESSION_KEEP_SECONDS = 24 * 3600;

export interface SessionStore {
  claimAndLoad(dedupeKey: string, sessionId: string): Promise<{ claim: Claim; session: LoadedSession }>;
  load(sessionId: string): Promise<LoadedSession>;
  save(sessionId: string, expectedVersion: number, state: ConversationState, dedupeKey: string | null, reply: string): Promise<boolean>;
  replyOf(dedupeKey: string): Promise<Claim>;
  release(dedupeKey: string): Promise<void>;
}

export function createSessionStore(redis: Redis, options: { prefix: string; sessionKey: Buffer }): SessionStore {
  if (!redis.boardrollSaveSession) redis.defineCommand('boardrollSaveSession', { numberOfKeys: 2, lua: SAVE_SCRIPT });
  if (!redis.boardrollClaimAndLoad) redis.defineCommand('boardrollClaimAndLoad', { numberOfKeys: 2, lua: CLAIM_SCRIPT });
  const sessionKeyOf = (id: string) => `${options.prefix}:s:${id}`;
  const dedupeKeyOf = (key: string) => `${options.prefix}:d:${key}`;

  function decode(raw: string | null, sessionId: string): LoadedSession {
    if (raw === null) return { state: null, version: 0 };
    const bar = raw.indexOf('|');
    const version = Number(raw.slice(0, bar));
    try {
      const parsed = ConversationStateSchema.safeParse(openJson(options.sessionKey, raw.slice(bar + 1), sessionId));
      return { state: parsed.success ? parsed.data : null, version };
    } catch (err) {
      // A blob sealed under another key or damaged: start afresh rather than fail the user.
      if (err instanceof DecryptionError) return { state: null, version };
      throw err;
    }
  }

  function claimOf(raw: string | null, claimed: boolean, dedupeKey: string): Claim {
    if (claimed) return { kind: 'claimed' };
    if (raw === null || raw === PENDING) return { kind: 'pending' };
    if (!raw.startsWith(SEALED_REPLY)) return { kind: 'done', reply: raw };
    try {
      return { kind: 'done', reply: open(options.sessionKey, Buffer.from(raw.slice(SEALED_REPLY.length), 'base64'), `reply:${dedupeKey}`) };
    } catch (err) {
      // An unreadable cached reply is treated as not there yet: the retry waits, then answers `success`.
      if (err instanceof DecryptionError) return { kind: 'pending' };
      throw err;
    }
  }

  return {
    async claimAndLoad(dedupeKey, sessionId) {
      // One script, one round trip: claim the delivery and read the session together.
      const [claimed, existing, session] = await redis.boardrollClaimAndLoad(dedupeKeyOf(dedupeKey), sessionKeyOf(sessionId), PENDING, PENDING_TTL_SECONDS);
      return { claim: claimOf(existing ?? null, claimed === 1, dedupeKey), session: decode(session ?? null, sessionId) };
    },
    async load(sessionId) {
      return decode(await redis.get(sessionKeyOf(sessionId)), sessionId);
    },
    async save(sessionId, expectedVersion, state, dedupeKey, reply) {
      const blob = sealJson(options.sessionKey, state, sessionId);
      const sealedReply = dedupeKey ? `${SEALED_REPLY}${seal(options.sessionKey, reply, `reply:${dedupeKey}`).toString('base64')}` : '';
      const ok = await redis.boardrollSaveSession(sessionKeyOf(sessionId), dedupeKey ? dedupeKeyOf(dedupeKey) : '', expectedVersion, blob, SESSION_KEEP_SECONDS, sealedReply, REPLY_TTL_SECONDS);
      return ok === 1;
    },
    async replyOf(dedupeKey) {
      return claimOf(await redis.get(dedupeKeyOf(dedupeKey)), false, dedupeKey);
    },
    async release(dedupeKey) {
      await redis.del(dedupeKeyOf(dedupeKey));
    },
  };
}
