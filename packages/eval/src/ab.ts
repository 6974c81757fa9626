import { BatonError } from '@baton/core';
import { mean } from 'simple-statistics';
import { type CaseResult, type EvalSummary, runCase, type SampleResult, summarize } from './runner.js';
import {
  type BootstrapInterval,
  type McNemarResult,
  mcnemarExact,
  pairedBootstrap,
  sampleSizeWarning,
} from './stats.js';
import type { Suite } from './suite.js';
import { type Variant, variantLabel } from './variant.js';

export interface AbOptions {
  /** Samples per case and arm; default 1. */
  samples?: number;
  /** Seed of the bootstrap; default 1. */
  seed?: number;
  /** Bootstrap resamples; default 2,000. */
  iterations?: number;
  /** Significance level for the verdict; default 0.05. */
  alpha?: number;
  /** Where recording paths are resolved (the suite file's directory). */
  baseDir?: string;
  signal?: AbortSignal;
  onCase?: (id: string, index: number, total: number) => void;
}

export interface AbArm {
  label: string;
  variant: Variant;
  bundle?: string;
  summary: EvalSummary;
}

export type AbMetric = 'passRate' | 'steps' | 'tokens' | 'costUsd' | 'latencyMs';

export interface AbCase {
  id: string;
  a: boolean[];
  b: boolean[];
  /** Per metric: B − A, averaged over the case's samples (null when a cost is unknown). */
  deltas: Record<AbMetric, number | null>;
  /** For a case with a recording: recorded tool results served to each arm, and calls that ran live. */
  replay?: { a: { hits: number; misses: number }; b: { hits: number; misses: number } };
}

export interface AbReport {
  kind: 'baton.ab-report';
  v: 1;
  suite: string;
  startedAt: string;
  durationMs: number;
  samplesPerCase: number;
  /** Runs per arm (cases × samples). */
  perVariant: number;
  a: AbArm;
  b: AbArm;
  /** Pass/fail pairs (same case, same sample index). */
  mcnemar: McNemarResult;
  /** B − A with a paired bootstrap CI, the case as the unit (null when a cost is unknown). */
  deltas: Record<AbMetric, BootstrapInterval | null>;
  alpha: number;
  verdict: string;
  warning?: string;
  cases: AbCase[];
}

/**
 * Runs both arms on the same cases — sample by sample, alternating which arm goes first — with each
 * case's recorded tool results replayed to both (the models run), then compares them: McNemar's exact
 * test on the paired pass/fail outcomes and a paired bootstrap CI of the differences per case.
 */
