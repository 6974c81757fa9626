/**
 * Metrics benchmark (`metrics`, issue 16): the per-step cost of recording OpenTelemetry metrics. The same
 * agent (the core workload: a tool call, then an answer — two steps) runs in the same process with no
 * MeterProvider (the API's no-op: one check per recording site) and with a real one (sdk-metrics, a
 * periodic reader exporting to memory every second), in interleaved repetitions; the figure is the
 * difference of the medians, per step. `overheadUs` is measured in CPU time of this process (user +
 * system), which a busy shared machine disturbs far less than wall time; the wall-time medians are kept
 * beside it. Run in a child of its own by target.ts.
 */
import { defineAgent, defineTool, metricsEnabled, run } from '@baton/core';
import { scriptedModel } from '@baton/core/testing';
import { metrics } from '@opentelemetry/api';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { z } from 'zod';

export interface MetricsBenchOptions {
  runsPerRepetition: number;
  /** Repetitions per mode; the modes alternate (off, on, off, on, ...). */
  repetitions: number;
  warmupRuns: number;
}

export interface MetricsFigures {
  /** Median CPU time per step with a MeterProvider minus without, µs. */
  overheadUs: number;
  /** The two CPU-time medians, µs per step. */
  stepUs: { off: number; on: number };
  /** The same in wall time (noisier on a shared machine), µs per step. */
  wallStepUs: { off: number; on: number; overhead: number };
  /** Every repetition, CPU µs per step, in the order measured. */
  repetitionsUs: { off: number[]; on: number[] };
  /** Data points the in-memory exporter received (the provider really recorded). */
  exportedDataPoints: number;
  workload: { stepsPerRun: number; runsPerRepetition: number; repetitions: number; warmupRuns: number };
}

function agent() {
  const noop = defineTool({
    name: 'noop',
    description: 'Does nothing.',
    input: z.object({}),
    execute: () => 'ok',
  });
  const model = scriptedModel(
    (request) => (request.messages.at(-1)?.role === 'tool' ? 'done' : { toolCalls: [{ name: 'noop' }] }),
    {
      recordRequests: false,
      id: 'gpt-4.1-mini',
      provider: 'openai',
      usage: { inputTokens: 100, outputTokens: 20 },
    },
  );
  return defineAgent({
    name: 'bench',
    description: 'The benchmark agent: one tool call, then an answer.',
    instructions: 'Call noop once, then answer.',
    model,
    tools: [noop],
  });
}

/** CPU and wall µs per step of `runs` sequential runs. */
async function repetition(
  bench: ReturnType<typeof agent>,
  runs: number,
): Promise<{ us: number; wallUs: number; steps: number }> {
  let steps = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < runs; i++) {
    const result = await run(bench, 'go');
    if (result.status !== 'completed') throw new Error(`bench run ended ${result.status}`);
    steps += result.steps;
  }
  const wallUs = ((performance.now() - started) * 1_000) / steps;
  const used = process.cpuUsage(cpu);
  return { us: (used.user + used.system) / steps, wallUs, steps };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export async function measureMetrics(options: MetricsBenchOptions): Promise<MetricsFigures> {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 1_000 });
  const provider = new MeterProvider({ readers: [reader] });
  const bench = agent();
  const on = () => {
    metrics.setGlobalMeterProvider(provider);
    if (!metricsEnabled()) throw new Error('the MeterProvider did not register');
  };
  const off = () => {
    metrics.disable();
    if (metricsEnabled()) throw new Error('metrics still enabled');
  };

  // Both paths compiled before anything is timed.
  for (const mode of [off, on, off]) {
    mode();
    await repetition(bench, options.warmupRuns);
  }
  const repetitionsUs = { off: [] as number[], on: [] as number[] };
  const wallUs = { off: [] as number[], on: [] as number[] };
  let stepsPerRun = 0;
  for (let rep = 0; rep < options.repetitions; rep++) {
    // Alternate which mode goes first, so drift (GC, a noisy neighbour) does not favour one.
    const order = rep % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const);
    for (const mode of order) {
      if (mode === 'on') on();
      else off();
      (globalThis as { gc?: () => void }).gc?.();
      const { us, wallUs: wall, steps } = await repetition(bench, options.runsPerRepetition);
      repetitionsUs[mode].push(us);
      wallUs[mode].push(wall);
      stepsPerRun = steps / options.runsPerRepetition;
    }
  }
  on();
  await reader.forceFlush();
  const exportedDataPoints =
    exporter
      .getMetrics()
      .at(-1)
      ?.scopeMetrics.flatMap((scope) => scope.metrics)
      .reduce((n, metric) => n + metric.dataPoints.length, 0) ?? 0;
  off();
  await provider.shutdown();
  const stepUs = { off: median(repetitionsUs.off), on: median(repetitionsUs.on) };
  const round = (value: number) => Math.round(value * 100) / 100;
  return {
    overheadUs: round(stepUs.on - stepUs.off),
    stepUs: { off: round(stepUs.off), on: round(stepUs.on) },
    wallStepUs: {
      off: round(median(wallUs.off)),
      on: round(median(wallUs.on)),
      overhead: round(median(wallUs.on) - median(wallUs.off)),
    },
    repetitionsUs: { off: repetitionsUs.off.map(round), on: repetitionsUs.on.map(round) },
    exportedDataPoints,
    workload: {
      stepsPerRun,
      runsPerRepetition: options.runsPerRepetition,
      repetitions: options.repetitions,
      warmupRuns: options.warmupRuns,
    },
  };
}
