import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, WechatUser, type TestApp } from '../helpers/app.js';
import { upstreamFailureOf } from '../../src/ops/metrics.js';
import { UpstreamError } from '../../src/errors.js';

/** /docs, /metrics, the queue board and the funnel, over the whole service. */
describe('operations endpoints', () => {
  let t: TestApp;
  let admin: string;
  let station: string;
  beforeAll(async () => {
    t = await startTestApp();
    admin = (await t.services.repos.apiKeys.create({ role: 'admin', city: null })).key;
    station = (await t.services.repos.apiKeys.create({ role: 'station', city: null })).key;
  });
  afterAll(async () => { await t.close(); });

  async function driverToSummary(plate: string): Promise<WechatUser> {
    const driver = new WechatUser(t.app);
    for (const text of [plate, '40', '张建国', '13812345678', '1', '2', 'K1234', '明天 08:30', '沈阳北站', '大连']) await driver.say(text);
    return driver;
  }

  it('when /docs/json is fetched, then the OpenAPI document lists the API routes with their documented parameters', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/docs/json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json() as { openapi: string; paths: Record<string, Record<string, { parameters?: { name: string; in: string }[]; security?: unknown[] }>> };
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/v1/trips/{code}/roster', '/api/v1/trace', '/api/v1/stats/funnel', '/metrics', '/healthz']));
    expect(doc.paths['/api/v1/trips/{code}/roster']?.['get']?.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'code', in: 'path' })]));
    expect(doc.paths['/api/v1/trace']?.['get']?.parameters?.map((p) => p.name)).toEqual(expect.arrayContaining(['idNumber', 'phone', 'plate', 'reason']));
    expect(doc.paths['/api/v1/stats/funnel']?.['get']?.security).toEqual([{ bearer: [] }]);
    expect(Object.keys(doc.paths).some((p) => p.startsWith('/simulator'))).toBe(false);
    const ui = await t.app.inject({ method: 'GET', url: '/docs/' });
    expect(ui.statusCode).toBe(200);
    expect(ui.headers['content-type']).toContain('text/html');
  });

  it('when the documented roster route gets a bad code, then the answer is still the project error shape', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/trips/12ab/roster', headers: { authorization: `Bearer ${admin}` } });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'INPUT_INVALID' });
  });

  it('when a driver goes through the trip questions, then /metrics shows HTTP durations, engine turns, funnel steps and queue depths', async () => {
    await driverToSummary('辽C11111');
    const res = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    const text = res.body;
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toMatch(/boardroll_http_request_duration_seconds_count\{method="POST",route="\/wechat",status_code="200"\} \d+/);
    expect(text).toMatch(/boardroll_conversation_turns_total\{channel="wechat",flow="driver",step="passengerCount"\} 1/);
    expect(text).toMatch(/boardroll_funnel_step\{flow="driver",step="summary",kind="entered"\} [1-9]/);
    expect(text).toMatch(/boardroll_funnel_step_dropoff_ratio\{flow="driver",step="summary"\} 1/);
    expect(text).toMatch(/boardroll_queue_jobs\{queue="outbound",state="waiting"\} \d+/);
  });

  it('when drivers stop at different steps, then the funnel API counts entries, moves on and abandonment per step', async () => {
    const stops = await driverToSummary('辽D22222');
    await stops.say('1');
    const quitter = new WechatUser(t.app);
    await quitter.say('辽E33333');
    await quitter.say('40');
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/stats/funnel?flow=driver', headers: { authorization: `Bearer ${admin}` } });
    expect(res.statusCode).toBe(200);
    const body = res.json() as { flows: { flow: string; started: number; steps: { step: string; entered: number; advanced: number; ended: number; abandoned: number; dropOffRate: number }[] }[] };
    expect(body.flows.map((f) => f.flow)).toEqual(['driver']);
    const driver = body.flows[0];
    const step = (id: string) => driver?.steps.find((s) => s.step === id);
    expect(driver?.started).toBeGreaterThanOrEqual(3);
    expect(step('passengerCount')).toMatchObject({ entered: 3, advanced: 3, abandoned: 0 });
    expect(step('driverName')).toMatchObject({ entered: 3, advanced: 2, abandoned: 1 });
    expect(step('summary')).toMatchObject({ entered: 2, ended: 1, abandoned: 1, dropOffRate: 0.5 });
  });

  it('when the funnel is asked for without an allowed role or for an unknown flow, then the answer is a precise 4xx', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/stats/funnel' })).json()).toMatchObject({ code: 'AUTH_MISSING' });
    const forbidden = await t.app.inject({ method: 'GET', url: '/api/v1/stats/funnel', headers: { authorization: `Bearer ${station}` } });
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json()).toMatchObject({ code: 'AUTH_ROLE' });
    const unknown = await t.app.inject({ method: 'GET', url: '/api/v1/stats/funnel?flow=nope', headers: { authorization: `Bearer ${admin}` } });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json()).toMatchObject({ code: 'INPUT_INVALID' });
  });

  it('when the queue board is opened, then it needs an admin key by bearer, basic auth, or ?key= once (then a cookie)', async () => {
    const none = await t.app.inject({ method: 'GET', url: '/admin/queues' });
    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toContain('Basic');
    expect((await t.app.inject({ method: 'GET', url: '/admin/queues', headers: { authorization: `Bearer ${station}` } })).statusCode).toBe(403);
    const bearer = await t.app.inject({ method: 'GET', url: '/admin/queues', headers: { authorization: `Bearer ${admin}` } });
    expect(bearer.statusCode).toBe(200);
    expect(bearer.body).toContain('boardroll queues');
    const basic = await t.app.inject({ method: 'GET', url: '/admin/queues/api/queues', headers: { authorization: `Basic ${Buffer.from(`ops:${admin}`).toString('base64')}` } });
    expect(basic.statusCode).toBe(200);
    expect((basic.json() as { queues: { name: string }[] }).queues.map((q) => q.name)).toEqual(expect.arrayContaining(['outbound', 'validate', 'report', 'retention']));
    const once = await t.app.inject({ method: 'GET', url: `/admin/queues?key=${encodeURIComponent(admin)}` });
    expect(once.statusCode).toBe(303);
    expect(once.headers.location).toBe('/admin/queues');
    const cookie = String(once.headers['set-cookie']);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const withCookie = await t.app.inject({ method: 'GET', url: '/admin/queues', headers: { cookie: cookie.split(';')[0] ?? '' } });
    expect(withCookie.statusCode).toBe(200);
  });

  it('when an outbound job fails against the OA API, then the upstream error counter shows it on /metrics', async () => {
    await t.services.metrics.recordUpstreamError('oa', 'WECHAT_API_45015');
    const fromJob = upstreamFailureOf({ kind: 'sms', messageId: 'x' }, new UpstreamError('UPSTREAM_SMS_FAILED', 'isp.SYSTEM_ERROR'));
    expect(fromJob).toEqual({ service: 'sms', code: 'UPSTREAM_SMS_FAILED' });
    await t.services.metrics.recordUpstreamError(fromJob?.service ?? 'sms', fromJob?.code ?? '');
    const text = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(text).toMatch(/boardroll_upstream_errors\{service="oa",code="WECHAT_API_45015"\} 1/);
    expect(text).toMatch(/boardroll_upstream_errors\{service="sms",code="UPSTREAM_SMS_FAILED"\} 1/);
  });
});
