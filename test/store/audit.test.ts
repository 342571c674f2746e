import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { createAuditRepository, redactPii } from '../../src/store/audit.js';
import { BACKENDS, type TestDatabase } from '../helpers/db.js';

describe.each(BACKENDS)('audit log on $name', ({ open }) => {
  let t: TestDatabase;
  let audit: ReturnType<typeof createAuditRepository>;
  beforeAll(async () => {
    t = await open();
    audit = createAuditRepository({ db: t.database.db });
  });
  afterAll(async () => { await t.drop(); });

  it('when entries are appended, then list filters by actor, action and time, newest first', async () => {
    const before = new Date(Date.now() - 1000);
    const a = await audit.append({ actor: 'key-a', action: 'trace', subject: 'plate:辽A12345', reason: 'case 17', details: { matches: 2 } });
    const b = await audit.append({ actor: 'key-a', action: 'roster', subject: 'trip:123456' });
    await audit.append({ actor: 'staff-b', action: 'roster' });
    const mine = await audit.list({ actor: 'key-a', limit: 10 });
    expect(mine.map((e) => e.id)).toEqual([b, a]);
    expect(mine[1]).toMatchObject({ actor: 'key-a', action: 'trace', subject: 'plate:辽A12345', reason: 'case 17', details: { matches: 2 } });
    expect((await audit.list({ action: 'trace', from: before, limit: 10 })).map((e) => e.id)).toEqual([a]);
    expect(await audit.list({ to: before, limit: 10 })).toEqual([]);
    expect(await audit.list({ limit: 1 })).toHaveLength(1);
  });

  it('when UPDATE, DELETE or TRUNCATE hits audit_log, then the database refuses', async () => {
    await audit.append({ actor: 'system', action: 'boot' });
    const { db } = t.database;
    const refusal = async (statement: Promise<unknown>) => {
      const err = await statement.then(() => null, (e: unknown) => e);
      // drizzle wraps the driver error; the database's own error is the cause
      const cause = err instanceof Error ? err.cause : undefined;
      return cause instanceof Error ? { message: cause.message, code: (cause as { code?: unknown }).code } : err;
    };
    for (const statement of [sql`update audit_log set actor = 'mallory'`, sql`delete from audit_log`, sql`truncate audit_log`]) {
      expect(await refusal(db.execute(statement))).toEqual({ message: expect.stringMatching(/audit_log is append-only: (UPDATE|DELETE|TRUNCATE) refused/), code: '42501' });
    }
    expect((await audit.list({ limit: 100 })).some((e) => e.actor === 'mallory')).toBe(false);
  });

  it('when a reason or details carry a phone or identity number, then it is redacted before storing', async () => {
    const id = await audit.append({
      actor: 'key-c', action: 'trace', reason: '追踪 13812345678 与 21010219900101123X',
      details: { query: { phone: '+8613812345678' }, list: ['110101199001011234'], tripId: '12345678-1234-4234-8234-123456789012' },
    });
    const [entry] = (await audit.list({ actor: 'key-c', limit: 1 }));
    expect(entry?.id).toBe(id);
    expect(entry?.reason).toBe('追踪 [redacted] 与 [redacted]');
    expect(entry?.details).toEqual({ query: { phone: '[redacted]' }, list: ['[redacted]'], tripId: '12345678-1234-4234-8234-123456789012' });
  });
});

describe('redactPii', () => {
  it('when text holds trip codes, dates and uuids, then they are kept', () => {
    expect(redactPii('trip 123456 on 2030-05-01, id 12345678-1234-4234-8234-123456789012')).toBe('trip 123456 on 2030-05-01, id 12345678-1234-4234-8234-123456789012');
  });
});
