import { chmod, unlink } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';

/**
 * The embedded store (PGlite) can be open in one process only, so while `npm start` runs, `npm run keys -- …` cannot
 * open it. The running service therefore listens on a Unix socket in DATA_DIR (owner-only, like master.key) and runs
 * such a CLI command itself, against its own open database; the CLI falls back to it when DATA_DIR is locked.
 *
 * Protocol: the client writes one JSON line `{ "command": "keys", "argv": [...] }`; the service answers with JSON
 * lines `{ "out": "<line>" }` and a last `{ "exit": <code>, "error"?: "<text for stderr>" }`.
 */
export const RELAY_SOCKET = 'cli.sock';

/** A CLI command run inside the service; throws RelayCommandError for an answer on stderr with an exit code. */
export type RelayHandler = (command: string, argv: string[], out: (line: string) => void) => Promise<void>;

export class RelayCommandError extends Error {
  constructor(message: string, readonly exitCode: number) { super(message); }
}

function socketPath(dataDir: string): string {
  return join(resolve(dataDir), RELAY_SOCKET);
}

/** Serves the relay (embedded store only). A path too long for a Unix socket only costs the relay: logged, not fatal. */
export async function serveCliRelay(dataDir: string, handler: RelayHandler, log: Logger): Promise<{ close(): Promise<void> }> {
  const path = socketPath(dataDir);
  await unlink(path).catch(() => undefined); // left by a process that died: DATA_DIR's pid lock says we own it now
  const server: Server = createServer((socket) => { void serve(socket, handler, log); });
  try {
    await new Promise<void>((done, fail) => { server.once('error', fail); server.listen(path, () => done()); });
    await chmod(path, 0o600);
  } catch (err) {
    log.warn({ err: err instanceof Error ? err.message : String(err) }, 'CLI relay socket not available: stop the service to run npm run keys on the embedded store');
    server.close();
    return { close: async () => undefined };
  }
  return {
    async close() {
      await new Promise<void>((done) => server.close(() => done()));
      await unlink(path).catch(() => undefined);
    },
  };
}

async function serve(socket: Socket, handler: RelayHandler, log: Logger): Promise<void> {
  const send = (message: Record<string, unknown>) => socket.write(`${JSON.stringify(message)}\n`);
  let buffered = '';
  socket.setEncoding('utf8');
  const line = await new Promise<string | null>((done) => {
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      const end = buffered.indexOf('\n');
      if (end >= 0) done(buffered.slice(0, end));
      else if (buffered.length > 64 * 1024) done(null);
    });
    socket.on('end', () => done(null));
    socket.on('error', () => done(null));
  });
  let request: { command?: unknown; argv?: unknown } = {};
  try { request = line === null ? {} : (JSON.parse(line) as typeof request); } catch { /* answered below */ }
  const { command, argv } = request;
  if (typeof command !== 'string' || !Array.isArray(argv) || !argv.every((a) => typeof a === 'string')) {
    send({ exit: 2, error: 'relay: expected {"command", "argv"}' });
    socket.end();
    return;
  }
  try {
    await handler(command, argv as string[], (out) => send({ out }));
    send({ exit: 0 });
  } catch (err) {
    if (err instanceof RelayCommandError) send({ exit: err.exitCode, error: err.message });
    else {
      log.warn({ command, err: err instanceof Error ? err.message : String(err) }, 'CLI command through the relay failed');
      send({ exit: 1, error: err instanceof Error ? err.message : String(err) });
    }
  }
  socket.end();
}

/**
 * Runs `command argv` in the service that holds DATA_DIR, printing what it answers. Resolves with the exit code,
 * or null when no service listens there (the caller then reports its own error).
 */
export async function runThroughService(dataDir: string, command: string, argv: string[]): Promise<number | null> {
  const socket = createConnection(socketPath(dataDir));
  const connected = await new Promise<boolean>((done) => { socket.once('connect', () => done(true)); socket.once('error', () => done(false)); });
  if (!connected) { socket.destroy(); return null; }
  socket.setEncoding('utf8');
  socket.write(`${JSON.stringify({ command, argv })}\n`);
  let buffered = '';
  let exit: number | null = 1;
  for await (const chunk of socket) {
    buffered += chunk as string;
    let end: number;
    while ((end = buffered.indexOf('\n')) >= 0) {
      const message = JSON.parse(buffered.slice(0, end)) as { out?: string; exit?: number; error?: string };
      buffered = buffered.slice(end + 1);
      if (typeof message.out === 'string') process.stdout.write(`${message.out}\n`);
      if (typeof message.error === 'string') process.stderr.write(`${message.error}\n`);
      if (typeof message.exit === 'number') exit = message.exit;
    }
  }
  return exit;
}
