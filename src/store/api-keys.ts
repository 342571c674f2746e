import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { desc, eq, isNull, and } from 'drizzle-orm';
import type { DerivedKeys } from '../security/keys.js';
import type { Db } from './db.js';
import { apiKeys, type ApiKeyRole } from './schema.js';

/** An API key as stored: never the key itself, never its hash. */
export interface ApiKeyRecord {
  id: string;
  /** `br_` plus the first 8 characters: enough to recognise a key in a list. */
  prefix: string;
  role: ApiKeyRole;
  city: string | null;
  station: string | null;
  label: string | null;
  createdAt: Date;
  expiresAt: Date | null;
  revokedAt: Date | null;
}

export interface NewApiKey {
  role: ApiKeyRole;
  city?: string | null | undefined;
  station?: string | null | undefined;
  label?: string | null | undefined;
  expiresAt?: Date | null | undefined;
}

export interface ApiKeyRepositoryOptions {
  db: Db;
  keys: Pick<DerivedKeys, 'apiKeyPepper'>;
  now?: (() => Date) | undefined;
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const KEY_BODY_LENGTH = 32; // ≈190 bits
const PREFIX_LENGTH = 3 + 8;
const KEY_PATTERN = /^br_[0-9A-Za-z]{32}$/;

/** Uniform random base62 text (rejection sampling, no modulo bias). */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248) out += BASE62[byte % 62] ?? '';
      if (out.length === length) break;
    }
  }
  return out;
}

export function createApiKeyRepository({ db, keys, now = () => new Date() }: ApiKeyRepositoryOptions) {
  const hash = (key: string): string => createHmac('sha256', keys.apiKeyPepper).update(`api-key\u0000${key}`, 'utf8').digest('hex');
  const record = (r: typeof apiKeys.$inferSelect): ApiKeyRecord => ({
    id: r.id, prefix: r.keyPrefix, role: r.role, city: r.city, station: r.station, label: r.label,
    createdAt: r.createdAt, expiresAt: r.expiresAt, revokedAt: r.revokedAt,
  });

  return {
    /** Creates a key; `key` is returned this once and only its keyed hash is stored. */
    async create(input: NewApiKey, tx?: Db): Promise<{ id: string; key: string }> {
      const key = `br_${randomBase62(KEY_BODY_LENGTH)}`;
      const [row] = await (tx ?? db).insert(apiKeys).values({
        keyPrefix: key.slice(0, PREFIX_LENGTH), keyHash: hash(key), role: input.role, city: input.city ?? null,
        station: input.station ?? null, label: input.label ?? null, expiresAt: input.expiresAt ?? null,
      }).returning({ id: apiKeys.id });
      if (!row) throw new Error('api key insert returned no row');
      return { id: row.id, key };
    },

    /** The key's record, or null for a malformed, unknown, revoked or expired key. Constant-time hash compare. */
    async verify(key: string, tx?: Db): Promise<ApiKeyRecord | null> {
      if (!KEY_PATTERN.test(key)) return null;
      const presented = Buffer.from(hash(key), 'hex');
      const rows = await (tx ?? db).select().from(apiKeys).where(eq(apiKeys.keyPrefix, key.slice(0, PREFIX_LENGTH)));
      const at = now();
      let match: typeof apiKeys.$inferSelect | undefined;
      for (const r of rows) {
        const stored = Buffer.from(r.keyHash, 'hex');
        if (stored.length === presented.length && timingSafeEqual(stored, presented)) match = r;
      }
      if (!match || match.revokedAt !== null) return null;
      if (match.expiresAt !== null && match.expiresAt.getTime() <= at.getTime()) return null;
      return record(match);
    },

    async list(tx?: Db): Promise<ApiKeyRecord[]> {
      const rows = await (tx ?? db).select().from(apiKeys).orderBy(desc(apiKeys.createdAt), desc(apiKeys.id));
      return rows.map(record);
    },

    /** Revokes a key; false when there is no such (unrevoked) key. */
    async revoke(id: string, tx?: Db): Promise<boolean> {
      const rows = await (tx ?? db).update(apiKeys).set({ revokedAt: now() })
        .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
        .returning({ id: apiKeys.id });
      return rows.length > 0;
    },
  };
}

export type ApiKeyRepository = ReturnType<typeof createApiKeyRepository>;
