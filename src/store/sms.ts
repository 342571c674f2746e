import { randomUUID } from 'node:crypto';
import { and, desc, eq, inArray, lt, max, or, sql } from 'drizzle-orm';
import { blindIndex, open, seal } from '../security/cipher.js';
import type { DerivedKeys } from '../security/keys.js';
import type { Db } from './db.js';
import { phoneBlindIndex } from './passengers.js';
import { smsMessages, smsUplinks, type SmsMessageStatus, type SmsUplinkStatus } from './schema-sms.js';
import type { Vault } from './vault.js';

/**
 * Outbound SMS messages and received uplinks (src/store/schema-sms.ts). Numbers go to the vault (messages) or are
 * sealed in the row (uplinks, until processed); template params and texts are sealed; lookups use the phone blind index.
 * These sealed columns are short-lived (dropped once a message is final or an uplink processed), so they use the
 * stable session key, like Redis sessions: a master-key rotation, which retires the vault's encryption key, never
 * strands them.
 */
export interface NewSmsMessage {
  phone: string;
  kind: string;
  templateCode: string;
  params: Record<string, string>;
  tripId: string | null;
  conversationRef: string;
  invitedBy: string | null;
  purgeAfter: Date;
}

export interface SmsMessageRow {
  id: string;
  phoneRef: string | null;
  phoneBlind: string;
  kind: string;
  templateCode: string;
  status: SmsMessageStatus;
  bizId: string | null;
  attempts: number;
  lastErrorCode: string | null;
  tripId: string | null;
  invitedBy: string | null;
  conversationRef: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface NewUplink { dedupeKey: string; phone: string; content: string; sendTime: string; sentAt: Date | null }
export interface StoredUplink { id: string; dedupeKey: string; phone: string; content: string; sentAt: Date | null; phoneBlind: string }

const paramsAad = (id: string) => `sms_messages:${id}:params`;
const uplinkAad = (id: string, what: 'phone' | 'content') => `sms_uplinks:${id}:${what}`;

export function createSmsRepository({ db, vault, keys }: { db: Db; vault: Vault; keys: DerivedKeys }) {
  const blind = (phone: string) => phoneBlindIndex(keys, phone);

  function rowOf(r: typeof smsMessages.$inferSelect): SmsMessageRow {
    return {
      id: r.id, phoneRef: r.phoneRef, phoneBlind: r.phoneBlind, kind: r.kind, templateCode: r.templateCode, status: r.status, bizId: r.bizId,
      attempts: r.attempts, lastErrorCode: r.lastErrorCode, tripId: r.tripId, invitedBy: r.invitedBy, conversationRef: r.conversationRef,
      createdAt: r.createdAt, updatedAt: r.updatedAt,
    };
  }

  return {
    blind,

    /**
     * Records a message to send and supersedes any still-unsent question to the same number (at most one open
     * question per number). Returns the new id and how many were superseded.
     */
    async queue(input: NewSmsMessage): Promise<{ id: string; superseded: number }> {
      const id = randomUUID();
      const phoneBlind = blind(input.phone);
      return db.transaction(async (tx) => {
        const superseded = await tx.update(smsMessages)
          .set({ status: 'superseded', paramsSealed: null, updatedAt: new Date() })
          .where(and(eq(smsMessages.phoneBlind, phoneBlind), inArray(smsMessages.status, ['queued', 'uncertain'])))
          .returning({ id: smsMessages.id });
        const phoneRef = await vault.put(tx, { kind: 'phone', value: input.phone, ownerType: 'trip', ownerId: null, purgeAfter: input.purgeAfter });
        await tx.insert(smsMessages).values({
          id, phoneRef, phoneBlind, kind: input.kind, templateCode: input.templateCode, locale: 'zh-CN',
          paramsSealed: seal(keys.session, JSON.stringify(input.params), paramsAad(id)), keyId: keys.keyId, outId: id,
          tripId: input.tripId, conversationRef: input.conversationRef, invitedBy: input.invitedBy,
        });
        return { id, superseded: superseded.length };
      });
    },

    async byId(id: string): Promise<SmsMessageRow | null> {
      const [r] = await db.select().from(smsMessages).where(eq(smsMessages.id, id));
      return r ? rowOf(r) : null;
    },

    /** Claims a message for sending: queued, or uncertain for longer than `recheckMs`. Null when someone else has it. */
    async claim(id: string, recheckMs: number): Promise<(SmsMessageRow & { phone: string; params: Record<string, string> }) | null> {
      const [r] = await db.update(smsMessages)
        .set({ status: 'sending', attempts: sql`${smsMessages.attempts} + 1`, updatedAt: new Date() })
        .where(and(eq(smsMessages.id, id), or(eq(smsMessages.status, 'queued'), and(eq(smsMessages.status, 'uncertain'), lt(smsMessages.updatedAt, new Date(Date.now() - recheckMs))))))
        .returning();
      if (!r) return null;
      const phone = r.phoneRef ? (await vault.get([r.phoneRef])).get(r.phoneRef) : undefined;
      const params = r.paramsSealed ? JSON.parse(open(keys.session, r.paramsSealed, paramsAad(r.id))) as Record<string, string> : null;
      if (phone === undefined || params === null) {
        await db.update(smsMessages).set({ status: 'failed', lastErrorCode: 'DATA_GONE', paramsSealed: null, updatedAt: new Date() }).where(eq(smsMessages.id, id));
        return null;
      }
      return { ...rowOf(r), phone, params };
    },

    /** Moves a message we hold (status sending) on; final states drop the sealed params. */
    async settle(id: string, patch: { status: SmsMessageStatus; bizId?: string; errorCode?: string | null }): Promise<void> {
      const final = patch.status !== 'queued' && patch.status !== 'uncertain';
      await db.update(smsMessages).set({
        status: patch.status, updatedAt: new Date(),
        ...(patch.bizId === undefined ? {} : { bizId: patch.bizId, sentAt: new Date() }),
        ...(patch.errorCode === undefined ? {} : { lastErrorCode: patch.errorCode }),
        ...(final ? { paramsSealed: null } : {}),
      }).where(and(eq(smsMessages.id, id), eq(smsMessages.status, 'sending')));
    },

    /** A delivery receipt: by BizId, or by our OutId (= id) when the send's answer was lost. Returns the rows changed. */
    async applyReceipt(r: { bizId: string; outId: string | undefined; success: boolean; errCode: string }): Promise<SmsMessageRow[]> {
      const byOut = r.outId !== undefined && /^[0-9a-f-]{36}$/i.test(r.outId) ? eq(smsMessages.id, r.outId) : undefined;
      const rows = await db.update(smsMessages).set({
        status: r.success ? 'delivered' : 'failed', updatedAt: new Date(), paramsSealed: null,
        ...(r.success ? { deliveredAt: new Date() } : { lastErrorCode: r.errCode.slice(0, 64) }),
        bizId: sql`coalesce(${smsMessages.bizId}, ${r.bizId})`,
      }).where(and(
        byOut ? or(eq(smsMessages.bizId, r.bizId), byOut) : eq(smsMessages.bizId, r.bizId),
        inArray(smsMessages.status, ['sent', 'uncertain', 'sending', 'queued']),
      )).returning();
      return rows.map(rowOf);
    },

    /** The latest message to a number (its trip, inviter), or null when we never wrote to it. */
    async latestTo(phone: string): Promise<SmsMessageRow | null> {
      const [r] = await db.select().from(smsMessages).where(eq(smsMessages.phoneBlind, blind(phone))).orderBy(desc(smsMessages.createdAt)).limit(1);
      return r ? rowOf(r) : null;
    },

    /** The invitation that started the conversation this message belongs to (same number and trip). */
    async invitationOf(row: Pick<SmsMessageRow, 'phoneBlind' | 'tripId'>): Promise<SmsMessageRow | null> {
      if (row.tripId === null) return null;
      const [r] = await db.select().from(smsMessages)
        .where(and(eq(smsMessages.phoneBlind, row.phoneBlind), eq(smsMessages.tripId, row.tripId), eq(smsMessages.kind, 'invite')))
        .orderBy(desc(smsMessages.createdAt)).limit(1);
      return r ? rowOf(r) : null;
    },

    async forTrip(tripId: string): Promise<SmsMessageRow[]> {
      const rows = await db.select().from(smsMessages).where(eq(smsMessages.tripId, tripId)).orderBy(desc(smsMessages.createdAt));
      return rows.map(rowOf);
    },

    /** Stores the uplinks not seen before (unique dedupe key and content key); returns only those, with their ids. */
    async storeUplinks(items: readonly NewUplink[]): Promise<StoredUplink[]> {
      if (items.length === 0) return [];
      const rows = items.map((item) => {
        const id = randomUUID();
        return {
          id, dedupeKey: item.dedupeKey, phoneBlind: blind(item.phone), keyId: keys.keyId, sentAt: item.sentAt,
          contentKey: blindIndex(keys.blindIndex, 'sms_uplink', `${item.phone}\u0000${item.sendTime}\u0000${item.content}`),
          phoneSealed: seal(keys.session, item.phone, uplinkAad(id, 'phone')), contentSealed: seal(keys.session, item.content, uplinkAad(id, 'content')),
        };
      });
      const inserted = new Set<string>();
      for (let i = 0; i < rows.length; i += 500) {
        const chunk = rows.slice(i, i + 500);
        const done = await db.insert(smsUplinks).values(chunk).onConflictDoNothing().returning({ id: smsUplinks.id });
        for (const d of done) inserted.add(d.id);
      }
      const byId = new Map(items.map((item, i) => [rows[i]?.id ?? '', item]));
      return rows.filter((r) => inserted.has(r.id)).map((r) => {
        const item = byId.get(r.id);
        return { id: r.id, dedupeKey: r.dedupeKey, phone: item?.phone ?? '', content: item?.content ?? '', sentAt: r.sentAt, phoneBlind: r.phoneBlind };
      });
    },

    /** Uplinks still pending since before `olderThan` (a crash between storing and processing). */
    async pendingUplinks(olderThan: Date, limit: number): Promise<StoredUplink[]> {
      const rows = await db.select().from(smsUplinks)
        .where(and(eq(smsUplinks.status, 'pending'), lt(smsUplinks.receivedAt, olderThan)))
        .orderBy(smsUplinks.receivedAt).limit(limit);
      return rows.flatMap((r) => (r.phoneSealed && r.contentSealed ? [{
        id: r.id, dedupeKey: r.dedupeKey, phoneBlind: r.phoneBlind, sentAt: r.sentAt,
        phone: open(keys.session, r.phoneSealed, uplinkAad(r.id, 'phone')), content: open(keys.session, r.contentSealed, uplinkAad(r.id, 'content')),
      }] : []));
    },

    /** The send time of the latest processed uplink of each number (out-of-order detection). */
    async lastProcessed(phoneBlinds: readonly string[]): Promise<Map<string, Date>> {
      if (phoneBlinds.length === 0) return new Map();
      const rows = await db.select({ phoneBlind: smsUplinks.phoneBlind, last: max(smsUplinks.sentAt) }).from(smsUplinks)
        .where(and(inArray(smsUplinks.phoneBlind, [...new Set(phoneBlinds)]), eq(smsUplinks.status, 'done')))
        .groupBy(smsUplinks.phoneBlind);
      return new Map(rows.flatMap((r) => (r.last ? [[r.phoneBlind, r.last]] : [])));
    },

    /** Marks uplinks processed and drops their sealed number and text. */
    async markUplinks(ids: readonly string[], status: SmsUplinkStatus): Promise<void> {
      if (ids.length === 0) return;
      await db.update(smsUplinks).set({ status, processedAt: new Date(), phoneSealed: null, contentSealed: null }).where(inArray(smsUplinks.id, [...ids]));
    },

    async uplinkCounts(): Promise<Record<string, number>> {
      const rows = await db.select({ status: smsUplinks.status, n: sql<number>`count(*)::int` }).from(smsUplinks).groupBy(smsUplinks.status);
      return Object.fromEntries(rows.map((r) => [r.status, r.n]));
    },
  };
}

export type SmsRepository = ReturnType<typeof createSmsRepository>;
