import { randomInt } from 'node:crypto';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Queue, QueueEvents, type Job } from 'bullmq';
import { expect } from 'vitest';
import { bullConnection, bullPrefix } from '../../src/services.js';
import { mod11CheckChar } from '../../src/validation/identity.js';
import type { TestApp, WechatUser } from '../helpers/app.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A valid 18-character resident ID number (real birth date, correct check character), different on every call. */
export function residentId(): string {
  const first17 = `210102${1950 + randomInt(0, 50)}0${randomInt(1, 10)}1${randomInt(0, 10)}${String(randomInt(0, 1000)).padStart(3, '0')}`;
  return `${first17}${mod11CheckChar(first17)}`;
}

export function mobile(): string {
  return `139${String(randomInt(0, 10 ** 8)).padStart(8, '0')}`;
}

export function tripNumber(): string {
  return `K${randomInt(1000, 10_000)}`;
}

/** A driver registers a trip from 沈阳北站 (city 210100) through the chat; returns its 6-digit code. */
export async function registerTrip(driver: WechatUser, options: { plate?: string; declared?: number; tripNumber?: string; time?: string; destination?: string } = {}): Promise<string> {
  const plate = options.plate ?? `辽A${String(randomInt(10_000, 100_000))}`;
  expect(await driver.say(plate)).toContain('多少人');
  expect(await driver.say(String(options.declared ?? 40))).toContain('驾驶员姓名');
  expect(await driver.say('张建国')).toContain('手机号');
  expect(await driver.say('13812345678')).toContain('登记人是驾驶员本人吗');
  expect(await driver.say('1')).toContain('乘务员');
  expect(await driver.say('2')).toContain('班次号');
  expect(await driver.say(options.tripNumber ?? '无')).toContain('发车时间');
  expect(await driver.say(options.time ?? '明天 08:30')).toContain('出发地');
  expect(await driver.say('沈阳北站')).toContain('目的地');
  expect(await driver.say(options.destination ?? '大连')).toContain('请核对');
  const done = await driver.say('1');
  const code = /乘车码 (\d{6})/.exec(done)?.[1];
  expect(code).toMatch(/^\d{6}$/);
  return code ?? '';
}

/** Runs `npm run keys -- …` (tsx src/cli/keys.ts) against the test app's database and master key; returns stdout lines. */
export function runKeysCli(t: TestApp, args: string[]): Promise<{ code: number | null; lines: string[]; stderr: string }> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, DATABASE_URL: t.env['DATABASE_URL'] ?? '', BOARDROLL_MASTER_KEY: t.env['BOARDROLL_MASTER_KEY'] ?? '', LOG_LEVEL: 'warn' };
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/keys.ts', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString('utf8'); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString('utf8'); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, lines: stdout.trimEnd().split('\n'), stderr }));
  });
}

/** An API key made through the repository (the CLI path has its own test). */
export async function apiKey(t: TestApp, role: 'station' | 'authority' | 'health' | 'ticketing' | 'admin', city: string | null = '210100'): Promise<string> {
  return (await t.services.repos.apiKeys.create({ role, city })).key;
}

/** Enrolls a WeChat user as staff through the chat with a fresh one-time code. */
export async function enroll(t: TestApp, user: WechatUser, role: 'crew' | 'station' | 'authority' | 'health' | 'admin', city = '210100'): Promise<void> {
  const code = await t.services.repos.staff.createEnrollmentCode({ role, city, ttlHours: 1 });
  expect(await user.say(`绑定 ${code}`)).toContain('绑定成功');
}

/** Waits for BullMQ jobs (by id) of one queue to finish; returns the jobs (failed ones too). */
export async function jobsFinished(t: TestApp, queueName: string, ids: readonly string[]): Promise<Job[]> {
  const connection = bullConnection(t.services.config);
  const queue = new Queue(queueName, { connection, prefix: bullPrefix(t.services.config) });
  const eventsConnection = bullConnection(t.services.config);
  const events = new QueueEvents(queueName, { connection: eventsConnection, prefix: bullPrefix(t.services.config) });
  try {
    await events.waitUntilReady();
    const jobs: Job[] = [];
    for (const id of ids) {
      const job = await queue.getJob(id);
      if (!job) throw new Error(`no job ${id} in ${queueName}`);
      await job.waitUntilFinished(events).catch(() => undefined);
      jobs.push((await queue.getJob(id)) ?? job);
    }
    return jobs;
  } finally {
    await events.close();
    await queue.close();
    connection.disconnect();
    eventsConnection.disconnect();
  }
}

/** Ids of the jobs of a queue whose id starts with `prefix` (any state). */
export async function jobIds(t: TestApp, queueName: string, prefix: string): Promise<string[]> {
  const connection = bullConnection(t.services.config);
  const queue = new Queue(queueName, { connection, prefix: bullPrefix(t.services.config) });
  try {
    const jobs = await queue.getJobs(['waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized', 'waiting-children']);
    return jobs.map((j) => j.id ?? '').filter((id) => id.startsWith(prefix));
  } finally {
    await queue.close();
    connection.disconnect();
  }
}
