import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BatonError } from '@baton/core';

/** Undo actions run in reverse order, once, whatever happened before. */
export class Cleanup {
  private readonly steps: (() => Promise<void> | void)[] = [];
  private running: Promise<void> | undefined;

  push(step: () => Promise<void> | void): void {
    this.steps.push(step);
  }

  run(): Promise<void> {
    this.running ??= (async () => {
      for (const step of this.steps.reverse()) {
        try {
          await step();
        } catch {
          // Keep going: every other process must still be stopped.
        }
      }
    })();
    return this.running;
  }
}

export interface WorkerProcess {
  name: string;
  child: ChildProcess;
  pid: number;
  /** True once the process has exited. */
  readonly exited: boolean;
  /** Rejects when the process exits (with what it last wrote); never resolves. */
  readonly died: Promise<never>;
  /** Stops it: SIGTERM (it drains and exits), SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts `worker.js` (or `worker.ts` under tsx, when this module runs from source) for one agent;
 * `onLine` gets what it writes on stderr. The worker holds a pipe to us on stdin, so it exits by
 * itself if this process dies without stopping it.
 */
export function spawnWorker(
  name: string,
  natsUrl: string,
  env: Record<string, string>,
  onLine: (line: string) => void,
): WorkerProcess {
  const fromSource = import.meta.url.endsWith('.ts');
  const script = fileURLToPath(new URL(fromSource ? './worker.ts' : './worker.js', import.meta.url));
  // From source, the worker runs under tsx too (located from here, so any working directory works).
  const tsx = () => pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const args = fromSource ? ['--conditions=@baton/source', '--import', tsx(), script] : [script];
  const child = spawn(process.execPath, [...args, name, natsUrl], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...env, BATON_STOP_WITH_PARENT: '1' },
  });
  if (child.pid === undefined) throw new BatonError('INTERNAL', `Could not start the ${name} worker`);
  let buffered = '';
  const tail: string[] = [];
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      if (line.trim() === '') continue;
      tail.push(line);
      if (tail.length > 5) tail.shift();
      onLine(line);
    }
  });
  child.stdout?.resume();
  const died = new Promise<never>((_, reject) => {
    child.once('exit', (code, signal) => {
      const last = tail.length > 0 ? `: ${tail.join(' | ')}` : '';
      reject(new BatonError('WORKER_CRASHED', `The ${name} worker exited (${code ?? signal})${last}`));
    });
  });
  died.catch(() => {});
  return {
    name,
    child,
    pid: child.pid,
    died,
    get exited() {
      return child.exitCode !== null || child.signalCode !== null;
    },
    stop: (graceMs = 10_000) => terminate(child, graceMs),
  };
}

function terminate(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
