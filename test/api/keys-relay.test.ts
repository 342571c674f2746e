import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { runKeysInService } from '../../src/cli/keys.js';
import { RELAY_SOCKET, serveCliRelay } from '../../src/cli/relay.js';
import { openKeyRing } from '../../src/store/key-ring.js';
import { createApiKeyRepository } from '../../src/store/api-keys.js';
import { createStaffRepository } from '../../src/store/staff.js';
import { migrateDatabase, openDatabase, type Database } from '../../src/store/db.js';

const ROOT = join(import.meta.dirname, '../..');

/**
 * On the embedded store the running service holds DATA_DIR (PGlite is single-process); `npm run keys -- …` then runs
 * through the service's relay socket instead of failing with "in use by another process".
 */
describe('keys CLI while the embedded store is open in the service', () => {
  let dir = '';
  let database: Database;
  let relay: { close(): Promise<void> };
  const masterKey = randomBytes(32).toString('base64');
  const env = () => ({ PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', DATA_DIR: join(dir, 'data'), BOARDROLL_MASTER_KEY: masterKey, LOG_LEVEL: 'warn' });

  function keysCli(args: string[]): Promise<{ code: number | null; lines: string[]; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/keys.ts', ...args], { cwd: ROOT, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => { stdout += d.toString('utf8'); });
      child.stderr.on('data', (d: Buffer) => { stderr += d.toString('utf8'); });
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, lines: stdout.trimEnd().split('\n'), stderr }));
    });
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'boardroll-relay-'));
    const config = loadConfig(env());
    database = await openDatabase({ dataDir: config.dataDir });
    await migrateDatabase(database);
    relay = await serveCliRelay(config.dataDir, async (command, argv, out) => { if (command === 'keys') await runKeysInService(argv, { database, config, out }); }, pino({ level: 'silent' }));
  });
  afterAll(async () => {
    await relay.close();
    await database.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('when the service holds the store, then the relay socket is owner-only', async () => {
    expect(((await stat(join(dir, 'data', RELAY_SOCKET))).mode & 0o777).toString(8)).toBe('600');
  });

  it('when a key and an enrollment code are created meanwhile, then they are printed alone on the last line and stored in the service\'s store', async () => {
    const created = await keysCli(['create', '--role', 'station', '--city', '210100']);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const key = created.lines.at(-1) ?? '';
    expect(key).toMatch(/^br_[0-9A-Za-z]{32}$/);
    const { keys } = await openKeyRing(database.db, { masterKey, previousMasterKey: undefined });
    expect(await createApiKeyRepository({ db: database.db, keys }).verify(key)).toMatchObject({ role: 'station', city: '210100' });

    const enrolled = await keysCli(['enroll', '--role', 'crew', '--city', '210100']);
    expect(enrolled.code).toBe(0);
    const code = enrolled.lines.at(-1) ?? '';
    expect(code).toMatch(/^[0-9A-Z]{6,16}$/);
    expect(await createStaffRepository({ db: database.db, keys }).enroll(code, { userKey: 'relay-test-user', channel: 'wechat' })).toMatchObject({ role: 'crew' });
  });

  it('when the arguments are wrong, then the CLI still exits 2 with the message and the usage', async () => {
    const bad = await keysCli(['create', '--role', 'driver']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--role: expected one of');
    expect(bad.stderr).toContain('usage:');
  });
});
