/**
 * r8: randomized single-agent runs in this process, with the scripted model, each checked against the
 * control layer's promises (issue 10): a run always resolves, never takes more steps than its limit,
 * spends at most its token limit plus one step (a shared ledger: its limit plus one step per run drawing
 * from it at once), and its status says what really happened — in particular a run stopped by its timer
 * or its caller while tools ran ends `timeout`/`aborted`, not `no_progress` or `repeated_action`.
 *
 * Every job (one run, or a few sharing a ledger) is drawn from its own seed, so a violation is
 * reproduced with `runJob(seed)` alone (timing may still differ: the seed fixes the plan, not the clock).
 */
import {
  BatonError,
  Budget,
  defineAgent,
  defineTool,
  type Limits,
  type RunResult,
  type RunStatus,
  run,
  seededRandom,
  ToolError,
  totalTokens,
} from '@baton/core';
import { type ScriptedReply, type ScriptedToolCall, scriptedModel } from '@baton/core/testing';
import { z } from 'zod';
import { type ChaosScenario, scaled } from './scenario.js';

export const prng = seededRandom;

type Random = () => number;
const int = (random: Random, min: number, max: number) => min + Math.floor(random() * (max - min + 1));
const chance = (random: Random, p: number) => random() < p;

const TOOL_NAMES = ['lookup', 'same', 'flaky', 'broken', 'slow', 'hang'] as const;
type ToolName = (typeof TOOL_NAMES)[number];

/** Codes a run is stopped with from outside (its own timer, its caller); a tool failing with one was cut short. */
const RUN_STOP_CODES = new Set(['TIMEOUT', 'DEADLINE_EXCEEDED', 'ABORTED']);

/** The error codes each limit status must carry, and only it. */
const STATUS_CODES: ReadonlyArray<[RunStatus, readonly string[]]> = [
  ['timeout', ['TIMEOUT', 'DEADLINE_EXCEEDED']],
  ['aborted', ['ABORTED']],
  ['budget_exceeded', ['BUDGET_TOKENS', 'BUDGET_COST', 'BUDGET_STEPS']],
  ['max_steps', ['MAX_STEPS']],
  ['repeated_action', ['REPEATED_ACTION']],
  ['no_progress', ['NO_PROGRESS']],
];

/** A run that has not resolved after this long is reported as hung (the slowest plan takes well under 1 s). */
const HUNG_AFTER_MS = 45_000;

interface RunPlan {
  limits: Partial<Limits> & Pick<Limits, 'maxSteps' | 'noProgressSteps' | 'maxRepeats'>;
  /** Chance per step that the model answers instead of calling tools. */
  finalChance: number;
  /** Chance per step that the model call fails (a provider error: the run ends `failed`). */
  modelErrorChance: number;
  /** Relative weights of the tools the model picks. */
  weights: Record<ToolName, number>;
  /** Chance that a tool call repeats arguments already used. */
  repeatChance: number;
  maxInputTokens: number;
  maxOutputTokens: number;
  /** The caller aborts after this many ms; never when undefined. */
  abortAfterMs: number | undefined;
  /** Abort with a BatonError reason, or with none (the loop must still say ABORTED). */
  abortWithReason: boolean;
  /** Per-attempt timeout of the hanging tool; undefined keeps the 30 s default (only when something else bounds the run). */
  hangTimeoutMs: number | undefined;
  /** Attempts of the flaky tool (its failures are retryable). */
  flakyAttempts: number;
}

function planRun(random: Random): RunPlan {
  const limits: RunPlan['limits'] = {
    maxSteps: int(random, 1, 8),
    noProgressSteps: int(random, 1, 4),
    maxRepeats: int(random, 1, 2),
  };
  if (chance(random, 0.35)) limits.maxTokens = int(random, 20, 800);
  if (chance(random, 0.35)) limits.timeoutMs = int(random, 5, 60);
  const abortAfterMs = chance(random, 0.3) ? int(random, 0, 30) : undefined;
  const bounded = limits.timeoutMs !== undefined || abortAfterMs !== undefined;
  const weights = {} as Record<ToolName, number>;
  for (const name of TOOL_NAMES) weights[name] = chance(random, 0.75) ? random() : 0;
  weights.lookup += 0.05;
  return {
    limits,
    finalChance: random() * 0.4,
    modelErrorChance: chance(random, 0.2) ? random() * 0.15 : 0,
    weights,
    repeatChance: random() * 0.6,
    maxInputTokens: int(random, 1, 200),
    maxOutputTokens: int(random, 1, 100),
    abortAfterMs,
    abortWithReason: chance(random, 0.5),
    hangTimeoutMs: bounded && chance(random, 0.5) ? undefined : int(random, 2, 20),
    flakyAttempts: int(random, 1, 2),
  };
}

