import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKeyRepository } from '../../src/store/api-keys.js';
import { apiKeys } from '../../src/store/schema.js';
import { BACKENDS, type TestDatabase } from '../helpers/db.js';
import { testKeys } from './fixture.js';

describe.each(BACKENDS)('api keys on $name', ({ open }) => {
  let t: TestDatabase;
  let clock = new Date('2030-01-01T00:00:00Z');
  let repo: ReturnType<typeof createApiKeyRepository>;
  beforeAll(async () => {
    t = await open();
    repo = createApiKeyRepository({ db: t.database.db, keys: testKeys(), now: () => clock });
  });
  afterAll(async () => { await t.drop(); });

  it('when a key is created, then it is shown once as br_ + 32 base62 and only a keyed hash is stored', async () => {
    const { id, key } = await repo.create({ role: 'station', city: '210100', station: '沈阳北站', label: 'gate 1' });
    expect(key).toMatch(/^br_[0-9A-Za-z]{32}$/);
    const [row] = await t.database.db.select().from(apiKeys);
    expect(row?.keyHash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(row)).not.toContain(key.slice(11));
    expect(await repo.verify(key)).toMatchObject({ id, role: 'station', city: '210100', station: '沈阳北站', label: 'gate 1', prefix: key.slice(0, 11), revokedAt: null });
  });

  it('when an unknown, malformed or near-miss key is presented, then verify gives null', async () => {
    const { key } = await repo.create({ role: 'authority' });
    const last = key.at(-1) === 'a' ? 'b' : 'a';
    expect(await repo.verify(`${key.slice(0, -1)}${last}`)).toBeNull();
    expect(await repo.verify('br_short')).toBeNull();
    expect(await repo.verify('')).toBeNull();
    expect(await repo.verify(`${key} `)).toBeNull();
  });

  it('when a key is revoked, then verify gives null and a second revoke reports false', async () => {
    const { id, key } = await repo.create({ role: 'health' });
    expect(await repo.revoke(id)).toBe(true);
    expect(await repo.verify(key)).toBeNull();
    expect(await repo.revoke(id)).toBe(false);
    expect((await repo.list()).find((k) => k.id === id)?.revokedAt).toEqual(clock);
  });

  it('when a key reaches its expiry time, then verify gives null from that instant', async () => {
    const expiresAt = new Date(clock.getTime() + 60_000);
    const { key } = await repo.create({ role: 'ticketing', expiresAt });
    expect(await repo.verify(key)).not.toBeNull();
    clock = new Date(expiresAt.getTime() - 1);
    expect(await repo.verify(key)).not.toBeNull();
    clock = expiresAt;
    expect(await repo.verify(key)).toBeNull();
  });

  it('when keys are listed, then records carry neither key nor hash', async () => {
    const list = await repo.list();
    expect(list.length).toBeGreaterThanOrEqual(4);
    for (const record of list) expect(Object.keys(record).sort()).toEqual(['city', 'createdAt', 'expiresAt', 'id', 'label', 'prefix', 'revokedAt', 'role', 'station']);
  });
});