export async function runAb(
  suite: Suite,
  a: Variant,
  b: Variant,
  options: AbOptions = {},
): Promise<AbReport> {
  const samples = options.samples ?? 1;
  if (!Number.isInteger(samples) || samples < 1) {
    throw new BatonError('INPUT_INVALID', `runAb: samples must be an integer ≥ 1, got ${samples}`);
  }
  const alpha = options.alpha ?? 0.05;
  const started = Date.now();
  const caseOptions = {
    samples: 1,
    replayMode: 'tools' as const,
    ...(options.baseDir ? { baseDir: options.baseDir } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  };
  const armA: CaseResult[] = [];
  const armB: CaseResult[] = [];
  for (const [index, c] of suite.cases.entries()) {
    const sa: SampleResult[] = [];
    const sb: SampleResult[] = [];
    for (let sample = 1; sample <= samples; sample++) {
      // Alternate which arm runs first, so a drift over time (a warming cache, a busy machine) hits both.
      const order = sample % 2 === 1 ? (['a', 'b'] as const) : (['b', 'a'] as const);
      for (const arm of order) {
        const result = await runCase(c, arm === 'a' ? a : b, caseOptions);
        const one = { ...(result.samples[0] as SampleResult), sample };
        (arm === 'a' ? sa : sb).push(one);
      }
    }
    armA.push(caseOf(c.id, sa));
    armB.push(caseOf(c.id, sb));
    options.onCase?.(c.id, index, suite.cases.length);
  }

  let discordantB = 0;
  let discordantC = 0;
  const cases: AbCase[] = armA.map((caseA, index) => {
    const caseB = armB[index] as CaseResult;
    const pa = caseA.samples.map((sample) => sample.passed);
    const pb = caseB.samples.map((sample) => sample.passed);
    for (const [i, passedA] of pa.entries()) {
      if (passedA && !pb[i]) discordantB++;
      if (!passedA && pb[i]) discordantC++;
    }
    const replayA = replayTotals(caseA.samples);
    const replayB = replayTotals(caseB.samples);
    return {
      id: caseA.id,
      a: pa,
      b: pb,
      deltas: caseDeltas(caseA.samples, caseB.samples),
      ...(replayA && replayB ? { replay: { a: replayA, b: replayB } } : {}),
    };
  });
  const mcnemar = mcnemarExact(discordantB, discordantC);
  const bootstrap = {
    seed: options.seed ?? 1,
    ...(options.iterations ? { iterations: options.iterations } : {}),
  };
  const deltas = {} as Record<AbMetric, BootstrapInterval | null>;
  for (const metric of ['passRate', 'steps', 'tokens', 'costUsd', 'latencyMs'] as const) {
    const values = cases.map((c) => c.deltas[metric]);
    deltas[metric] = values.some((value) => value === null)
      ? null
      : pairedBootstrap(values as number[], bootstrap);
  }
  const summaryA = summarize(armA);
  const summaryB = summarize(armB);
  const perVariant = summaryA.samples;
  const warning = sampleSizeWarning(perVariant);
  return {
    kind: 'baton.ab-report',
    v: 1,
    suite: suite.name,
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    samplesPerCase: samples,
    perVariant,
    a: arm(a, summaryA),
    b: arm(b, summaryB),
    mcnemar,
    deltas,
    alpha,
    verdict: verdictOf(mcnemar, summaryA, summaryB, alpha, variantLabel(a), variantLabel(b)),
    ...(warning ? { warning } : {}),
    cases,
  };
}

function replayTotals(samples: readonly SampleResult[]): { hits: number; misses: number } | undefined {
  if (!samples.some((sample) => sample.replay)) return undefined;
  let hits = 0;
  let misses = 0;
  for (const sample of samples) {
    hits += sample.replay?.hits ?? 0;
    misses += sample.replay?.misses ?? 0;
  }
  return { hits, misses };
}

function caseOf(id: string, samples: SampleResult[]): CaseResult {
  const passed = samples.filter((sample) => sample.passed).length;
  return { id, samples, passed, passRate: passed / samples.length };
}

function arm(variant: Variant, summary: EvalSummary): AbArm {
  return {
    label: variantLabel(variant),
    variant,
    ...(variant.bundle ? { bundle: variant.bundle } : {}),
    summary,
  };
}

function caseDeltas(a: readonly SampleResult[], b: readonly SampleResult[]): Record<AbMetric, number | null> {
  const diff = (pick: (sample: SampleResult) => number | null): number | null => {
    const values: number[] = [];
    for (const [i, sampleA] of a.entries()) {
      const x = pick(sampleA);
      const y = pick(b[i] as SampleResult);
      if (x === null || y === null) return null;
      values.push(y - x);
    }
    return mean(values);
  };
  return {
    passRate: diff((sample) => (sample.passed ? 1 : 0)),
    steps: diff((sample) => sample.steps),
    tokens: diff((sample) => sample.tokens),
    costUsd: diff((sample) => sample.costUsd),
    latencyMs: diff((sample) => sample.latencyMs),
  };
}

function verdictOf(
  test: McNemarResult,
  a: EvalSummary,
  b: EvalSummary,
  alpha: number,
  labelA: string,
  labelB: string,
): string {
  const rates = `${labelA} ${percent(a.successRate)} vs ${labelB} ${percent(b.successRate)}`;
  if (test.discordant === 0)
    return `No discordant pair: the arms passed and failed the same runs (${rates}).`;
  const p = formatP(test.pValue);
  if (test.pValue >= alpha) {
    return `No significant difference in success rate at α = ${alpha} (${rates}; McNemar p = ${p}).`;
  }
  const better = test.c > test.b ? labelB : labelA;
  return `${better} is better on success rate at α = ${alpha} (${rates}; McNemar p = ${p}).`;
}

export function percent(rate: number): string {
  return `${(rate * 100).toFixed(1)}%`;
}

export function formatP(p: number): string {
  return p < 0.0001 ? p.toExponential(2) : p.toFixed(4);
}
