import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { BatonError } from '@baton/core';

export interface NatsServerOptions {
  /** Enable JetStream with a temporary store directory (default false). */
  jetstream?: boolean;
  /** Port to listen on; default a free port picked at random. */
  port?: number;
  /** How long to wait for the server to accept connections (default 10 s). */
  readyTimeoutMs?: number;
  /** Extra command-line arguments for nats-server. */
  args?: readonly string[];
  /**
   * A configuration file's text (e.g. from `natsServerConfig`): written to a temporary file (removed by
   * `stop()`) and passed with `-c`. The port, address and JetStream store given here still win.
   */
  config?: string;
}

export interface NatsServer {
  /** `nats://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** The pid of the current server process (changes after `restart()`). */
  readonly pid: number;
  /** JetStream store directory (kept across restarts, removed by `stop()`); undefined without JetStream. */
  readonly storeDir: string | undefined;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s) and removes its store directory. */
  stop(): Promise<void>;
  /** Sends a signal (default SIGKILL) and waits for the process to exit; the store directory is kept. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Stops the current process if it runs and starts a new one on the same port and store directory. */
  restart(): Promise<void>;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Never leave a nats-server behind when the test process exits, whatever the reason. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of live) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

/** Finds the nats-server binary: `NATS_SERVER_BIN`, then PATH, then `/usr/sbin/nats-server`. */
export function findNatsServer(): string {
  const fromEnv = process.env.NATS_SERVER_BIN;
  if (fromEnv && isExecutable(fromEnv)) return fromEnv;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, 'nats-server');
    if (isExecutable(candidate)) return candidate;
  }
  for (const candidate of ['/usr/sbin/nats-server', '/usr/local/bin/nats-server', '/usr/bin/nats-server']) {
    if (isExecutable(candidate)) return candidate;
  }
  throw new BatonError('CONFIG_INVALID', 'nats-server not found', {
    hint: 'Install nats-server (apt install nats-server) or set NATS_SERVER_BIN to its path',
  });
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** A TCP port that was free a moment ago (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts a real nats-server for tests: a free port on 127.0.0.1, an optional JetStream store in a temp
 * directory, ready when it answers with its INFO line. Stop it with `stop()`; a process exit kills it too.
 */
export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServer> {
  installExitHook();
  const bin = findNatsServer();
  const storeDir = options.jetstream ? mkdtempSync(join(tmpdir(), 'baton-nats-')) : undefined;
  const configDir =
    options.config === undefined ? undefined : mkdtempSync(join(tmpdir(), 'baton-nats-conf-'));
  const configFile = configDir === undefined ? undefined : join(configDir, 'nats-server.conf');
  // Owner-only: a configuration holds the users' passwords.
  if (configFile !== undefined) writeFileSync(configFile, options.config as string, { mode: 0o600 });
  const cleanUp = () => {
    if (storeDir) rmSync(storeDir, { recursive: true, force: true });
    if (configDir) rmSync(configDir, { recursive: true, force: true });
  };
  const readyTimeoutMs = options.readyTimeoutMs ?? 10_000;
  let port = options.port ?? (await freePort());
  let child: ChildProcess | undefined;
  let stopped = false;

  const launch = async (): Promise<void> => {
    // The config first: command-line flags after it override what it says (port, address, store).
    const args = configFile === undefined ? [] : ['-c', configFile];
    args.push('-a', '127.0.0.1', '-p', String(port));
    if (storeDir) args.push('-js', '-sd', storeDir);
    args.push(...(options.args ?? []));
    const proc = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    live.add(proc);
    const log: string[] = [];
    proc.stderr?.setEncoding('utf8');
    proc.stderr?.on('data', (chunk: string) => {
      log.push(chunk);
      if (log.length > 50) log.shift();
    });
    proc.once('exit', () => live.delete(proc));
    child = proc;
    try {
      await waitUntilReady(proc, port, readyTimeoutMs);
    } catch (error) {
      await terminate(proc, 'SIGKILL');
      const tail = log.join('').split('\n').slice(-8).join('\n');
      throw new BatonError('BUS_DISCONNECTED', `nats-server did not start on port ${port}: ${tail}`, {
        cause: error,
      });
    }
  };

  // A port picked as free can be taken before the server binds it: retry a few times with a new one.
  for (let attempt = 1; ; attempt++) {
    try {
      await launch();
      break;
    } catch (error) {
      if (options.port !== undefined || attempt >= 3) {
        cleanUp();
        throw error;
      }
      port = await freePort();
    }
  }

  const server: NatsServer = {
    url: `nats://127.0.0.1:${port}`,
    port,
    get pid() {
      return child?.pid ?? -1;
    },
    storeDir,
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (child) await terminate(child, signal);
    },
    async restart() {
      if (stopped) throw new BatonError('CONFIG_INVALID', 'restart() after stop()');
      if (child) await terminate(child, 'SIGTERM');
      // The old process may hold the port for a moment after exiting.
      const until = Date.now() + readyTimeoutMs;
      for (;;) {
        try {
          await launch();
          return;
        } catch (error) {
          if (Date.now() > until) throw error;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (child) await terminate(child, 'SIGTERM');
      cleanUp();
    },
  };
  return server;
}

/** True while a process with this pid exists (signal 0 tests for it without touching it). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function exited(proc: ChildProcess): boolean {
  return proc.exitCode !== null || proc.signalCode !== null;
}

/** Signals the process and waits for it to exit; escalates to SIGKILL after 5 s. */
function terminate(proc: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (exited(proc)) return Promise.resolve();
  return new Promise((resolve) => {
    const escalate = setTimeout(() => {
      if (!exited(proc)) proc.kill('SIGKILL');
    }, 5_000);
    proc.once('exit', () => {
      clearTimeout(escalate);
      resolve();
    });
    proc.kill(signal);
  });
}

async function waitUntilReady(proc: ChildProcess, port: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (exited(proc)) throw new Error(`nats-server exited with ${proc.exitCode ?? proc.signalCode}`);
    if (await answersInfo(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`nats-server not ready after ${timeoutMs} ms`);
}

/** True when something on the port speaks NATS (sends its `INFO {...}` greeting). */
function answersInfo(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let buffered = '';
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), 1_000);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      if (buffered.startsWith('INFO ') && buffered.includes('\n')) done(true);
    });
    socket.on('error', () => done(false));
    socket.on('close', () => done(buffered.startsWith('INFO ')));
  });
}
