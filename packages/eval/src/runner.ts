import { mkdirSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { BatonError } from '@baton/core';
import { mean, quantile } from 'simple-statistics';
import { type CheckResult, evaluateCheck } from './checks.js';
import { loadRecording, type Recording, saveRecording } from './recording.js';
import { RecordingSession, type ReplayMode, ReplaySession } from './session.js';
import type { Check, EvalCase, Suite } from './suite.js';
import { inputFor, runVariant, type TargetRun } from './target.js';
import { type Variant, variantLabel } from './variant.js';

/** One run of one case. */
export interface SampleResult {
  sample: number;
  passed: boolean;
  runId: string;
  status: string;
  checks: CheckResult[];
  steps: number;
  tokens: number;
  costUsd: number | null;
  latencyMs: number;
  /** Why the run could not be judged (it threw, or its replay diverged). */
  error?: { code: string; message: string };
  replay?: { mode: ReplayMode; hits: number; misses: number };
  /** Where its recording was written (with `record`). */
  recording?: string;
}

export interface CaseResult {
  id: string;
  name?: string;
  samples: SampleResult[];
  passed: number;
  passRate: number;
}

export interface MetricSummary {
  mean: number;
  p50: number;
  p95: number;
  total: number;
}

export interface EvalSummary {
  cases: number;
  samples: number;
  passed: number;
  /** Passed samples over samples. */
  successRate: number;
  /** Cases whose every sample passed. */
  casesPassed: number;
  steps: MetricSummary;
  tokens: MetricSummary;
  /** Null when some run's cost is unknown. */
  costUsd: MetricSummary | null;
  latencyMs: MetricSummary;
  /** Pass rate per check kind. */
  checks: Record<string, { passed: number; total: number }>;
}

export interface EvalReport {
  kind: 'baton.eval-report';
  v: 1;
  suite: string;
  variant: Variant & { label: string };
  startedAt: string;
  durationMs: number;
  threshold: number;
  /** successRate ≥ threshold. */
  ok: boolean;
  summary: EvalSummary;
  cases: CaseResult[];
}

export interface RunCaseOptions {
  samples?: number;
  /** Where recording paths are resolved (the suite file's directory). */
  baseDir?: string;
  /** Write a recording of every sample to this directory (named by run id). */
  recordDir?: string;
  /** Replay cases with a recording in this mode, whatever the case says (A/B uses `tools`). */
  replayMode?: ReplayMode;
  signal?: AbortSignal;
}

export interface RunSuiteOptions extends RunCaseOptions {
  /** Run this variant instead of the suite's target. */
  variant?: Variant;
  /** Override the suite's threshold. */
  threshold?: number;
  /** Only the cases with these ids. */
  only?: readonly string[];
  /** Called after each case (progress). */
  onCase?: (result: CaseResult, index: number, total: number) => void;
}

/** The checks a case runs: its own, plus `status = completed` unless it checks the status itself. */
export function checksOf(c: EvalCase): Check[] {
  return c.checks.some((check) => check.kind === 'status')
    ? c.checks
    : [{ kind: 'status', equals: 'completed' }, ...c.checks];
}

/** Runs one case `samples` times on a variant. */
export async function runCase(
  c: EvalCase,
  variant: Variant,
  options: RunCaseOptions = {},
): Promise<CaseResult> {
  const samples = options.samples ?? 1;
  if (!Number.isInteger(samples) || samples < 1) {
    throw new BatonError('INPUT_INVALID', `samples must be an integer ≥ 1, got ${samples}`);
  }
  let recording: Recording | undefined;
  if (c.replay) {
    const path = isAbsolute(c.replay.recording)
      ? c.replay.recording
      : resolve(options.baseDir ?? '.', c.replay.recording);
    recording = loadRecording(path);
  }
  const results: SampleResult[] = [];
  for (let sample = 1; sample <= samples; sample++) {
    results.push(await runSample(c, variant, sample, recording, options));
  }
  const passed = results.filter((result) => result.passed).length;
  return {
    id: c.id,
    ...(c.name ? { name: c.name } : {}),
    samples: results,
    passed,
    passRate: passed / samples,
  };
}

async function runSample(
  c: EvalCase,
  variant: Variant,
  sample: number,
  recording: Recording | undefined,
  options: RunCaseOptions,
): Promise<SampleResult> {
  const input = inputFor(variant, c);
  const mode: ReplayMode | undefined = recording
    ? (options.replayMode ?? c.replay?.mode ?? 'tools')
    : undefined;
  const replay = recording ? new ReplaySession(recording, mode) : undefined;
  const recorder = !replay && options.recordDir ? new RecordingSession() : undefined;
  const hooks = replay ?? recorder;
  let run: TargetRun;
  try {
    run = await runVariant(variant, input, {
      ...(hooks ? { hooks } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    const failure = BatonError.wrap(error, 'INTERNAL');
    if (
      failure.code === 'EVAL_SUITE_INVALID' ||
      failure.code === 'CONFIG_INVALID' ||
      failure.code === 'MODEL_NOT_CONFIGURED'
    ) {
      throw failure;
    }
    return {
      sample,
      passed: false,
      runId: '',
      status: 'error',
      checks: [],
      steps: 0,
      tokens: 0,
      costUsd: null,
      latencyMs: 0,
      error: { code: failure.code, message: failure.message },
    };
  }
  const checks: CheckResult[] = [];
  for (const check of checksOf(c)) {
    checks.push(
      await evaluateCheck(check, {
        run,
        input,
        variant,
        ...(options.signal ? { signal: options.signal } : {}),
      }),
    );
  }
  const diverged = replay?.divergence;
  let recordingPath: string | undefined;
  if (recorder && options.recordDir) {
    mkdirSync(options.recordDir, { recursive: true });
    recordingPath = join(options.recordDir, `${run.runId}.json`);
    saveRecording(
      recordingPath,
      recorder.recording({
        id: run.runId,
        input,
        ...(variant.team ? { team: variant.team } : {}),
        ...(variant.agent ? { agent: variant.agent } : {}),
        result: { status: run.status, output: run.output, steps: run.steps },
      }),
    );
  }
  return {
    sample,
    passed: !diverged && checks.every((check) => check.passed),
    runId: run.runId,
    status: run.status,
    checks,
    steps: run.steps,
    tokens: run.usage.inputTokens + run.usage.outputTokens,
    costUsd: run.costUsd,
    latencyMs: run.latencyMs,
    ...(diverged ? { error: { code: diverged.code, message: diverged.message } } : {}),
    ...(replay && mode ? { replay: { mode, hits: replay.hits, misses: replay.misses } } : {}),
    ...(recordingPath ? { recording: recordingPath } : {}),
  };
}

/** Runs every case of a suite and summarizes: the report `baton eval` writes. */
export async function runSuite(suite: Suite, options: RunSuiteOptions = {}): Promise<EvalReport> {
  const variant = options.variant ?? suite.target;
  const threshold = options.threshold ?? suite.threshold ?? 1;
  const started = Date.now();
  const cases = options.only ? suite.cases.filter((c) => options.only?.includes(c.id)) : suite.cases;
  if (cases.length === 0) {
    throw new BatonError(
      'EVAL_SUITE_INVALID',
      `No case of suite "${suite.name}" matches ${options.only?.join(', ')}`,
    );
  }
  const results: CaseResult[] = [];
  for (const [index, c] of cases.entries()) {
    const result = await runCase(c, variant, options);
    results.push(result);
    options.onCase?.(result, index, cases.length);
  }
  const summary = summarize(results);
  return {
    kind: 'baton.eval-report',
    v: 1,
    suite: suite.name,
    variant: { ...variant, label: variantLabel(variant) },
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    threshold,
    ok: summary.successRate >= threshold,
    summary,
    cases: results,
  };
}

export function summarize(cases: readonly CaseResult[]): EvalSummary {
  const samples = cases.flatMap((c) => c.samples);
  const passed = samples.filter((sample) => sample.passed).length;
  const checks: Record<string, { passed: number; total: number }> = {};
  for (const sample of samples) {
    for (const check of sample.checks) {
      const entry = checks[check.kind] ?? { passed: 0, total: 0 };
      checks[check.kind] = entry;
      entry.total++;
      if (check.passed) entry.passed++;
    }
  }
  const costs = samples.map((sample) => sample.costUsd);
  return {
    cases: cases.length,
    samples: samples.length,
    passed,
    successRate: samples.length === 0 ? 0 : passed / samples.length,
    casesPassed: cases.filter((c) => c.passed === c.samples.length).length,
    steps: metricSummary(samples.map((sample) => sample.steps)),
    tokens: metricSummary(samples.map((sample) => sample.tokens)),
    costUsd: costs.some((cost) => cost === null) ? null : metricSummary(costs as number[]),
    latencyMs: metricSummary(samples.map((sample) => sample.latencyMs)),
    checks,
  };
}

export function metricSummary(values: readonly number[]): MetricSummary {
  if (values.length === 0) return { mean: 0, p50: 0, p95: 0, total: 0 };
  const list = [...values];
  return {
    mean: mean(list),
    p50: quantile(list, 0.5),
    p95: quantile(list, 0.95),
    total: list.reduce((sum, value) => sum + value, 0),
  };
}
