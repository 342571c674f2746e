import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, WechatUser, type TestApp } from '../helpers/app.js';
import { apiKey, registerTrip, residentId } from '../staff/fixtures.js';

/** POST /api/v1/trips/:code/arrivals (role station, city-scoped). */
describe('arrivals over the API', () => {
  let t: TestApp;
  let code: string;
  let station: string;
  beforeAll(async () => {
    t = await startTestApp();
    code = await registerTrip(new WechatUser(t.app), { declared: 4 });
    const trip = await t.services.repos.trips.byCode(code);
    for (const name of ['王小明', '周大汉', '李秀英']) {
      await t.services.repos.passengers.register({
        tripId: trip?.id ?? '', name, idType: 1, idNumber: residentId(), phone: null, addressBefore: null, addressBeijing: null,
        channel: 'wechat', registeredBy: 'self', staffId: null, userKey: null,
      });
    }
    station = await apiKey(t, 'station', '210100');
  });
  afterAll(async () => { await t.close(); });

  const post = (key: string, body: unknown, tripCode = code) => t.app.inject({
    method: 'POST', url: `/api/v1/trips/${tripCode}/arrivals`, headers: { authorization: `Bearer ${key}` }, payload: body as Record<string, unknown>,
  });

  it('when a station key marks roster positions 1 and 3, then those two are arrived and the answer counts them', async () => {
    const res = await post(station, { passengers: [1, 3] });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ marked: 2, arrivedCount: 2, registeredCount: 3, declaredCount: 4, trip: { code } });
    const roster = await t.app.inject({ method: 'GET', url: `/api/v1/trips/${code}/roster`, headers: { authorization: `Bearer ${station}` } });
    const arrived = (roster.json() as { passengers: { arrivedAt: string | null }[] }).passengers.map((p) => p.arrivedAt !== null);
    expect(arrived).toEqual([true, false, true]);
  });

  it('when a station key sends all, then everyone is arrived', async () => {
    const res = await post(station, { all: true });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ marked: 1, arrivedCount: 3, registeredCount: 3 });
  });

  it('when a position is beyond the roster or the body is neither form, then 400 names the problem and nothing changes', async () => {
    const beyond = await post(station, { passengers: [2, 9] });
    expect(beyond.statusCode).toBe(400);
    expect(beyond.json()).toMatchObject({ code: 'INPUT_INVALID', message: 'passengers: position 9 is beyond the roster (3 passengers)' });
    const both = await post(station, { all: true, passengers: [1] });
    expect(both.statusCode).toBe(400);
    expect((both.json() as { code: string }).code).toBe('INPUT_INVALID');
    const ids = await post(station, { passengers: ['abc'] });
    expect(ids.statusCode).toBe(400);
  });

  it('when the key has another role or another city, or there is no key, then it is refused', async () => {
    expect((await post(await apiKey(t, 'authority', '210100'), { all: true })).statusCode).toBe(403);
    const otherCity = await post(await apiKey(t, 'station', '110100'), { all: true });
    expect(otherCity.statusCode).toBe(403);
    expect((otherCity.json() as { code: string }).code).toBe('AUTH_CITY');
    const none = await t.app.inject({ method: 'POST', url: `/api/v1/trips/${code}/arrivals`, payload: { all: true } });
    expect(none.statusCode).toBe(401);
    expect((await post(station, { all: true }, '000000')).statusCode).toBe(404);
  });
});
