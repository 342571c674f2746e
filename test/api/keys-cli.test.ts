import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { runKeysCli } from '../staff/fixtures.js';

/** `npm run keys -- create | list | revoke` against the service's database; the printed key works on the API. */
describe('keys CLI', () => {
  let t: TestApp;
  beforeAll(async () => { t = await startTestApp(); });
  afterAll(async () => { await t.close(); });

  const alerts = (key: string) => t.app.inject({ method: 'GET', url: '/api/v1/alerts', headers: { authorization: `Bearer ${key}` } });

  it('when a key is created, then it is printed alone on the last line, is listed by its prefix, works on the API, and stops working once revoked', async () => {
    const created = await runKeysCli(t, ['create', '--role', 'authority', '--city', '210100', '--label', 'city office', '--expires-days', '30']);
    expect(created.code).toBe(0);
    const key = created.lines[created.lines.length - 1] ?? '';
    expect(key).toMatch(/^br_[0-9A-Za-z]{32}$/);
    expect((await alerts(key)).statusCode).toBe(200);

    const listed = await runKeysCli(t, ['list']);
    const row = listed.lines.find((l) => l.includes(key.slice(0, 11)));
    expect(row).toContain('authority');
    expect(row).toContain('210100');
    expect(listed.lines.join('\n')).not.toContain(key);
    const id = row?.split('\t')[0] ?? '';

    const revoked = await runKeysCli(t, ['revoke', id]);
    expect(revoked.code).toBe(0);
    expect((await alerts(key)).statusCode).toBe(401);
  });

  it('when the role is unknown or the city is not a code, then the CLI exits 2 with a message and the usage', async () => {
    const bad = await runKeysCli(t, ['create', '--role', 'driver']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--role: expected one of station, authority, health, ticketing, admin');
    expect(bad.stderr).toContain('usage:');
    const city = await runKeysCli(t, ['enroll', '--role', 'crew', '--city', 'Shenyang']);
    expect(city.code).toBe(2);
    expect(city.stderr).toContain('--city: expected a 6-digit city code');
  });
});
