import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildTask } from './child.js';

const CHILD = fileURLToPath(new URL('./child.js', import.meta.url));

export type ChildOutcome = { ok: true; result: Record<string, unknown> } | { ok: false; error: string };

/**
 * Measures one task in a fresh `node --expose-gc` process (the same node binary as this one) and reads its
 * result file. A crash, a non-zero exit or the time limit becomes an error with the tail of its stderr.
 */
export function runChild(task: ChildTask, timeoutMs: number, env: NodeJS.ProcessEnv): Promise<ChildOutcome> {
  const dir = mkdtempSync(join(tmpdir(), 'baton-bench-'));
  const outFile = join(dir, 'result.json');
  return new Promise<ChildOutcome>((resolve) => {
    const child = spawn(process.execPath, ['--expose-gc', CHILD, JSON.stringify(task), outFile], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env,
    });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4_000);
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    const finish = (outcome: ChildOutcome) => {
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
      resolve(outcome);
    };
    child.on('error', (error) => finish({ ok: false, error: `could not start: ${error.message}` }));
    child.on('close', (code, signal) => {
      if (timedOut) return finish({ ok: false, error: `did not finish within ${timeoutMs / 1000} s` });
      if (code !== 0) {
        const why = signal ? `killed by ${signal}` : `exited with ${code}`;
        return finish({ ok: false, error: `${why}: ${lastLines(stderr)}` });
      }
      try {
        finish({ ok: true, result: JSON.parse(readFileSync(outFile, 'utf8')) as Record<string, unknown> });
      } catch (error) {
        finish({ ok: false, error: `no readable result: ${(error as Error).message}` });
      }
    });
  });
}

function lastLines(text: string): string {
  const lines = text.trim().split('\n');
  return lines.slice(-12).join('\n') || '(no stderr)';
}
