import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import type { WorkerConfig } from './fixtures/worker.js';

const WORKER = fileURLToPath(new URL('./fixtures/worker.ts', import.meta.url));

export interface WorkerProcess {
  readonly process: ChildProcess;
  readonly ready: Promise<void>;
  /** SIGTERM (drain) and wait for the exit. */
  stop(): Promise<void>;
  /** SIGKILL and wait for the exit. */
  kill(): Promise<void>;
}

/** Every worker process a test file started that has not exited yet. */
const running = new Set<ChildProcess>();
// A test that fails half-way must not leave a worker behind, retrying a NATS server that is long gone.
afterAll(() => {
  for (const child of running) child.kill('SIGKILL');
});

/** Starts `fixtures/worker.ts` in its own Node process (TypeScript through tsx, sources via the export condition). */
export function spawnWorker(config: WorkerConfig): WorkerProcess {
  const child = spawn(
    process.execPath,
    ['--conditions=@baton/source', '--import', 'tsx', WORKER, JSON.stringify(config)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  running.add(child);
  child.once('exit', () => running.delete(child));
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4_000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      out += chunk;
      if (out.includes(`READY ${config.instance}`)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`worker ${config.instance} exited (${code}): ${stderr}`)));
  });
  ready.catch(() => undefined);
  const end = (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    return exited;
  };
  return { process: child, ready, stop: () => end('SIGTERM'), kill: () => end('SIGKILL') };
}

/** Runs `tasks` with at most `limit` at once, keeping their order in the results. */
export async function pool<T>(
  count: number,
  limit: number,
  task: (index: number) => Promise<T>,
): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, count) }, async () => {
    while (next < count) {
      const index = next++;
      results[index] = await task(index);
    }
  });
  await Promise.all(lanes);
  return results;
}