function pickTool(random: Random, weights: Record<ToolName, number>): ToolName {
  let total = 0;
  for (const name of TOOL_NAMES) total += weights[name];
  let point = random() * total;
  for (const name of TOOL_NAMES) {
    point -= weights[name];
    if (point <= 0 && weights[name] > 0) return name;
  }
  return 'lookup';
}

const argsSchema = z.object({ n: z.number() });

function sleepIgnoringSignal(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The tools of one run: their behaviour follows from their arguments, so a plan replays the same way. */
function toolsFor(plan: RunPlan) {
  return [
    defineTool({
      name: 'lookup',
      description: 'finds something new for every n',
      input: argsSchema,
      execute: ({ n }) => ({ n, fact: (n * 7_919) % 104_729 }),
    }),
    defineTool({
      name: 'same',
      description: 'always says the same',
      input: argsSchema,
      execute: () => ({ unchanged: true }),
    }),
    defineTool({
      name: 'flaky',
      description: 'fails in a way worth retrying',
      input: argsSchema,
      retry: { attempts: plan.flakyAttempts, initialDelayMs: 1, maxDelayMs: 2 },
      execute: ({ n }) => {
        throw new ToolError('FLAKY', `upstream hiccup on ${n}`, { retryable: true });
      },
    }),
    defineTool({
      name: 'broken',
      description: 'fails for good',
      input: argsSchema,
      execute: ({ n }) => {
        throw new ToolError('BROKEN', `${n} cannot be done`, { retryable: false });
      },
    }),
    defineTool({
      name: 'slow',
      description: 'takes a while and does not listen to its signal',
      input: argsSchema,
      execute: async ({ n }) => {
        await sleepIgnoringSignal(Math.abs(Math.trunc(n)) % 11);
        return { n, slow: true };
      },
    }),
    defineTool({
      name: 'hang',
      description: 'waits until it is stopped',
      input: argsSchema,
      ...(plan.hangTimeoutMs === undefined ? {} : { timeoutMs: plan.hangTimeoutMs }),
      execute: (_args, { signal }) =>
        new Promise((_resolve, reject) => {
          signal.addEventListener('abort', () => reject(signal.reason), { once: true });
        }),
    }),
  ];
}

/** What the suite saw of one run besides its result. */
interface Observed {
  /** Largest usage (input + output) the model reported in one step. */
  maxStepTokens: number;
  /** Code of the reason the run's own signal aborted with (its timer, or its caller's abort), if it did. */
  stoppedBy: string | undefined;
  /** The caller's signal was aborted before the run resolved. */
  callerAborted: boolean;
}

interface RunVerdict {
  status: RunStatus | 'threw' | 'hung';
  threw: boolean;
  hung: boolean;
  stepViolation: boolean;
  budgetViolation: boolean;
  wrong: string[];
  /** The run's own signal aborted (timer or caller) before it ended. */
  stopped: boolean;
  /** A tool of the run failed because the run was being stopped: the case the status must survive. */
  cutShort: boolean;
  detail?: string;
}

/** Runs one planned run; never rejects (a rejection of `run()` is what it reports). */
async function runPlanned(
  plan: RunPlan,
  random: Random,
  shared: Budget | undefined,
  observed: Observed,
): Promise<{ result?: RunResult; threw?: unknown; hung?: true }> {
  let fresh = 0;
  const used: number[] = [];
  let watching = false;
  const script = (request: { signal?: AbortSignal }): ScriptedReply => {
    const signal = request.signal;
    if (!watching && signal) {
      // The loop's own signal: it aborts when the run's timer fires or its caller aborts.
      watching = true;
      signal.addEventListener(
        'abort',
        () => {
          const reason: unknown = signal.reason;
          observed.stoppedBy = reason instanceof BatonError ? reason.code : 'ABORTED';
        },
        { once: true },
      );
    }
    const usage = {
      inputTokens: int(random, 1, plan.maxInputTokens),
      outputTokens: int(random, 0, plan.maxOutputTokens),
    };
    observed.maxStepTokens = Math.max(observed.maxStepTokens, usage.inputTokens + usage.outputTokens);
    const delayMs = int(random, 0, 5);
    if (chance(random, plan.modelErrorChance)) {
      return { error: new BatonError('PROVIDER_SERVER', 'the provider had a bad moment'), delayMs };
    }
    if (chance(random, plan.finalChance)) return { text: `answer after ${fresh} lookups`, usage, delayMs };
    const toolCalls: ScriptedToolCall[] = [];
    for (let index = int(random, 1, 3); index > 0; index--) {
      const name = pickTool(random, plan.weights);
      const repeat = used.length > 0 && chance(random, plan.repeatChance);
      const n = repeat ? (used[int(random, 0, used.length - 1)] as number) : fresh++;
      if (!repeat) used.push(n);
      toolCalls.push({ name, args: { n } });
    }
    return { toolCalls, usage, delayMs };
  };
  const agent = defineAgent({
    name: 'r8',
    description: 'a randomized agent',
    instructions: 'Work it out.',
    model: scriptedModel(script, { recordRequests: false }),
    tools: toolsFor(plan),
    limits: plan.limits,
  });
  const controller = plan.abortAfterMs === undefined ? undefined : new AbortController();
  const options: Parameters<typeof run>[2] = {};
  if (controller) options.signal = controller.signal;
  if (shared) options.budget = shared;
  let abortTimer: NodeJS.Timeout | undefined;
  if (controller) {
    abortTimer = setTimeout(() => {
      observed.callerAborted = true;
      if (plan.abortWithReason) controller.abort(new BatonError('ABORTED', 'the caller gave up'));
      else controller.abort();
    }, plan.abortAfterMs);
  }
  let hungTimer: NodeJS.Timeout | undefined;
  const hung = new Promise<{ hung: true }>((resolve) => {
    hungTimer = setTimeout(() => resolve({ hung: true }), HUNG_AFTER_MS);
  });
  try {
    const running = Promise.resolve()
      .then(() => run(agent, 'go', options))
      .then(
        (result) => ({ result }),
        (threw: unknown) => ({ threw }),
      );
    return await Promise.race([running, hung]);
  } finally {
    clearTimeout(abortTimer);
    clearTimeout(hungTimer);
  }
}

function judge(
  plan: RunPlan,
  outcome: Awaited<ReturnType<typeof runPlanned>>,
  observed: Observed,
): RunVerdict {
  const verdict: RunVerdict = {
    status: 'threw',
    threw: false,
    hung: false,
    stepViolation: false,
    budgetViolation: false,
    wrong: [],
    stopped: observed.stoppedBy !== undefined,
    cutShort: false,
  };
  if (outcome.hung) {
    verdict.status = 'hung';
    verdict.hung = true;
    return verdict;
  }
  const result = outcome.result;
  if (!result) {
    verdict.threw = true;
    verdict.detail = String(outcome.threw instanceof Error ? outcome.threw.stack : outcome.threw);
    return verdict;
  }
  const { status, error } = result;
  verdict.status = status;
  const wrong = verdict.wrong;
  if (result.steps > plan.limits.maxSteps) verdict.stepViolation = true;
  const maxTokens = plan.limits.maxTokens;
  if (maxTokens !== undefined && totalTokens(result.usage) > maxTokens + observed.maxStepTokens) {
    verdict.budgetViolation = true;
  }
  const code = error?.code;
  if (status === 'completed') {
    if (result.output === undefined) wrong.push('completed without output');
    if (error) wrong.push(`completed with error ${code}`);
  } else if (!error) wrong.push(`${status} without an error`);
  for (const [limitStatus, codes] of STATUS_CODES) {
    const codeSays = code !== undefined && codes.includes(code);
    if ((status === limitStatus) !== codeSays) wrong.push(`${status} with error code ${code}`);
  }
  if (status !== 'completed' && observed.stoppedBy !== undefined) {
    const expected =
      observed.stoppedBy === 'TIMEOUT' || observed.stoppedBy === 'DEADLINE_EXCEEDED' ? 'timeout' : 'aborted';
    if (status !== expected) wrong.push(`stopped by ${observed.stoppedBy} but ended ${status}`);
  }
  const cut = result.partial.toolResults.find(
    (record) => !record.ok && RUN_STOP_CODES.has(record.error?.code ?? ''),
  );
  verdict.cutShort = cut !== undefined;
  if (cut && status !== 'timeout' && status !== 'aborted') {
    wrong.push(`a tool was cut short by ${cut.error?.code} but the run ended ${status}`);
  }
  if (status === 'max_steps' && result.steps < plan.limits.maxSteps) {
    wrong.push(`max_steps after ${result.steps} of ${plan.limits.maxSteps} steps`);
  }
  if (wrong.length > 0 || verdict.stepViolation || verdict.budgetViolation) {
    verdict.detail = `status ${status} (${code ?? 'no error'}: ${error?.message ?? ''}), steps ${result.steps}/${plan.limits.maxSteps}, tokens ${totalTokens(result.usage)}/${maxTokens ?? '∞'} (largest step ${observed.maxStepTokens}), stoppedBy ${observed.stoppedBy ?? '-'}, caller aborted ${observed.callerAborted}, tools ${result.partial.toolResults.map((r) => `${r.tool}:${r.ok ? 'ok' : r.error?.code}`).join(',')}`;
  }
  return verdict;
}

export interface JobReport {
  seed: number;
  runs: RunVerdict[];
  plans: RunPlan[];
  /** A shared ledger's limit and what was drawn from it, when the job's runs shared one. */
  shared?: { limitTokens: number; usedTokens: number; bound: number };
  sharedViolation: boolean;
}

interface JobPlan {
  seed: number;
  plans: RunPlan[];
  randoms: Random[];
  sharedLimit: number | undefined;
}

/** A single run, or 2–4 runs sharing one ledger at once; everything random about it comes from `seed`. */
function planJob(seed: number, maxRuns: number): JobPlan {
  const random = prng(seed);
  const size = chance(random, 0.12) ? Math.min(maxRuns, int(random, 2, 4)) : 1;
  const sharedLimit = size > 1 || chance(random, 0.1) ? int(random, 50, 1_500) : undefined;
  const plans: RunPlan[] = [];
  const randoms: Random[] = [];
  for (let index = 0; index < size; index++) {
    plans.push(planRun(random));
    // Each run draws its steps from its own stream, so concurrent runs do not shuffle each other's draws.
    randoms.push(prng(Math.floor(random() * 2 ** 32)));
  }
  return { seed, plans, randoms, sharedLimit };
}

/** Runs a job again alone, e.g. `runJob(524_437)` for a seed listed among a report's examples. */
export function runJob(seed: number, maxRuns = 4): Promise<JobReport> {
  return executeJob(planJob(seed, maxRuns));
}

async function executeJob(job: JobPlan): Promise<JobReport> {
  const { plans, randoms, sharedLimit } = job;
  const shared = sharedLimit === undefined ? undefined : new Budget({ maxTokens: sharedLimit });
  const observed: Observed[] = plans.map(() => ({
    maxStepTokens: 0,
    stoppedBy: undefined,
    callerAborted: false,
  }));
  const outcomes = await Promise.all(
    plans.map((plan, index) =>
      runPlanned(plan, randoms[index] as Random, shared, observed[index] as Observed),
    ),
  );
  const runs = outcomes.map((outcome, index) =>
    judge(plans[index] as RunPlan, outcome, observed[index] as Observed),
  );
  const report: JobReport = { seed: job.seed, runs, plans, sharedViolation: false };
  if (shared && sharedLimit !== undefined) {
    const largest = Math.max(0, ...observed.map((entry) => entry.maxStepTokens));
    const bound = sharedLimit + largest * plans.length;
    report.shared = { limitTokens: sharedLimit, usedTokens: shared.used.tokens, bound };
    report.sharedViolation = shared.used.tokens > bound;
  }
  return report;
}

const BASE_SEED = 0x8_0000;
const CONCURRENCY = 50;
const EXAMPLES = 10;

export const r8: ChaosScenario = {
  key: 'r8',
  description:
    '10,000 randomized single-agent runs (scripted model): steps, tokens and statuses keep their promises',
  async run(options) {
    const target = scaled(options, 10_000, 200);
    const counts = { runs: 0, stepViolations: 0, budgetViolations: 0, wrongStatus: 0, threw: 0, hung: 0 };
    const statuses: Record<string, number> = {};
    const mix = {
      sharedLedgers: 0,
      runsOnSharedLedgers: 0,
      callerAborts: 0,
      ownTimeouts: 0,
      ownTokenLimits: 0,
      stoppedBeforeEnd: 0,
      toolsCutShort: 0,
    };
    const examples: Array<{ seed: number; run: number; problem: string }> = [];
    let nextJob = 0;
    let planned = 0;
    const started = performance.now();
    const note = (seed: number, index: number, problem: string) => {
      if (examples.length < EXAMPLES) examples.push({ seed, run: index, problem });
    };
    const worker = async () => {
      while (planned < target) {
        const seed = BASE_SEED + nextJob++;
        const job = planJob(seed, Math.min(4, target - planned));
        planned += job.plans.length;
        const report = await executeJob(job);
        if (report.shared) {
          mix.sharedLedgers++;
          mix.runsOnSharedLedgers += report.runs.length;
          if (report.sharedViolation) {
            counts.budgetViolations++;
            note(
              seed,
              -1,
              `shared ledger: ${report.shared.usedTokens} tokens drawn, bound ${report.shared.bound}`,
            );
          }
        }
        for (const [index, verdict] of report.runs.entries()) {
          const plan = report.plans[index] as RunPlan;
          counts.runs++;
          statuses[verdict.status] = (statuses[verdict.status] ?? 0) + 1;
          if (plan.abortAfterMs !== undefined) mix.callerAborts++;
          if (plan.limits.timeoutMs !== undefined) mix.ownTimeouts++;
          if (plan.limits.maxTokens !== undefined) mix.ownTokenLimits++;
          if (verdict.stopped) mix.stoppedBeforeEnd++;
          if (verdict.cutShort) mix.toolsCutShort++;
          if (verdict.threw) counts.threw++;
          if (verdict.hung) counts.hung++;
          if (verdict.stepViolation) counts.stepViolations++;
          if (verdict.budgetViolation) counts.budgetViolations++;
          if (verdict.wrong.length > 0) counts.wrongStatus++;
          const problems = [
            ...verdict.wrong,
            ...(verdict.stepViolation ? ['more steps than maxSteps'] : []),
            ...(verdict.budgetViolation ? ['own tokens over maxTokens + one step'] : []),
            ...(verdict.threw ? ['run() threw'] : []),
            ...(verdict.hung ? [`unresolved after ${HUNG_AFTER_MS} ms`] : []),
          ];
          if (problems.length > 0) note(seed, index, `${problems.join('; ')} — ${verdict.detail ?? ''}`);
        }
        if (counts.runs % 2_000 < report.runs.length) {
          options.log(`${counts.runs} runs in ${((performance.now() - started) / 1000).toFixed(1)} s`);
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    options.log(`statuses: ${JSON.stringify(statuses)}`);
    for (const example of examples)
      options.log(`  seed ${example.seed} run ${example.run}: ${example.problem}`);
    return {
      ...counts,
      statuses,
      mix,
      concurrency: CONCURRENCY,
      seeds: `${BASE_SEED}..${BASE_SEED + nextJob - 1}`,
      examples,
    };
  },
  check(f) {
    const problems: string[] = [];
    for (const key of ['stepViolations', 'budgetViolations', 'wrongStatus', 'threw', 'hung'] as const) {
      if (f[key] !== 0) problems.push(`${key}: ${f[key]} (must be 0)`);
    }
    const statuses = (f.statuses ?? {}) as Record<string, number>;
    const expected: RunStatus[] = [
      'completed',
      'max_steps',
      'timeout',
      'budget_exceeded',
      'repeated_action',
      'no_progress',
      'aborted',
      'failed',
    ];
    const missing = expected.filter((status) => !statuses[status]);
    if (missing.length > 0) problems.push(`the mix never produced ${missing.join(', ')}`);
    return problems;
  },
};
