import { setImmediate as nextTurn } from 'node:timers/promises';
import { FINAL_TEXT, type Probe, type Workload } from './workload.js';

export interface StepConfig {
  /** Warm-up lasts at least this many runs and at least warmupMs, so fast and slow frameworks both get hot. */
  warmupRuns: number;
  warmupMs: number;
  repetitions: number;
  runsPerRepetition: number;
}

export interface StepMeasurement {
  /** Median over the repetitions of wall time / (runs × 2 steps), in microseconds. */
  stepOverheadUs: number;
  /** Each repetition's figure, in order. */
  repetitionsUs: number[];
}

export interface HeapConfig {
  concurrentRuns: number;
  /** Longest wait for every run to reach the held model call. */
  arriveTimeoutMs: number;
}

export interface HeapMeasurement {
  /** (heapUsed with every run held in flight − baseline) / runs, in bytes. */
  heapPerRunBytes: number;
  baselineHeapBytes: number;
  inFlightHeapBytes: number;
  /** (heapUsed after the runs completed − baseline) / runs: what a finished run leaves behind. */
  residualPerRunBytes: number;
  /** Time for the held runs to finish once released, in milliseconds. */
  drainMs: number;
}

/** Sequential two-step runs: warm-up, then a median of timed repetitions. */
export async function measureSteps(
  workload: Workload,
  probe: Probe,
  config: StepConfig,
): Promise<StepMeasurement> {
  const warmupEnd = performance.now() + config.warmupMs;
  for (let i = 0; i < config.warmupRuns || performance.now() < warmupEnd; i++) {
    expectFinal(await workload.runOnce(), workload);
  }
  const repetitionsUs: number[] = [];
  for (let rep = 0; rep < config.repetitions; rep++) {
    // Start each repetition from a clean heap so garbage from the previous one is not billed to it.
    await collectGarbage();
    probe.modelCalls = 0;
    probe.toolCalls = 0;
    const start = process.hrtime.bigint();
    for (let i = 0; i < config.runsPerRepetition; i++) await workload.runOnce();
    const elapsedNs = Number(process.hrtime.bigint() - start);
    expectCounts(probe, config.runsPerRepetition, workload);
    repetitionsUs.push(elapsedNs / 1_000 / (config.runsPerRepetition * 2));
  }
  return { stepOverheadUs: median(repetitionsUs), repetitionsUs };
}

/**
 * Retained heap per in-flight run: hold `concurrentRuns` runs at their second model call, collect garbage,
 * compare with a baseline taken the same way, then release them and check they all complete.
 * A first held round warms up the concurrent path (lazy structures, maps growing) before the baseline.
 */
export async function measureHeap(
  workload: Workload,
  probe: Probe,
  config: HeapConfig,
): Promise<HeapMeasurement> {
  await heldRound(workload, probe, config, async () => undefined);
  const baselineHeapBytes = await settledHeapUsed();
  let inFlightHeapBytes = 0;
  const drainMs = await heldRound(workload, probe, config, async () => {
    inFlightHeapBytes = await settledHeapUsed();
  });
  const after = await settledHeapUsed();
  return {
    heapPerRunBytes: Math.round((inFlightHeapBytes - baselineHeapBytes) / config.concurrentRuns),
    baselineHeapBytes,
    inFlightHeapBytes,
    residualPerRunBytes: Math.round((after - baselineHeapBytes) / config.concurrentRuns),
    drainMs,
  };
}

/** Starts the runs, waits until all are held, calls `whileHeld`, releases them; returns the drain time. */
async function heldRound(
  workload: Workload,
  probe: Probe,
  config: HeapConfig,
  whileHeld: () => Promise<void>,
): Promise<number> {
  let release: () => void = () => undefined;
  probe.hold = new Promise<void>((resolve) => {
    release = resolve;
  });
  probe.arrived = 0;
  probe.modelCalls = 0;
  probe.toolCalls = 0;
  const runs: Promise<string>[] = [];
  for (let i = 0; i < config.concurrentRuns; i++) runs.push(workload.runOnce());
  // A run that fails before reaching the model must not leave the others waiting forever.
  const failed = Promise.race(runs).then(
    () => new Error('a run finished while it should have been held at its second model call'),
    (error: unknown) => error,
  );
  let failure: unknown;
  void failed.then((error) => {
    failure = error;
  });
  const deadline = Date.now() + config.arriveTimeoutMs;
  while (probe.arrived < config.concurrentRuns) {
    if (failure !== undefined) throw failure;
    if (Date.now() > deadline) {
      throw new Error(
        `only ${probe.arrived} of ${config.concurrentRuns} runs reached the held model call within ${config.arriveTimeoutMs} ms`,
      );
    }
    await nextTurn();
  }
  await whileHeld();
  probe.hold = undefined;
  const start = process.hrtime.bigint();
  release();
  const texts = await Promise.all(runs);
  const drainMs = Number(process.hrtime.bigint() - start) / 1e6;
  for (const text of texts) expectFinal(text, workload);
  expectCounts(probe, config.concurrentRuns, workload);
  return drainMs;
}

/** heapUsed after several full collections, with turns in between so finalizers and weak refs settle. */
export async function settledHeapUsed(): Promise<number> {
  await collectGarbage();
  return process.memoryUsage().heapUsed;
}

async function collectGarbage(): Promise<void> {
  const gc = globalThis.gc;
  if (typeof gc !== 'function') throw new Error('run the measuring process with node --expose-gc');
  for (let i = 0; i < 6; i++) {
    gc();
    await nextTurn();
  }
}

function expectFinal(text: string, workload: Workload): void {
  if (text !== FINAL_TEXT) {
    throw new Error(
      `${workload.framework}: expected the final text ${JSON.stringify(FINAL_TEXT)}, got ${JSON.stringify(text)}`,
    );
  }
}

function expectCounts(probe: Probe, runs: number, workload: Workload): void {
  if (probe.modelCalls !== runs * 2 || probe.toolCalls !== runs) {
    throw new Error(
      `${workload.framework}: ${runs} runs made ${probe.modelCalls} model calls and ${probe.toolCalls} tool calls (expected ${runs * 2} and ${runs})`,
    );
  }
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
