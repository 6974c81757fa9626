/**
 * Memory benchmark (`memory.p6`, issue 13): what the context pipeline saves on long tasks, and whether the
 * task still succeeds. Each workload runs twice with the same agent, tools and deterministic model: once
 * sending the full history (`RunOptions.context: []`, Baton's behaviour before the pipeline) and once
 * with its pipeline. Input tokens are counted with the real tokenizer on every request actually sent —
 * messages, tool definitions and response schema, the summarizer's calls included — and summed per run.
 *
 * Called by bench/src/run.ts in its own child; the figures land under `memory.p6`.
 */
import { bundledCorpus, researcher } from '@baton/agents';
import {
  type Agent,
  type ContextStage,
  capToolResults,
  clearToolResults,
  defineAgent,
  describeContextStages,
  type RunResult,
  run,
  SCRATCHPAD_TOOL,
  scratchpad,
  slidingWindow,
  summarize,
} from '@baton/core';
import { type CacheFigures, measureCache } from './cache.js';
import { ACCOUNTS, fetchStatement, ledgerTurn, reconciled } from './ledger.js';
import { type Meter, meteredModel, newMeter } from './meter.js';
import { answered, extractiveSummary, plannedAnswers, RESEARCH_REQUEST, researchTurn } from './research.js';

export interface RunFigures {
  status: string;
  steps: number;
  modelCalls: number;
  inputTokens: number;
  /** Facts of the early steps the final answer still states correctly. */
  facts: number;
  success: boolean;
}

export interface WorkloadFigures {
  name: string;
  description: string;
  pipeline: { name: string; settings: unknown }[];
  facts: number;
  full: RunFigures;
  compacted: RunFigures;
  /** compacted input tokens ÷ full-history input tokens. */
  ratio: number;
}

export interface P6Figures {
  fullHistoryInputTokens: number;
  compactedInputTokens: number;
  ratio: number;
  successFull: boolean;
  successCompacted: boolean;
  goal: '<= 0.5 with the same success';
  met: boolean;
  workloads: WorkloadFigures[];
  /** A pipeline that only drops context (no notes, no summary): the success check is not vacuous. */
  control: WorkloadFigures;
  method: Record<string, string>;
  measuredAt: string;
}

interface Workload {
  name: string;
  description: string;
  pipeline: readonly ContextStage[];
  facts: number;
  /** A fresh agent whose model (and summarizer) bill the meter. */
  agent(meter: Meter): Agent<unknown, unknown>;
  input: unknown;
  correct(output: unknown): number;
}

const round3 = (value: number) => Math.round(value * 1_000) / 1_000;

async function measureRun(workload: Workload, full: boolean): Promise<RunFigures> {
  const meter = newMeter();
  const agent = workload.agent(meter);
  const result: RunResult = await run(agent, workload.input, full ? { context: [] } : {});
  const facts = result.status === 'completed' ? workload.correct(result.output) : 0;
  return {
    status: result.status,
    steps: result.steps,
    modelCalls: meter.calls,
    inputTokens: meter.inputTokens,
    facts,
    success: result.status === 'completed' && facts === workload.facts,
  };
}

async function measureWorkload(workload: Workload): Promise<WorkloadFigures> {
  const full = await measureRun(workload, true);
  const compacted = await measureRun(workload, false);
  return {
    name: workload.name,
    description: workload.description,
    pipeline: describeContextStages(workload.pipeline),
    facts: workload.facts,
    full,
    compacted,
    ratio: round3(compacted.inputTokens / full.inputTokens),
  };
}

const LIMITS = { maxSteps: 40, maxTokens: 10_000_000, timeoutMs: 600_000, noProgressSteps: 5 };

/**
 * A research workload. `stagesFor` builds the pipeline per run, so a summarizer in it bills that run's
 * meter: its calls are part of what compaction costs.
 */
function researchWorkload(
  name: string,
  notes: boolean,
  stagesFor: (meter: Meter) => readonly ContextStage[],
  description: string,
): Workload {
  const corpus = bundledCorpus();
  const planned = plannedAnswers(corpus);
  return {
    name,
    description,
    pipeline: stagesFor(newMeter()),
    facts: planned.length,
    input: RESEARCH_REQUEST,
    agent: (meter) =>
      researcher({
        corpus,
        model: meteredModel('bench-long-researcher', meter, (request) => researchTurn(request, notes)),
        limits: LIMITS,
      }).with({ context: stagesFor(meter) }) as Agent<unknown, unknown>,
    correct: (output) => answered(output, planned),
  };
}

