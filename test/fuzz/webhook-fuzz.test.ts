import fc from 'fast-check';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executeRows } from '../../src/store/db.js';
import { startTestApp, TEST_AES_KEY, TEST_APPID, TEST_TOKEN, type TestApp } from '../helpers/app.js';
import { acceptableStatus, corpus, fuzzRequest, type FuzzRequest } from './inputs.js';

/** A short slice of the fuzz run of `npm run faults` (which sends 100,000 inputs over HTTP). */
describe('webhook fuzzing', () => {
  let t: TestApp;
  const keys = { token: TEST_TOKEN, aesKey: TEST_AES_KEY, appId: TEST_APPID };
  beforeAll(async () => { t = await startTestApp(); });
  afterAll(async () => { await t.close(); });

  async function send(req: FuzzRequest): Promise<number> {
    const res = await t.app.inject({ method: req.method, url: req.url, headers: req.headers, ...(req.method === 'POST' ? { payload: req.body } : {}) });
    return res.statusCode;
  }

  async function storedRows(): Promise<number> {
    const rows = await executeRows<{ n: string | number }>(t.services.database.db, sql`select (select count(*) from passengers) + (select count(*) from trips) + (select count(*) from sensitive.vault_values) as n`);
    return Number(rows[0]?.n ?? 0);
  }

  it('when the corpus of hostile requests arrives, then every answer is a 4xx (never a 5xx) and nothing is stored', async () => {
    const before = await storedRows();
    const bad: string[] = [];
    for (const req of corpus(keys)) {
      const status = await send(req);
      if (!acceptableStatus(req, status)) bad.push(`${req.kind}: ${status}`);
    }
    expect(bad).toEqual([]);
    expect(await storedRows()).toBe(before);
  });

  it('when random requests arrive (malformed, unsigned, forged, random fields), then no answer is a 5xx and nothing is stored', async () => {
    const before = await storedRows();
    await fc.assert(fc.asyncProperty(fuzzRequest(keys), async (req) => {
      const status = await send(req);
      expect(acceptableStatus(req, status), `${req.kind} answered ${status}`).toBe(true);
    }), { numRuns: 400 });
    expect(await storedRows()).toBe(before);
    const health = await t.app.inject({ method: 'GET', url: '/healthz' });
    expect(health.statusCode).toBe(200);
  });
});
