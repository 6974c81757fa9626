/**
 * The `server` target of `npm run bench` (issue 15): measured in its own child like the others; kept
 * here so the runner gains only a few lines.
 */
import { fileURLToPath } from 'node:url';
import { runChild } from '../spawn.js';

const MODULE = fileURLToPath(new URL('./index.js', import.meta.url));
const TIME_LIMIT_MS = 10 * 60_000;

export async function measureServerTarget(env: NodeJS.ProcessEnv): Promise<Record<string, unknown>> {
  process.stdout.write('measuring server ... ');
  const started = Date.now();
  const outcome = await runChild({ kind: 'server', module: MODULE }, TIME_LIMIT_MS, env);
  process.stdout.write(`${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  return outcome.ok ? outcome.result : { error: outcome.error };
}

/** The figures as a few lines for the bench's summary. */
export function formatServer(figures: Record<string, unknown>): string {
  if ('error' in figures) return `server: ${String(figures.error)}`;
  const f = figures as {
    gateway: { rps: number; p50Ms: number; p99Ms: number; non2xx: number };
    direct: { rps: number; p50Ms: number; p99Ms: number };
    directWithGatewayOptions: { rps: number; p50Ms: number; p99Ms: number };
    health: { rps: number; p99Ms: number };
    ratio: { rps: number; p99: number };
    sse: {
      firstEventMs: { p50: number; p99: number };
      firstRunEventMs: { p50: number; p99: number };
      resultMs: { p50: number; p99: number };
      syncResponseMs: { p50: number; p99: number };
    };
  };
  const row = (label: string, t: { rps: number; p50Ms: number; p99Ms: number }) =>
    `  ${label.padEnd(34)} ${t.rps.toFixed(0).padStart(7)} req/s   p50 ${t.p50Ms.toFixed(2)} ms   p99 ${t.p99Ms.toFixed(2)} ms`;
  return [
    'server (sync runs of a trivial agent):',
    row('through the gateway (HTTP)', f.gateway),
    row('run() directly', f.direct),
    row('run() with the gateway options', f.directWithGatewayOptions),
    `  ${'GET /health (HTTP floor)'.padEnd(34)} ${f.health.rps.toFixed(0).padStart(7)} req/s   p99 ${f.health.p99Ms.toFixed(2)} ms`,
    `  gateway / run(): ${f.ratio.rps} × the requests/s, ${f.ratio.p99} × the p99${f.gateway.non2xx ? ` (${f.gateway.non2xx} non-2xx!)` : ''}`,
    `  SSE: first event p50 ${f.sse.firstEventMs.p50} ms / p99 ${f.sse.firstEventMs.p99} ms; run.start p50 ${f.sse.firstRunEventMs.p50} ms; result p50 ${f.sse.resultMs.p50} ms (sync response p50 ${f.sse.syncResponseMs.p50} ms)`,
  ].join('\n');
}
