import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executeRows } from '../../src/store/db.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { apiKey, get, newPerson, registerPassenger, registerTrip, uniqueName, uniquePhone, type Person } from './helpers.js';

/** API keys scoped by role and city, revocation and expiry, unmasked reads audited with a reason, an append-only log. */
describe('access control and audit on postgres', () => {
  let t: TestApp;
  let shenyangCode: string;
  let dalianCode: string;
  const shenyangRider: Person = newPerson();
  const dalianRider: Person = newPerson();
  const keys: Record<string, { id: string; key: string }> = {};

  beforeAll(async () => {
    t = await startTestApp();
    shenyangCode = await registerTrip(t, { plate: '辽A5S100', origin: '沈阳北站', destination: '北京', driver: { name: uniqueName(), phone: uniquePhone() } });
    dalianCode = await registerTrip(t, { plate: '辽B5D200', origin: '大连北站', destination: '北京', driver: { name: uniqueName(), phone: uniquePhone() } });
    await registerPassenger(t, shenyangCode, shenyangRider, true);
    await registerPassenger(t, dalianCode, dalianRider, true);
    keys.shenyangAuthority = await apiKey(t, 'authority', '210100');
    keys.dalianHealth = await apiKey(t, 'health', '210200');
    keys.shenyangStation = await apiKey(t, 'station', '210100');
    keys.ticketing = await apiKey(t, 'ticketing', null);
    keys.admin = await apiKey(t, 'admin', null);
    keys.revoked = await apiKey(t, 'authority', '210100');
    keys.expired = await apiKey(t, 'authority', '210100', { expiresAt: new Date(Date.now() - 1000) });
    await t.services.repos.apiKeys.revoke(keys.revoked.id);
  });
  afterAll(async () => { await t.close(); });

  const k = (name: string) => keys[name]?.key ?? '';

  it('when a Shenyang authority key asks for a Dalian trip, then the roster is refused and trace results leave Dalian out', async () => {
    expect((await t.services.repos.trips.byCode(dalianCode))?.reportingCity).toBe('210200');
    const roster = await get(t, k('shenyangAuthority'), `/api/v1/trips/${dalianCode}/roster`);
    expect(roster.status).toBe(403);
    expect(roster.json.code).toBe('AUTH_CITY');
    const unmasked = await get(t, k('shenyangAuthority'), `/api/v1/trips/${dalianCode}/roster?unmasked=true&reason=contact%20tracing`);
    expect(unmasked.status).toBe(403);
    const trace = await get(t, k('shenyangAuthority'), `/api/v1/trace?idNumber=${dalianRider.idNumber}&reason=contact%20tracing`);
    expect(trace.status).toBe(200);
    expect(trace.json.matches).toEqual([]);
    const own = await get(t, k('shenyangAuthority'), `/api/v1/trace?idNumber=${shenyangRider.idNumber}&reason=contact%20tracing`);
    expect(own.json.matches).toHaveLength(1);
    const dalian = await get(t, k('dalianHealth'), `/api/v1/trips/${dalianCode}/roster`);
    expect(dalian.status).toBe(200);
  });

  it('when a key is revoked, expired, missing or made up, then every route answers 401', async () => {
    for (const key of [k('revoked'), k('expired'), 'br_0123456789abcdefghijABCDEFGHIJ01', 'nonsense']) {
      const res = await get(t, key, `/api/v1/trips/${shenyangCode}/roster`);
      expect([res.status, res.json.code]).toEqual([401, 'AUTH_INVALID']);
    }
    expect((await get(t, null, '/api/v1/audit')).status).toBe(401);
  });

  it('when a key has the wrong role, then it gets 403 (roster, trace, unmasked roster, audit)', async () => {
    expect((await get(t, k('ticketing'), `/api/v1/trips/${shenyangCode}/roster`)).status).toBe(403);
    expect((await get(t, k('shenyangStation'), `/api/v1/trace?phone=${shenyangRider.phone}&reason=looking`)).status).toBe(403);
    const stationUnmasked = await get(t, k('shenyangStation'), `/api/v1/trips/${shenyangCode}/roster?unmasked=true&reason=boarding%20check`);
    expect([stationUnmasked.status, stationUnmasked.json.code]).toEqual([403, 'AUTH_ROLE']);
    expect((await get(t, k('shenyangAuthority'), '/api/v1/audit')).status).toBe(403);
  });

  it('when the masked roster is read, then names, identity numbers and phones are masked', async () => {
    const res = await get(t, k('shenyangStation'), `/api/v1/trips/${shenyangCode}/roster`);
    expect(res.status).toBe(200);
    const [p] = res.json.passengers;
    expect(p.idNumber).not.toBe(shenyangRider.idNumber);
    expect(p.idNumber).toMatch(/\*/);
    expect(p.phone).toMatch(/\*/);
    expect(JSON.stringify(res.json)).not.toContain(shenyangRider.phone);
    expect(res.json.purged).toBe(false);
  });

  it('when the unmasked roster is asked for without a reason, then 400 and nothing is audited; with one, clear values and an audit entry', async () => {
    const count = async () => (await executeRows<{ n: number }>(t.services.database.db, sql`select count(*)::int as n from audit_log where action = 'roster.unmasked'`))[0]?.n;
    const before = await count();
    const missing = await get(t, k('shenyangAuthority'), `/api/v1/trips/${shenyangCode}/roster?unmasked=true`);
    expect([missing.status, missing.json.code]).toEqual([400, 'INPUT_INVALID']);
    expect(missing.json.message).toContain('reason');
    expect(await count()).toBe(before);

    const ok = await get(t, k('shenyangAuthority'), `/api/v1/trips/${shenyangCode}/roster?unmasked=true&reason=${encodeURIComponent('密接排查 case 7')}`);
    expect(ok.status).toBe(200);
    expect(ok.json.passengers[0]).toMatchObject({ name: shenyangRider.name, idNumber: shenyangRider.idNumber, phone: shenyangRider.phone });
    expect(await count()).toBe((before ?? 0) + 1);

    const audit = await get(t, k('admin'), `/api/v1/audit?action=roster.unmasked&actor=key:${keys.shenyangAuthority?.id}`);
    expect(audit.status).toBe(200);
    expect(audit.json.entries[0]).toMatchObject({ actor: `key:${keys.shenyangAuthority?.id}`, action: 'roster.unmasked', subject: shenyangCode, reason: '密接排查 case 7' });
    expect(Date.parse(audit.json.entries[0].at)).not.toBeNaN();
    expect(JSON.stringify(audit.json)).not.toContain(shenyangRider.idNumber);
  });

  it('when a trace is made, then it is in the audit trail with who, why and when, and the filters narrow it', async () => {
    await get(t, k('dalianHealth'), `/api/v1/trace?phone=${dalianRider.phone}&reason=fever%20report`);
    const all = await get(t, k('admin'), '/api/v1/audit?action=trace&limit=50');
    const mine = all.json.entries.filter((e: { actor: string }) => e.actor === `key:${keys.dalianHealth?.id}`);
    expect(mine[0]).toMatchObject({ action: 'trace', subject: 'phone', reason: 'fever report' });
    const today = new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 10);
    const byDay = await get(t, k('admin'), `/api/v1/audit?from=${today}&to=${today}&action=trace`);
    expect(byDay.json.entries.length).toBe(all.json.entries.length);
    const future = await get(t, k('admin'), '/api/v1/audit?from=2099-01-01&action=trace');
    expect(future.json.entries).toEqual([]);
    expect((await get(t, k('admin'), '/api/v1/audit?limit=1')).json.entries).toHaveLength(1);
    for (const bad of ['limit=0', 'limit=abc', 'from=yesterday', 'from=2030-01-02&to=2030-01-01']) {
      const res = await get(t, k('admin'), `/api/v1/audit?${bad}`);
      expect([bad, res.status, res.json.code]).toEqual([bad, 400, 'INPUT_INVALID']);
    }
  });

  it('when someone tries to change or delete the audit trail, then there is no route for it and the database refuses', async () => {
    for (const method of ['DELETE', 'PUT', 'PATCH', 'POST'] as const) {
      const res = await t.app.inject({ method, url: '/api/v1/audit', headers: { authorization: `Bearer ${k('admin')}` } });
      expect([method, res.statusCode]).toEqual([method, 404]);
    }
    const { db } = t.services.database;
    await expect(db.execute(sql`update audit_log set reason = 'changed'`)).rejects.toThrow();
    await expect(db.execute(sql`delete from audit_log`)).rejects.toThrow();
    await expect(db.execute(sql`truncate audit_log`)).rejects.toThrow();
    const left = await executeRows<{ n: number }>(db, sql`select count(*)::int as n from audit_log where reason = 'changed'`);
    expect(left[0]?.n).toBe(0);
  });

  it('when keys are listed and one is revoked through the repository the CLI uses, then the list shows it and it stops working', async () => {
    const extra = await apiKey(t, 'health', '210100');
    expect((await get(t, extra.key, `/api/v1/trips/${shenyangCode}/roster`)).status).toBe(200);
    const list = await t.services.repos.apiKeys.list();
    expect(list.find((x) => x.id === extra.id)).toMatchObject({ role: 'health', city: '210100', revokedAt: null });
    expect(JSON.stringify(list)).not.toContain(extra.key);
    expect(await t.services.repos.apiKeys.revoke(extra.id)).toBe(true);
    expect(await t.services.repos.apiKeys.revoke(extra.id)).toBe(false);
    expect((await get(t, extra.key, `/api/v1/trips/${shenyangCode}/roster`)).status).toBe(401);
    expect((await t.services.repos.apiKeys.list()).find((x) => x.id === extra.id)?.revokedAt).toBeInstanceOf(Date);
  });
});
