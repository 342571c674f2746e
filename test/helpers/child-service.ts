import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { testDatabase, type TestDatabase } from './db.js';
import { TEST_REDIS_URL } from './env.js';
import { testRedis } from './redis.js';

export const ROOT = join(import.meta.dirname, '../..');

/** A fresh database and Redis prefix for one of the service's entry points run as a separate process. */
export interface ChildServiceStore { env: Record<string, string>; cleanup(): Promise<void> }

export async function childServiceStore(): Promise<ChildServiceStore> {
  const db: TestDatabase = await testDatabase({ poolSize: 2 });
  const redis = testRedis();
  return {
    env: {
      PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp',
      DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: redis.prefix, BOARDROLL_MASTER_KEY: randomBytes(32).toString('base64'),
    },
    async cleanup() {
      await redis.cleanup();
      await db.drop();
    },
  };
}

/** Runs `tsx <script> …args` from the repository root with exactly `env`. */
export function spawnEntry(script: string, args: string[], env: Record<string, string>): ChildProcessByStdio<null, Readable, Readable> {
  return spawn(process.execPath, [join(ROOT, 'node_modules/tsx/dist/cli.mjs'), script, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
}
