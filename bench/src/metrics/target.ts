/**
 * The `metrics` target of `npm run bench` (issue 16): `metrics.overheadUs`, the per-step cost of a real
 * MeterProvider against none, measured in a child of its own (see index.ts) so the runner loads no Baton
 * code; the runner gains only a few lines.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MetricsBenchOptions, MetricsFigures } from './index.js';

const CHILD = fileURLToPath(new URL('./child.js', import.meta.url));
const TIME_LIMIT_MS = 10 * 60_000;

export async function measureMetricsTarget(
  env: NodeJS.ProcessEnv,
  quick: boolean,
): Promise<Record<string, unknown>> {
  const options: MetricsBenchOptions = quick
    ? { runsPerRepetition: 500, repetitions: 9, warmupRuns: 300 }
    : { runsPerRepetition: 1_000, repetitions: 21, warmupRuns: 1_000 };
  process.stdout.write('measuring metrics ... ');
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'baton-bench-metrics-'));
  const out = join(dir, 'result.json');
  try {
    const error = await new Promise<string | undefined>((resolve) => {
      const child = spawn(process.execPath, ['--expose-gc', CHILD, JSON.stringify(options), out], {
        stdio: ['ignore', 'ignore', 'pipe'],
        env,
      });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        stderr = (stderr + chunk).slice(-4_000);
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), TIME_LIMIT_MS);
      child.on('error', (failure) => resolve(`could not start: ${failure.message}`));
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        resolve(code === 0 ? undefined : `exit ${code ?? signal}: ${stderr.trim()}`);
      });
    });
    process.stdout.write(`${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    if (error) return { error };
    return JSON.parse(readFileSync(out, 'utf8')) as Record<string, unknown>;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Measured alone (`--only metrics`, written to partial.json), the figure is also stamped into latest.json. */
export function recordMetricsInLatest(
  latest: string,
  written: string,
  figures: Record<string, unknown>,
): void {
  if ('error' in figures || written === latest || !existsSync(latest)) return;
  const results = JSON.parse(readFileSync(latest, 'utf8')) as Record<string, unknown>;
  results.metrics = { ...figures, measuredAt: new Date().toISOString() };
  writeFileSync(latest, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`recorded metrics in ${latest}`);
}

export function formatMetrics(figures: Record<string, unknown>): string {
  if ('error' in figures) return `metrics: ${String(figures.error)}`;
  const f = figures as unknown as MetricsFigures;
  return [
    `metrics: step overhead with a MeterProvider ${f.overheadUs.toFixed(2)} µs/step of CPU ` +
      `(median ${f.stepUs.on.toFixed(2)} on vs ${f.stepUs.off.toFixed(2)} off, ` +
      `${f.workload.repetitions} interleaved repetitions × ${f.workload.runsPerRepetition} runs)`,
    `         wall time ${f.wallStepUs.overhead.toFixed(2)} µs/step (${f.wallStepUs.on.toFixed(2)} vs ${f.wallStepUs.off.toFixed(2)}); ` +
      `${f.exportedDataPoints} data points exported`,
  ].join('\n');
}
