/**
 * Runs the timing repetitions as rounds: round r measures every framework once (one repetition each, in
 * a fresh child after its own warm-up), rotating the order, before round r + 1 starts. On a shared
 * machine whose load comes and goes, a burst then slows one repetition of several frameworks instead of
 * every repetition of one, and the per-framework median shrugs it off. The heap figure does not depend
 * on CPU contention and is taken once, in the first round.
 */
import { z } from 'zod';
import type { ChildTask } from './child.js';
import { median } from './harness.js';
import type { Entry, RunConfig } from './report.js';
import { round } from './report.js';
import { runChild } from './spawn.js';

export interface Target {
  key: string;
  label: string;
  /** Absolute path of the adapter module. */
  adapter: string;
}

const heapSchema = z.object({
  heapPerRunBytes: z.number(),
  baselineHeapBytes: z.number(),
  inFlightHeapBytes: z.number(),
  residualPerRunBytes: z.number(),
  drainMs: z.number(),
});

/** What a workload child reports (validated: it crosses a process boundary). */
const childResultSchema = z.object({
  framework: z.string(),
  version: z.string(),
  repetitionsUs: z.array(z.number().positive()).min(1),
  heap: heapSchema.optional(),
});
type ChildResult = z.infer<typeof childResultSchema>;

const CHILD_TIME_LIMIT_MS = 10 * 60_000;

export async function measureTargets(
  targets: readonly Target[],
  config: RunConfig,
  env: NodeJS.ProcessEnv,
  log: (text: string) => void,
): Promise<Map<string, Entry>> {
  const collected = new Map<
    string,
    { version: string; repetitionsUs: number[]; heap?: ChildResult['heap'] }
  >();
  const failed = new Map<string, string>();
  for (let roundIndex = 0; roundIndex < config.repetitions; roundIndex++) {
    const order = targets.map((_, i) => targets[(i + roundIndex) % targets.length] as Target);
    for (const target of order) {
      if (failed.has(target.key)) continue;
      const task: ChildTask = {
        kind: 'workload',
        adapter: target.adapter,
        warmupRuns: config.warmupRuns,
        warmupMs: config.warmupMs,
        repetitions: 1,
        runsPerRepetition: config.runsPerRepetition,
        heap: roundIndex === 0,
        concurrentRuns: config.concurrentRuns,
        arriveTimeoutMs: 120_000,
      };
      const started = Date.now();
      log(`round ${roundIndex + 1}/${config.repetitions}: ${target.label} ... `);
      const outcome = await runChild(task, CHILD_TIME_LIMIT_MS, env);
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      const parsed = outcome.ok ? childResultSchema.safeParse(outcome.result) : undefined;
      if (!outcome.ok || !parsed?.success) {
        const error = outcome.ok ? `unexpected result: ${parsed?.error?.message}` : outcome.error;
        failed.set(target.key, `round ${roundIndex + 1}: ${error}`);
        log(`FAILED after ${seconds} s\n`);
        continue;
      }
      const result = parsed.data;
      const entry = collected.get(target.key) ?? { version: result.version, repetitionsUs: [] };
      entry.repetitionsUs.push(...result.repetitionsUs);
      if (result.heap) entry.heap = result.heap;
      collected.set(target.key, entry);
      log(`${result.repetitionsUs.map((us) => us.toFixed(2)).join(' ')} µs/step (${seconds} s)\n`);
    }
  }

  const entries = new Map<string, Entry>();
  for (const target of targets) {
    const error = failed.get(target.key);
    const data = collected.get(target.key);
    if (error !== undefined) {
      entries.set(target.key, data ? { error, version: data.version } : { error });
    } else if (!data?.heap) {
      entries.set(target.key, { error: 'no heap measurement was returned' });
    } else {
      entries.set(target.key, {
        stepOverheadUs: round(median(data.repetitionsUs), 3),
        heapPerRunBytes: data.heap.heapPerRunBytes,
        version: data.version,
        repetitionsUs: data.repetitionsUs.map((us) => round(us, 3)),
        residualPerRunBytes: data.heap.residualPerRunBytes,
        drainMs: round(data.heap.drainMs, 1),
      });
    }
  }
  return entries;
}
