import { randomUUID } from 'node:crypto';
import { and, desc, eq, isNull, or, type SQL } from 'drizzle-orm';
import { InputError } from '../errors.js';
import { normalizeIndexValue } from '../security/cipher.js';
import type { DerivedKeys } from '../security/keys.js';
import type { Db } from './db.js';
import { idNumberBlindIndex, phoneBlindIndex } from './passengers.js';
import { preregistrations } from './schema.js';
import { addDays, startOfChinaDate } from './time.js';
import type { Vault, VaultPut } from './vault.js';

/** One passenger sent by a ticketing system before the trip (POST /api/v1/ticketing/passengers). */
export interface NewPreregistration {
  ticketId: string;
  tripNumber: string;
  /** `YYYY-MM-DD` (China time). */
  departureDate: string;
  originText: string | null;
  name: string;
  idType: number;
  idNumber: string;
  phone: string | null;
}

/** A stored pre-registration, personal data opened. */
export interface Preregistration extends NewPreregistration {
  id: string;
  claimedPassengerId: string | null;
  createdAt: Date;
}

export interface PreregistrationRepositoryOptions {
  db: Db;
  vault: Vault;
  keys: DerivedKeys;
  retentionDays: number;
}

type PreregistrationRow = typeof preregistrations.$inferSelect;

export function createPreregistrationRepository({ db, vault, keys, retentionDays }: PreregistrationRepositoryOptions) {
  async function open(row: PreregistrationRow, tx?: Db): Promise<Preregistration | null> {
    const refs = [row.nameRef, row.idNumberRef, row.phoneRef].filter((id): id is string => id !== null);
    const values = await vault.get(refs, tx);
    const name = row.nameRef === null ? undefined : values.get(row.nameRef);
    const idNumber = row.idNumberRef === null ? undefined : values.get(row.idNumberRef);
    if (name === undefined || idNumber === undefined) return null;
    return {
      id: row.id, ticketId: row.ticketId, tripNumber: row.tripNumber, departureDate: row.departureDate, originText: row.originText,
      name, idType: row.idType, idNumber, phone: row.phoneRef === null ? null : values.get(row.phoneRef) ?? null,
      claimedPassengerId: row.claimedPassengerId, createdAt: row.createdAt,
    };
  }

  return {
    /** Stores a pre-registration; idempotent by ticketId (a repeat returns the first id with `duplicate: true`). */
    async upsert(input: NewPreregistration, tx?: Db): Promise<{ id: string; duplicate: boolean }> {
      if (!Number.isInteger(input.idType) || input.idType < 1 || input.idType > 7) {
        throw new InputError('REG_ID_TYPE_INVALID', `idType: expected 1-7, got ${input.idType}`);
      }
      const purgeAfter = addDays(startOfChinaDate(input.departureDate), retentionDays + 1);
      const idNumber = normalizeIndexValue('id_number', input.idNumber);
      const phone = input.phone === null || input.phone.trim() === '' ? null : input.phone.trim();
      return (tx ?? db).transaction(async (t) => {
        const id = randomUUID();
        const items: VaultPut[] = [];
        const slot = (kind: VaultPut['kind'], value: string | null): string | null => {
          if (value === null) return null;
          const ref = randomUUID();
          items.push({ id: ref, kind, value, ownerType: 'preregistration', ownerId: id, purgeAfter });
          return ref;
        };
        const [inserted] = await t.insert(preregistrations).values({
          id, ticketId: input.ticketId, tripNumber: input.tripNumber, departureDate: input.departureDate, originText: input.originText,
          nameRef: slot('name', input.name.trim()), idType: input.idType, idNumberRef: slot('id_number', idNumber),
          idBlind: idNumberBlindIndex(keys, idNumber), phoneRef: slot('phone', phone), phoneBlind: phone === null ? null : phoneBlindIndex(keys, phone),
        }).onConflictDoNothing({ target: preregistrations.ticketId }).returning({ id: preregistrations.id });
        if (!inserted) {
          const [existing] = await t.select({ id: preregistrations.id }).from(preregistrations).where(eq(preregistrations.ticketId, input.ticketId));
          if (!existing) throw new Error('pre-registration conflicted but the existing row is not visible');
          return { id: existing.id, duplicate: true };
        }
        await vault.putMany(t, items);
        return { id, duplicate: false };
      });
    },

    /** The unclaimed pre-registration for this trip number and date that matches the typed document number or phone. */
    async findForRider(
      query: { tripNumber: string; departureDate: string; idNumber?: string | undefined; phone?: string | undefined },
      tx?: Db,
    ): Promise<Preregistration | null> {
      const matches: SQL[] = [];
      if (query.idNumber) matches.push(eq(preregistrations.idBlind, idNumberBlindIndex(keys, query.idNumber)));
      if (query.phone) matches.push(eq(preregistrations.phoneBlind, phoneBlindIndex(keys, query.phone)));
      if (matches.length === 0) return null;
      const [row] = await (tx ?? db).select().from(preregistrations)
        .where(and(
          eq(preregistrations.tripNumber, query.tripNumber),
          eq(preregistrations.departureDate, query.departureDate),
          isNull(preregistrations.claimedPassengerId),
          isNull(preregistrations.purgedAt),
          or(...matches),
        ))
        .orderBy(desc(preregistrations.createdAt))
        .limit(1);
      return row ? open(row, tx) : null;
    },

    async byTicketId(ticketId: string, tx?: Db): Promise<Preregistration | null> {
      const [row] = await (tx ?? db).select().from(preregistrations).where(eq(preregistrations.ticketId, ticketId));
      return row ? open(row, tx) : null;
    },

    /** Binds the pre-registration to the passenger it became; false if it was already claimed. */
    async claim(id: string, passengerId: string, tx?: Db): Promise<boolean> {
      const rows = await (tx ?? db).update(preregistrations).set({ claimedPassengerId: passengerId })
        .where(and(eq(preregistrations.id, id), isNull(preregistrations.claimedPassengerId)))
        .returning({ id: preregistrations.id });
      return rows.length > 0;
    },
  };
}

export type PreregistrationRepository = ReturnType<typeof createPreregistrationRepository>;
