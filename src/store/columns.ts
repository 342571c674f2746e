import { sql } from 'drizzle-orm';
import { customType, timestamp } from 'drizzle-orm/pg-core';

/** Column helpers every schema file uses (one definition, so the generated DDL stays the same everywhere). */
export const bytea = customType<{ data: Buffer; driverData: Uint8Array }>({
  dataType: () => 'bytea',
  toDriver: (value) => value,
  fromDriver: (value) => (Buffer.isBuffer(value) ? value : Buffer.from(value)),
});

export const timestamptz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** `'a', 'b'` for a CHECK constraint over the allowed values of a text column. */
export const inList = (values: readonly string[]) => sql.raw(values.map((v) => `'${v}'`).join(', '));