const summarizerOf = (meter: Meter) =>
  meteredModel('bench-extractive-summarizer', meter, (request) => ({
    text: extractiveSummary(request),
    toolCalls: [],
  }));

export async function measureMemory(): Promise<{ p6: P6Figures; cache: CacheFigures }> {
  const workloads: Workload[] = [
    researchWorkload(
      'research-notes',
      true,
      () => [
        capToolResults({ maxTokens: 1_000 }),
        clearToolResults({ keep: 2, exclude: [SCRATCHPAD_TOOL] }),
        slidingWindow({ maxTurns: 4 }),
        scratchpad(),
      ],
      'researcher of @baton/agents, 10 questions over the bundled corpus (22 steps), noting each fact in its scratchpad',
    ),
    researchWorkload(
      'research-summary',
      false,
      (meter) => [summarize({ triggerTokens: 2_500, keepTurns: 1, model: summarizerOf(meter) })],
      'researcher of @baton/agents, the same 10 questions (21 steps), no notes: an extractive summarizer keeps the facts',
    ),
    ledgerWorkload(),
  ];
  const measured: WorkloadFigures[] = [];
  for (const workload of workloads) measured.push(await measureWorkload(workload));
  const control = await measureWorkload(
    researchWorkload(
      'control-window-only',
      false,
      () => [clearToolResults({ keep: 2 }), slidingWindow({ maxTurns: 4 })],
      'the research-summary task with a pipeline that only drops context: facts from early steps are lost',
    ),
  );

  const fullTokens = measured.reduce((sum, workload) => sum + workload.full.inputTokens, 0);
  const compactedTokens = measured.reduce((sum, workload) => sum + workload.compacted.inputTokens, 0);
  const ratio = round3(compactedTokens / fullTokens);
  const successFull = measured.every((workload) => workload.full.success);
  const successCompacted = measured.every((workload) => workload.compacted.success);
  return {
    p6: {
      fullHistoryInputTokens: fullTokens,
      compactedInputTokens: compactedTokens,
      ratio,
      successFull,
      successCompacted,
      goal: '<= 0.5 with the same success',
      met: ratio <= 0.5 && successFull && successCompacted,
      workloads: measured,
      control,
      method: {
        runs:
          'Each workload runs twice with the same agent, tools and model: full history (RunOptions.context: []) ' +
          'and with its context pipeline. Totals sum the workloads; the control is reported apart.',
        tokens:
          'Input tokens of every request actually sent (messages with tool calls, tool definitions, response ' +
          'schema), counted with the real tokenizer (o200k_base, @baton/core countTokens) and summed over all ' +
          'model calls of the run, the summarizer’s included.',
        models:
          'Deterministic rule-based models (not LLMs) that read only what they are sent: what the final ' +
          'answer knows is what survived in the context. Token counts are exact; the models are stand-ins.',
        success:
          'The run completes and its final answer states every fact found in the early steps: research — each ' +
          'question’s best sentence of the document its search led to, cited to that document; ledger — every ' +
          `account’s closing balance (${ACCOUNTS} accounts).`,
      },
      measuredAt: new Date().toISOString(),
    },
    // Tool-result and model-response caches on a repeated-question workload (cache.ts).
    cache: await measureCache(),
  };
}

function ledgerWorkload(): Workload {
  const pipeline = [
    clearToolResults({ keep: 1, exclude: [SCRATCHPAD_TOOL] }),
    slidingWindow({ maxTurns: 3 }),
    scratchpad(),
  ];
  return {
    name: 'ledger',
    description: `scripted long task: ${ACCOUNTS} statements of ~600 tokens, one per step, then a report of every balance`,
    pipeline,
    facts: ACCOUNTS,
    input: 'Reconcile accounts A-0 to A-11: fetch each statement and report every closing balance.',
    agent: (meter) =>
      defineAgent({
        name: 'reconciler',
        description: 'Reconciles account statements',
        instructions:
          'Fetch the statement of every account, one at a time. Note each closing balance in your scratchpad as ' +
          'you go, then report every closing balance.',
        model: meteredModel('bench-ledger', meter, ledgerTurn),
        tools: [fetchStatement],
        limits: LIMITS,
        context: pipeline,
      }) as Agent<unknown, unknown>,
    correct: reconciled,
  };
}
