/**
 * The `memory` target of `npm run bench` (issue 13): measured in its own child like the others; kept
 * here so the runner gains only a few lines. Loads no Baton code in the runner's process.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runChild } from '../spawn.js';
import { RECALL_BACKENDS, RECALL_METHOD } from './recall-format.js';

const MODULE = fileURLToPath(new URL('./index.js', import.meta.url));
const TIME_LIMIT_MS = 10 * 60_000;
/** `memory.recall` (recall.ts): loading 100k records takes minutes, so each backend gets a child of its own. */
const RECALL_MODULE = fileURLToPath(new URL('./recall.js', import.meta.url));
const RECALL_TIME_LIMIT_MS = 15 * 60_000;

export async function measureMemoryTarget(env: NodeJS.ProcessEnv): Promise<Record<string, unknown>> {
  process.stdout.write('measuring memory ... ');
  const started = Date.now();
  const outcome = await runChild({ kind: 'memory', module: MODULE }, TIME_LIMIT_MS, env);
  process.stdout.write(`${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  const figures = outcome.ok ? outcome.result : { error: outcome.error };
  const recall: Record<string, unknown> = {};
  for (const backend of RECALL_BACKENDS) {
    process.stdout.write(`measuring memory.recall ${backend} ... `);
    const recallStarted = Date.now();
    const outcome = await runChild({ kind: 'memoryRecall', module: RECALL_MODULE }, RECALL_TIME_LIMIT_MS, {
      ...env,
      BATON_RECALL_BACKEND: backend,
    });
    process.stdout.write(`${((Date.now() - recallStarted) / 1000).toFixed(1)} s\n`);
    recall[backend] = outcome.ok ? outcome.result[backend] : { error: outcome.error };
  }
  return { ...figures, recall: { ...recall, method: RECALL_METHOD, measuredAt: new Date().toISOString() } };
}

/**
 * `memory.p6` is exact token counts from deterministic models, not timings: it does not depend on the
 * machine or on what else ran. A run that measured it without the full protocol (`--only memory`, which
 * writes partial.json) also records it in latest.json, stamped with its own `measuredAt`, so the figures
 * there are current without re-running the minutes-long timing suite. `memory.recall` is timings, but its
 * protocol is its own (no other target runs at the same time), so it is recorded the same way.
 */
export function recordMemoryInLatest(latest: string, written: string, memory: Record<string, unknown>): void {
  if ('error' in memory || written === latest || !existsSync(latest)) return;
  const results = JSON.parse(readFileSync(latest, 'utf8')) as Record<string, unknown>;
  results.memory = memory;
  writeFileSync(latest, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`recorded memory in ${latest}`);
}
