import { createHmac, randomInt } from 'node:crypto';
import { and, asc, eq, gt, isNotNull, isNull } from 'drizzle-orm';
import { ConflictError, InputError } from '../errors.js';
import type { DerivedKeys } from '../security/keys.js';
import type { Db } from './db.js';
import type { Vault } from './vault.js';
import { enrollmentCodes, staffMembers, type StaffRole } from './schema.js';
import { addDays } from './time.js';

export interface StaffMember {
  id: string;
  userKey: string;
  channel: string;
  role: StaffRole;
  city: string | null;
  station: string | null;
  enrolledAt: Date;
}

export interface NewEnrollmentCode {
  role: StaffRole;
  city?: string | null | undefined;
  station?: string | null | undefined;
  ttlHours: number;
}

export interface StaffRepositoryOptions {
  db: Db;
  keys: Pick<DerivedKeys, 'apiKeyPepper'>;
  now?: (() => Date) | undefined;
  /** Keeps enrolled officials' OA openids sealed (for report messages); without it no contact is kept. */
  vault?: Vault | undefined;
}

/** How long a staff member's sealed openid is kept after enrollment (re-enrolling starts the year again). */
export const STAFF_CONTACT_DAYS = 365;

export interface StaffOfficial { staffId: string; openid: string }

const CODE_ATTEMPTS = 10;

/** Canonical form of a typed code: full-width digits folded, spaces dropped. */
export function normalizeEnrollmentCode(code: string): string {
  return code.normalize('NFKC').replace(/\s+/g, '');
}

export function createStaffRepository({ db, keys, now = () => new Date(), vault }: StaffRepositoryOptions) {
  const hash = (code: string): string =>
    createHmac('sha256', keys.apiKeyPepper).update(`enroll\u0000${normalizeEnrollmentCode(code)}`, 'utf8').digest('hex');
  const member = (r: typeof staffMembers.$inferSelect): StaffMember => ({
    id: r.id, userKey: r.userKey, channel: r.channel, role: r.role, city: r.city, station: r.station, enrolledAt: r.enrolledAt,
  });

  return {
    /** A one-time 8-digit enrollment code (returned once; stored as a keyed hash). */
    async createEnrollmentCode(input: NewEnrollmentCode, tx?: Db): Promise<string> {
      if (!(input.ttlHours > 0)) throw new InputError('ENROLL_TTL_INVALID', `ttlHours: expected a positive number, got ${input.ttlHours}`);
      const expiresAt = addDays(now(), input.ttlHours / 24);
      for (let attempt = 0; attempt < CODE_ATTEMPTS; attempt += 1) {
        const code = String(randomInt(0, 100_000_000)).padStart(8, '0');
        const rows = await (tx ?? db).insert(enrollmentCodes).values({
          codeHash: hash(code), role: input.role, city: input.city ?? null, station: input.station ?? null, createdAt: now(), expiresAt,
        }).onConflictDoNothing({ target: enrollmentCodes.codeHash }).returning({ codeHash: enrollmentCodes.codeHash });
        if (rows.length > 0) return code;
      }
      throw new ConflictError('ENROLL_CODE_EXHAUSTED', `no free enrollment code found after ${CODE_ATTEMPTS} attempts`);
    },

    /**
     * Uses a code once: the user becomes (or is updated to) a staff member with the code's role, city and station.
     * null when the code is unknown, expired or already used, also when two users race for it. Over `wechat`, with
     * `openid`, the openid is sealed in the vault (owner `staff`, purged STAFF_CONTACT_DAYS after enrollment) so the
     * daily report can reach the member; any earlier contact of the member is replaced.
     */
    async enroll(code: string, who: { userKey: string; channel: string; openid?: string | undefined }, tx?: Db): Promise<StaffMember | null> {
      const at = now();
      return (tx ?? db).transaction(async (t) => {
        const [claimed] = await t.update(enrollmentCodes)
          .set({ usedAt: at, usedBy: who.userKey })
          .where(and(eq(enrollmentCodes.codeHash, hash(code)), isNull(enrollmentCodes.usedAt), gt(enrollmentCodes.expiresAt, at)))
          .returning({ role: enrollmentCodes.role, city: enrollmentCodes.city, station: enrollmentCodes.station });
        if (!claimed) return null;
        const [row] = await t.insert(staffMembers)
          .values({ userKey: who.userKey, channel: who.channel, role: claimed.role, city: claimed.city, station: claimed.station, enrolledAt: at })
          .onConflictDoUpdate({
            target: staffMembers.userKey,
            set: { channel: who.channel, role: claimed.role, city: claimed.city, station: claimed.station, enrolledAt: at, revokedAt: null },
          })
          .returning();
        if (!row) throw new Error('staff upsert returned no row');
        if (vault) {
          await vault.deleteByOwner(t, { ownerType: 'staff', ownerId: row.id });
          const contactRef = who.channel === 'wechat' && who.openid
            ? await vault.put(t, { kind: 'openid', value: who.openid, ownerType: 'staff', ownerId: row.id, purgeAfter: addDays(at, STAFF_CONTACT_DAYS) })
            : null;
          await t.update(staffMembers).set({ contactRef }).where(eq(staffMembers.id, row.id));
        }
        return member(row);
      });
    },

    /** The active (not revoked) staff member with this user key. */
    async byUserKey(userKey: string, tx?: Db): Promise<StaffMember | null> {
      const [row] = await (tx ?? db).select().from(staffMembers)
        .where(and(eq(staffMembers.userKey, userKey), isNull(staffMembers.revokedAt)));
      return row ? member(row) : null;
    },

    async byId(id: string, tx?: Db): Promise<StaffMember | null> {
      const [row] = await (tx ?? db).select().from(staffMembers).where(and(eq(staffMembers.id, id), isNull(staffMembers.revokedAt)));
      return row ? member(row) : null;
    },

    /** Revokes a staff member's role and drops their sealed contact; false when there is no such active member. */
    async revoke(id: string, tx?: Db): Promise<boolean> {
      return (tx ?? db).transaction(async (t) => {
        const rows = await t.update(staffMembers).set({ revokedAt: now(), contactRef: null })
          .where(and(eq(staffMembers.id, id), isNull(staffMembers.revokedAt)))
          .returning({ id: staffMembers.id });
        if (rows.length > 0 && vault) await vault.deleteByOwner(t, { ownerType: 'staff', ownerId: id });
        return rows.length > 0;
      });
    },

    /**
     * The city's officials who can be reached over WeChat: role `authority`, that city, not revoked, with a contact
     * whose openid is still in the vault (a purged one is skipped).
     */
    async officialsOf(city: string, tx?: Db): Promise<StaffOfficial[]> {
      if (!vault) return [];
      const rows = await (tx ?? db).select({ id: staffMembers.id, contactRef: staffMembers.contactRef }).from(staffMembers)
        .where(and(eq(staffMembers.role, 'authority'), eq(staffMembers.city, city), isNull(staffMembers.revokedAt), isNotNull(staffMembers.contactRef)))
        .orderBy(asc(staffMembers.enrolledAt), asc(staffMembers.id));
      const opened = await vault.get(rows.map((r) => r.contactRef ?? ''), tx);
      const out: StaffOfficial[] = [];
      for (const r of rows) {
        const openid = r.contactRef === null ? undefined : opened.get(r.contactRef);
        if (openid !== undefined) out.push({ staffId: r.id, openid });
      }
      return out;
    },
  };
}

export type StaffRepository = ReturnType<typeof createStaffRepository>;
