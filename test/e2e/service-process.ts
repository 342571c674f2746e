/**
 * Runs boardroll the way an operator does: `npm start` (or another npm script) as a child process with only the
 * contract's environment, talking to it over HTTP. Its stdout/stderr are kept (to search them for personal data) and
 * also written under .tmp/test-logs, so the suite's closing log scan covers them too.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const REPO_ROOT = join(import.meta.dirname, '../..');
const LOG_DIR = join(REPO_ROOT, '.tmp/test-logs');

/** A port nothing listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** PATH and HOME only: nothing of the test runner's environment leaks into the service. */
function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ['PATH', 'HOME', 'LANG', 'TMPDIR']) { const v = process.env[name]; if (v !== undefined) env[name] = v; }
  return env;
}

export interface ServiceProcess {
  base: string;
  port: number;
  /** Every line the process wrote (stdout and stderr). */
  output: string[];
  exited: Promise<number | null>;
  stop(): Promise<number | null>;
}

function collect(child: ChildProcess, output: string[], logFile: string): void {
  for (const stream of [child.stdout, child.stderr]) {
    let rest = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) { output.push(line); appendFileSync(logFile, `${line}\n`); }
    });
    stream?.on('end', () => { if (rest !== '') { output.push(rest); appendFileSync(logFile, `${rest}\n`); } });
  }
}

/** Starts `npm <script>` with `env` on a free port and waits until GET /healthz answers 200. */
export async function startService(env: Record<string, string>, script: string[] = ['start'], readyTimeoutMs = 120_000): Promise<ServiceProcess> {
  const port = Number(env['PORT'] ?? await freePort());
  mkdirSync(LOG_DIR, { recursive: true });
  const logFile = join(LOG_DIR, `e2e-${process.pid}-${randomUUID().slice(0, 8)}.log`);
  const output: string[] = [];
  const child = spawn('npm', script, { cwd: REPO_ROOT, env: { ...baseEnv(), ...env, PORT: String(port) }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  collect(child, output, logFile);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let done = false;
  void exited.then(() => { done = true; });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + readyTimeoutMs;
  while (!done) {
    const ok = await fetch(`${base}/healthz`).then((r) => r.status === 200, () => false);
    if (ok) break;
    if (Date.now() > deadline) { killGroup(child, 'SIGKILL'); throw new Error(`service did not become healthy:\n${output.slice(-20).join('\n')}`); }
    await sleep(200);
  }
  if (done) throw new Error(`service exited before it was healthy:\n${output.slice(-20).join('\n')}`);
  return {
    base, port, output, exited,
    async stop() {
      if (child.pid !== undefined && groupAlive(child.pid)) {
        killGroup(child, 'SIGTERM');
        // npm exits at once; the service itself shuts down gracefully (PGlite flushes): wait for the whole group.
        const deadline = Date.now() + 20_000;
        while (groupAlive(child.pid) && Date.now() < deadline) await sleep(100);
        if (groupAlive(child.pid)) killGroup(child, 'SIGKILL');
      }
      return exited;
    },
  };
}

function groupAlive(pid: number): boolean {
  try { process.kill(-pid, 0); return true; } catch { return false; }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try { process.kill(-child.pid, signal); } catch { /* already gone */ }
}

/** Runs `npm run <args>` to completion with the same environment; resolves with its exit code and output lines. */
export async function runNpm(env: Record<string, string>, args: string[]): Promise<{ code: number; stdout: string[]; stderr: string }> {
  return new Promise((resolve) => {
    execFile('npm', ['run', '--silent', ...args], { cwd: REPO_ROOT, env: { ...baseEnv(), ...env }, timeout: 120_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout: stdout.split('\n').filter((l) => l.trim() !== ''), stderr });
    });
  });
}
