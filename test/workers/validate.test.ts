import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUES, type ValidateTripJob } from '../../src/contracts/jobs.js';
import { startTestApp, WechatUser, type TestApp } from '../helpers/app.js';
import { apiKey, jobIds, jobsFinished, registerTrip, residentId } from '../staff/fixtures.js';

interface AlertJson { id: string; kind: string; trip: { code: string }; passengerId: string | null; details: Record<string, unknown>; notified: boolean }

/** The validate worker (real BullMQ workers, real Redis/PostgreSQL): findings → alerts API → driver's WeChat. */
describe('validation alerts', () => {
  let t: TestApp;
  let authority: string;
  let otherCity: string;
  let health: string;
  beforeAll(async () => {
    t = await startTestApp();
    await t.startWorkers();
    authority = await apiKey(t, 'authority', '210100');
    otherCity = await apiKey(t, 'authority', '110100');
    health = await apiKey(t, 'health', '210100');
  });
  afterAll(async () => { await t.close(); });

  async function selfRegister(code: string, name: string, idNumber: string): Promise<void> {
    const rider = new WechatUser(t.app);
    await rider.scan(`trip-${code}`);
    await rider.say('1');
    await rider.say(name);
    await rider.say(idNumber);
    await rider.say('13912345678');
    expect(await rider.say('1')).toContain('登记完成');
  }

  async function tripId(code: string): Promise<string> {
    return (await t.services.repos.trips.byCode(code))?.id ?? '';
  }

  /** Waits for every validate job of the trip queued so far (by cause), then for the alert texts they queued. */
  async function settle(code: string, cause: ValidateTripJob['reason'] = 'registration'): Promise<void> {
    const id = await tripId(code);
    await jobsFinished(t, QUEUES.validate, await jobIds(t, QUEUES.validate, `validate-${cause}-${id}`));
    await jobsFinished(t, QUEUES.outbound, await jobIds(t, QUEUES.outbound, `alert-${id}`));
  }

  async function alerts(key: string, query = ''): Promise<AlertJson[]> {
    const res = await t.app.inject({ method: 'GET', url: `/api/v1/alerts${query}`, headers: { authorization: `Bearer ${key}` } });
    expect(res.statusCode).toBe(200);
    return (res.json() as { alerts: AlertJson[] }).alerts;
  }

  function textsTo(openid: string): string[] {
    return t.wechatApi.messagesTo(openid).flatMap((m) => {
      const text = m.body['text'];
      return m.body['msgtype'] === 'text' && typeof text === 'object' && text !== null ? [String((text as Record<string, unknown>)['content'])] : [];
    });
  }

  it('when more passengers register than declared, then an over-capacity alert is visible to the city\'s authority key, not to another city\'s, and the driver is told once', async () => {
    const driver = new WechatUser(t.app);
    const code = await registerTrip(driver, { declared: 2 });
    for (const name of ['王小明', '李秀英', '周大汉']) await selfRegister(code, name, residentId());
    await settle(code);

    const mine = (await alerts(authority)).filter((a) => a.trip.code === code);
    expect(mine.map((a) => a.kind)).toEqual(['over_capacity']);
    expect(mine[0]?.details).toEqual({ registered: 3, declared: 2 });
    expect(mine[0]?.notified).toBe(true);
    expect((await alerts(otherCity)).filter((a) => a.trip.code === code)).toEqual([]);

    const texts = textsTo(driver.openid);
    expect(texts).toHaveLength(1);
    expect(texts[0]).toContain(code);
    expect(texts[0]).toContain('已登记 3 人，超过核载 2 人');
  });

  it('when the health role uploads a registered passenger\'s identity number, then a watch-list alert is raised for that trip\'s city only, and the number is stored only as a blind index', async () => {
    const code = await registerTrip(new WechatUser(t.app));
    const watched = residentId();
    await selfRegister(code, '赵小四', watched);
    await selfRegister(code, '钱小五', residentId());
    await settle(code);

    const upload = await t.app.inject({ method: 'POST', url: '/api/v1/watchlist', headers: { authorization: `Bearer ${health}` }, payload: { idNumbers: [watched, residentId()] } });
    expect(upload.statusCode).toBe(200);
    expect(upload.json()).toEqual({ received: 2, added: 2, tripsRechecked: 1 });
    await settle(code, 'watchlist');

    const found = await alerts(authority, `?tripCode=${code}&kind=watchlist`);
    expect(found).toHaveLength(1);
    const roster = await t.services.repos.passengers.roster(await tripId(code));
    expect(found[0]?.passengerId).toBe(roster.find((p) => p.idNumber === watched)?.id);
    expect((await alerts(otherCity)).filter((a) => a.trip.code === code)).toEqual([]);
    const otherCityByCode = await t.app.inject({ method: 'GET', url: `/api/v1/alerts?tripCode=${code}`, headers: { authorization: `Bearer ${otherCity}` } });
    expect(otherCityByCode.statusCode).toBe(403);

    const stored = await t.services.database.db.execute('select * from watchlist');
    expect(JSON.stringify(stored)).not.toContain(watched);
  });

  it('when a watch-listed person registers after the upload, then the registration check raises the alert', async () => {
    const watched = residentId();
    const upload = await t.app.inject({ method: 'POST', url: '/api/v1/watchlist', headers: { authorization: `Bearer ${health}` }, payload: { idNumbers: [watched] } });
    expect(upload.json()).toMatchObject({ added: 1, tripsRechecked: 0 });
    const code = await registerTrip(new WechatUser(t.app));
    await selfRegister(code, '孙小六', watched);
    await settle(code);
    expect((await alerts(authority, `?tripCode=${code}`)).map((a) => a.kind)).toEqual(['watchlist']);
  });

  it('when the same person is on two trips leaving within 2 hours, then the later check raises a same-person alert naming the other trip', async () => {
    const person = residentId();
    const first = await registerTrip(new WechatUser(t.app), { time: '明天 08:30' });
    const second = await registerTrip(new WechatUser(t.app), { time: '明天 09:45' });
    await selfRegister(first, '吴小七', person);
    await settle(first);
    await selfRegister(second, '吴小七', person);
    await settle(second);
    const found = await alerts(authority, `?tripCode=${second}&kind=duplicate_trip`);
    expect(found).toHaveLength(1);
    expect(found[0]?.details['otherTripCode']).toBe(first);
  });

  it('when the departure check runs, then the passengers still missing (declared − registered) are an alert', async () => {
    const code = await registerTrip(new WechatUser(t.app), { declared: 5 });
    await selfRegister(code, '郑小八', residentId());
    await settle(code);
    const id = await tripId(code);
    const job: ValidateTripJob = { kind: 'validate-trip', tripId: id, reason: 'departure' };
    await t.services.queues.validate.add('validate-trip', job, { jobId: `validate-departure-${id}-now` });
    // Only this run: the trip's own departure check stays delayed until tomorrow's departure.
    await jobsFinished(t, QUEUES.validate, [`validate-departure-${id}-now`]);
    const found = await alerts(authority, `?tripCode=${code}&kind=missing_at_departure`);
    expect(found.map((a) => a.details)).toEqual([{ declared: 5, registered: 1, missing: 4 }]);
  });

  it('when WeChat answers that the customer-service quota is used up, then the alert text is not retried', async () => {
    const driver = new WechatUser(t.app);
    const code = await registerTrip(driver, { declared: 1 });
    await selfRegister(code, '冯小九', residentId());
    // The trip's QR image goes out through the same customer-service API: let it finish first, or under load it
    // would take the scripted failure meant for the alert text.
    await jobsFinished(t, QUEUES.outbound, await jobIds(t, QUEUES.outbound, `qr-${await tripId(code)}`));
    t.wechatApi.failNext('/cgi-bin/message/custom/send', 45047);
    await selfRegister(code, '陈小十', residentId());
    const id = await tripId(code);
    await jobsFinished(t, QUEUES.validate, await jobIds(t, QUEUES.validate, `validate-registration-${id}`));
    const [notice] = await jobsFinished(t, QUEUES.outbound, await jobIds(t, QUEUES.outbound, `alert-${id}`));
    expect(notice?.failedReason).toContain('45047');
    expect(notice?.attemptsMade).toBeLessThanOrEqual(1);
    expect(t.wechatApi.calls.filter((c) => c.path === '/cgi-bin/message/custom/send' && JSON.stringify(c.body).includes(driver.openid) && JSON.stringify(c.body).includes('超过核载'))).toHaveLength(1);
    expect((await alerts(authority, `?tripCode=${code}`)).map((a) => a.kind)).toEqual(['over_capacity']);
  });

  it('when the key is missing or has a role without access, then the alerts are refused', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/alerts' })).statusCode).toBe(401);
    const ticketing = await t.app.inject({ method: 'GET', url: '/api/v1/alerts', headers: { authorization: `Bearer ${await apiKey(t, 'ticketing')}` } });
    expect(ticketing.statusCode).toBe(403);
    const badUpload = await t.app.inject({ method: 'POST', url: '/api/v1/watchlist', headers: { authorization: `Bearer ${health}` }, payload: { idNumbers: ['x'] } });
    expect(badUpload.statusCode).toBe(400);
    const notHealth = await t.app.inject({ method: 'POST', url: '/api/v1/watchlist', headers: { authorization: `Bearer ${authority}` }, payload: { idNumbers: [residentId()] } });
    expect(notHealth.statusCode).toBe(403);
  });
});
