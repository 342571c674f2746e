import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openServices } from '../../src/services.js';
import { KeyMismatchError } from '../../src/security/errors.js';
import { masterKeyOf } from '../../src/security/keys.js';
import { executeRows } from '../../src/store/db.js';
import { openKeyRing, rotateMaster, type RotationProgress } from '../../src/store/key-ring.js';
import { createVault } from '../../src/store/vault.js';
import { startTestApp, WechatUser, type TestApp } from '../helpers/app.js';
import { apiKey, get, newPerson, registerPassenger, registerTrip, uniqueName, uniquePhone, type Person } from './helpers.js';

/**
 * Master-key rotation without downtime: the running service (new key + old as previous) keeps registering and
 * reading while `rotateMaster` re-encrypts the vault in small batches; lookups, API keys and sessions survive.
 */
describe('master key rotation on postgres', () => {
  let t: TestApp;
  let oldKey: string;
  const newKey = randomBytes(32).toString('base64');
  let code: string;
  const before: Person[] = [newPerson(), newPerson(), newPerson()];
  const during = newPerson();
  const after = newPerson();
  let authority: { id: string; key: string };
  let halfway: WechatUser;

  beforeAll(async () => {
    t = await startTestApp();
    oldKey = t.env.BOARDROLL_MASTER_KEY ?? '';
    code = await registerTrip(t, { plate: '辽A7R001', origin: '沈阳北站', destination: '北京', driver: { name: uniqueName(), phone: uniquePhone() } });
    for (const p of before) await registerPassenger(t, code, p, true);
    authority = await apiKey(t, 'authority', '210100');
    // A conversation left half-way before the rotation: its Redis session must still open afterwards.
    halfway = new WechatUser(t.app);
    await halfway.scan(`trip-${code}`);
    expect(await halfway.say('1')).toContain('姓名');
    expect(await halfway.say(after.name)).toContain('证件类型');
  });
  afterAll(async () => { await t.close(); });

  const keyIds = async () => executeRows<{ key_id: string; n: number }>(t.services.database.db, sql`select key_id, count(*)::int as n from sensitive.vault_values group by key_id`);

  it('when the master key is rotated in batches under traffic, then old values stay readable, new ones are written, and all end rewritten', async () => {
    const oldVaultKeys = (await keyIds()).map((r) => r.key_id);
    expect(oldVaultKeys).toHaveLength(1);
    // A second process already restarted the no-downtime way: new key, old key as the previous one.
    const restarted = await openServices(loadConfig({ ...t.env, BOARDROLL_MASTER_KEY: newKey, BOARDROLL_PREVIOUS_MASTER_KEY: oldKey }), { logger: t.services.log });
    // The operator's CLI process: BOARDROLL_MASTER_KEY=old, rotating to the new key.
    const ring = await openKeyRing(t.services.database.db, { masterKey: oldKey });
    const vault = createVault(t.services.database.db, ring.keys, { ring });
    const seen: RotationProgress[] = [];
    let midway: { mixedKeys: number; names: string[]; restartedNames: string[] } | null = null;
    try {
      const result = await rotateMaster({
        db: t.services.database.db, ring, vault, holders: [oldKey], targetMasterKey: newKey, batchSize: 3,
        onProgress: async (p) => {
          seen.push(p);
          if (seen.length !== 2) return;
          // Mid-rotation: the running service (old key in memory) registers someone and both processes read everything.
          await registerPassenger(t, code, during, true);
          const roster = await get(t, authority.key, `/api/v1/trips/${code}/roster?unmasked=true&reason=rotation%20check`);
          const trip = await restarted.repos.trips.byCode(code);
          midway = {
            mixedKeys: (await keyIds()).length,
            names: roster.json.passengers.map((x: { name: string }) => x.name),
            restartedNames: (await restarted.repos.passengers.roster(trip?.id ?? '')).map((x) => x.name),
          };
        },
      });
      expect(seen.length).toBeGreaterThan(2);
      expect(midway).not.toBeNull();
      const mid = midway as unknown as { mixedKeys: number; names: string[]; restartedNames: string[] };
      expect(mid.mixedKeys).toBe(2);
      expect(mid.names.sort()).toEqual([...before, during].map((p) => p.name).sort());
      expect(mid.restartedNames.sort()).toEqual(mid.names.sort());
      expect(result.masterId).toBe(masterKeyOf(newKey).id);
      expect(result.retired).toEqual(oldVaultKeys);
      expect(result.reencrypted).toBeGreaterThan(0);

      // All rewritten: one vault key, the new one; the old master key wraps nothing any more.
      const ids = await keyIds();
      expect(ids.map((r) => r.key_id)).toEqual([result.vaultKeyId]);
      const wraps = await executeRows<{ master_id: string }>(t.services.database.db, sql`select distinct master_id from sensitive.key_wraps`);
      expect(wraps.map((w) => w.master_id)).toEqual([masterKeyOf(newKey).id]);
      const trip = await restarted.repos.trips.byCode(code);
      expect((await restarted.repos.passengers.roster(trip?.id ?? '')).map((x) => x.idNumber).sort()).toEqual([...before, during].map((p) => p.idNumber).sort());
    } finally {
      await restarted.close();
    }
  });

  it('when the running service registers and reads after the rotation, then old and new values open', async () => {
    const late = newPerson();
    await registerPassenger(t, code, late, true);
    const roster = await get(t, authority.key, `/api/v1/trips/${code}/roster?unmasked=true&reason=rotation%20check`);
    expect(roster.status).toBe(200);
    expect(roster.json.passengers.map((p: { idNumber: string }) => p.idNumber).sort()).toEqual([...before, during, late].map((p) => p.idNumber).sort());
    expect(await keyIds()).toHaveLength(1);
  });

  it('when people are looked up after the rotation, then identity-number and phone lookups and the old API key still work', async () => {
    const target = before[1] as Person;
    const byId = await get(t, authority.key, `/api/v1/trace?idNumber=${target.idNumber}&reason=rotation%20lookup`);
    expect(byId.status).toBe(200);
    expect(byId.json.matches).toHaveLength(1);
    expect(byId.json.matches[0].passenger.name).toBe(target.name);
    const byPhone = await get(t, authority.key, `/api/v1/trace?phone=${target.phone}&reason=rotation%20lookup`);
    expect(byPhone.json.matches[0].passenger.idNumber).toBe(target.idNumber);
  });

  it('when a conversation begun before the rotation goes on, then its sealed session still opens and the registration completes', async () => {
    expect(await halfway.say(after.idNumber)).toContain('手机号');
    expect(await halfway.say(after.phone)).toContain('来京前');
    expect(await halfway.say(after.addressBefore)).toContain('在京');
    expect(await halfway.say(after.addressBeijing)).toContain('请核对');
    expect(await halfway.say('1')).toContain('登记完成');
    const found = await t.services.repos.passengers.findByIdNumber(after.idNumber);
    expect(found).toHaveLength(1);
  });

  it('when the service restarts with only the new key, then it reads everything; with the old or a random key it refuses to start', async () => {
    const config = loadConfig({ ...t.env, BOARDROLL_MASTER_KEY: newKey });
    const fresh = await openServices(config, { logger: t.services.log });
    try {
      const trip = await fresh.repos.trips.byCode(code);
      const roster = await fresh.repos.passengers.roster(trip?.id ?? '');
      expect(roster).toHaveLength(6);
      expect(await fresh.repos.apiKeys.verify(authority.key)).not.toBeNull();
    } finally {
      await fresh.close();
    }
    for (const wrong of [oldKey, randomBytes(32).toString('base64')]) {
      const error = await openServices(loadConfig({ ...t.env, BOARDROLL_MASTER_KEY: wrong }), { logger: t.services.log }).then(async (s) => { await s.close(); return null; }, (err: unknown) => err);
      expect(error).toBeInstanceOf(KeyMismatchError);
      expect((error as Error).message).toContain(masterKeyOf(wrong).id);
      expect((error as Error).message).toContain(masterKeyOf(newKey).id);
    }
  });
});
