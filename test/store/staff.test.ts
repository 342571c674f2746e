import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrollmentCodes } from '../../src/store/schema.js';
import { createStaffRepository } from '../../src/store/staff.js';
import { BACKENDS, type TestDatabase } from '../helpers/db.js';
import { testKeys } from './fixture.js';

describe.each(BACKENDS)('staff enrollment on $name', ({ open }) => {
  let t: TestDatabase;
  let clock = new Date('2030-01-01T00:00:00Z');
  let staff: ReturnType<typeof createStaffRepository>;
  beforeAll(async () => {
    t = await open();
    staff = createStaffRepository({ db: t.database.db, keys: testKeys(), now: () => clock });
  });
  afterAll(async () => { await t.drop(); });

  it('when a code is created, then it is 8 digits and stored only as a hash', async () => {
    const code = await staff.createEnrollmentCode({ role: 'station', city: '210100', station: '沈阳北站', ttlHours: 24 });
    expect(code).toMatch(/^\d{8}$/);
    const rows = await t.database.db.select().from(enrollmentCodes);
    expect(rows.some((r) => r.codeHash.includes(code))).toBe(false);
  });

  it('when a code is used, then the user holds its role and the same code cannot be used again', async () => {
    const code = await staff.createEnrollmentCode({ role: 'station', city: '210100', station: '沈阳北站', ttlHours: 24 });
    const member = await staff.enroll(` ${code} `, { userKey: 'uk-station-1', channel: 'wechat' });
    expect(member).toMatchObject({ userKey: 'uk-station-1', channel: 'wechat', role: 'station', city: '210100', station: '沈阳北站' });
    expect(await staff.byUserKey('uk-station-1')).toEqual(member);
    expect(await staff.enroll(code, { userKey: 'uk-other', channel: 'wechat' })).toBeNull();
    expect(await staff.byUserKey('uk-other')).toBeNull();
  });

  it('when 10 users race for one code, then exactly one is enrolled', async () => {
    const code = await staff.createEnrollmentCode({ role: 'crew', ttlHours: 1 });
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => staff.enroll(code, { userKey: `uk-race-${i}`, channel: 'sms' })));
    const winners = results.filter((r) => r !== null);
    expect(winners).toHaveLength(1);
    expect(winners[0]?.role).toBe('crew');
  });

  it('when the code has expired or never existed, then enroll gives null', async () => {
    const code = await staff.createEnrollmentCode({ role: 'authority', ttlHours: 2 });
    clock = new Date(clock.getTime() + 2 * 3_600_000);
    expect(await staff.enroll(code, { userKey: 'uk-late', channel: 'wechat' })).toBeNull();
    expect(await staff.enroll('00000000', { userKey: 'uk-late', channel: 'wechat' })).toBeNull();
  });

  it('when an enrolled member enrolls with a new code, then the role is replaced; a revoked member is no longer staff', async () => {
    const first = await staff.createEnrollmentCode({ role: 'crew', ttlHours: 1 });
    const second = await staff.createEnrollmentCode({ role: 'admin', ttlHours: 1 });
    const crew = await staff.enroll(first, { userKey: 'uk-promote', channel: 'wechat' });
    const admin = await staff.enroll(second, { userKey: 'uk-promote', channel: 'wechaty' });
    expect(admin).toMatchObject({ id: crew?.id, role: 'admin', channel: 'wechaty' });
    expect(await staff.revoke(admin?.id ?? '')).toBe(true);
    expect(await staff.byUserKey('uk-promote')).toBeNull();
    expect(await staff.revoke(admin?.id ?? '')).toBe(false);
  });
});
