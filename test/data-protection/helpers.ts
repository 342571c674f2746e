import { execFile } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { promisify } from 'node:util';
import { sql } from 'drizzle-orm';
import { expect } from 'vitest';
import { mod11CheckChar } from '../../src/validation/identity.js';
import { executeRows, type Db } from '../../src/store/db.js';
import type { ApiKeyRole } from '../../src/store/schema.js';
import { WechatUser, type TestApp } from '../helpers/app.js';

export const run = promisify(execFile);

/** A resident ID number with a valid check character (born 1990, Shenyang district prefix). */
export function validIdNumber(): string {
  const first17 = `210102199${randomInt(0, 10)}0${randomInt(1, 10)}1${randomInt(0, 10)}${String(randomInt(0, 1000)).padStart(3, '0')}`;
  return `${first17}${mod11CheckChar(first17)}`;
}

export function uniquePhone(): string {
  return `13${randomInt(0, 10)}${String(randomInt(0, 10 ** 8)).padStart(8, '0')}`;
}

const SURNAMES = ['赵', '钱', '孙', '李', '周', '吴', '郑', '冯', '陈', '褚', '卫', '蒋', '沈', '韩', '杨'];
const GIVEN = ['建国', '秀英', '桂兰', '志强', '海燕', '德明', '玉珍', '春生', '丽华', '长青', '振东', '淑芬'];
/** A plausible Chinese name unlikely to collide with other test files' names. */
export function uniqueName(): string {
  return `${SURNAMES[randomInt(0, SURNAMES.length)] ?? '赵'}${GIVEN[randomInt(0, GIVEN.length)] ?? '建国'}${['甲', '乙', '丙', '丁', '戊'][randomInt(0, 5)] ?? ''}`;
}

export interface Person { name: string; idNumber: string; phone: string; addressBefore: string; addressBeijing: string }

export function newPerson(): Person {
  const n = randomInt(100, 999);
  return {
    name: uniqueName(), idNumber: validIdNumber(), phone: uniquePhone(),
    addressBefore: `辽宁省沈阳市和平区南京北街${n}号`, addressBeijing: `北京市朝阳区建国路${n}号院${randomInt(1, 30)}号楼`,
  };
}

/** A driver registers a trip through the signed webhook; returns the 6-digit trip code. */
export async function registerTrip(t: TestApp, opts: { plate: string; origin: string; destination: string; driver: { name: string; phone: string } }): Promise<string> {
  const driver = new WechatUser(t.app);
  expect(await driver.say(opts.plate)).toContain('多少人');
  expect(await driver.say('40')).toContain('驾驶员姓名');
  expect(await driver.say(opts.driver.name)).toContain('手机号');
  expect(await driver.say(opts.driver.phone)).toContain('登记人是驾驶员本人吗');
  expect(await driver.say('1')).toContain('乘务员');
  expect(await driver.say('2')).toContain('班次号');
  expect(await driver.say('K1234')).toContain('发车时间');
  expect(await driver.say('明天 08:30')).toContain('出发地');
  expect(await driver.say(opts.origin)).toContain('目的地');
  expect(await driver.say(opts.destination)).toContain('请核对');
  const done = await driver.say('1');
  const code = /乘车码 (\d{6})/.exec(done)?.[1];
  expect(code).toMatch(/^\d{6}$/);
  return code ?? '';
}

/** A passenger scans the trip's code and answers every question (addresses only for a Beijing-bound trip). */
export async function registerPassenger(t: TestApp, code: string, p: Person, beijingBound: boolean, user = new WechatUser(t.app)): Promise<WechatUser> {
  await user.scan(`trip-${code}`);
  expect(await user.say('1')).toContain('姓名');
  expect(await user.say(p.name)).toContain('证件类型');
  expect(await user.say(p.idNumber)).toContain('手机号');
  if (beijingBound) {
    expect(await user.say(p.phone)).toContain('来京前');
    expect(await user.say(p.addressBefore)).toContain('在京');
    expect(await user.say(p.addressBeijing)).toContain('请核对');
  } else {
    expect(await user.say(p.phone)).toContain('请核对');
  }
  expect(await user.say('1')).toContain('登记完成');
  return user;
}

export async function apiKey(t: TestApp, role: ApiKeyRole, city: string | null, extra: { expiresAt?: Date } = {}): Promise<{ id: string; key: string }> {
  return t.services.repos.apiKeys.create({ role, city, label: `test ${role}`, ...extra });
}

export async function get(t: TestApp, key: string | null, url: string): Promise<{ status: number; json: any }> {
  const res = await t.app.inject({ method: 'GET', url, headers: key === null ? {} : { authorization: `Bearer ${key}` } });
  return { status: res.statusCode, json: res.json() };
}

export async function pgDumpAvailable(): Promise<boolean> {
  return run('pg_dump', ['--version']).then(() => true, () => false);
}

/** The whole database as text: `pg_dump` when installed, else every row of every table as JSON. */
export async function dumpDatabase(db: Db, url: string): Promise<{ text: string; via: 'pg_dump' | 'scan' }> {
  if (!url.startsWith('memory://') && await pgDumpAvailable()) {
    const { stdout } = await run('pg_dump', ['--no-owner', '--data-only', '--dbname', url], { maxBuffer: 256 * 1024 * 1024 });
    return { text: stdout, via: 'pg_dump' };
  }
  const tables = await executeRows<{ schema: string; table: string }>(db, sql`
    select table_schema as schema, table_name as table from information_schema.tables
    where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema')`);
  let text = '';
  for (const { schema, table } of tables) {
    const rows = await executeRows<{ row: string }>(db, sql`select row_to_json(x)::text as row from ${sql.identifier(schema)}.${sql.identifier(table)} x`);
    text += `${rows.map((r) => r.row).join('\n')}\n`;
  }
  return { text, via: 'scan' };
}

/** The forms a value could leak in: as is, UTF-8 hex (bytea text) and base64. */
export function leakForms(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  return [value, bytes.toString('hex'), bytes.toString('base64')];
}

/** Values of `secrets` found in `text` (any form), for a readable failure. */
export function leaks(text: string, secrets: readonly string[]): string[] {
  const lower = text.toLowerCase();
  return secrets.filter((s) => leakForms(s).some((form, i) => (i === 1 ? lower.includes(form) : text.includes(form))));
}
