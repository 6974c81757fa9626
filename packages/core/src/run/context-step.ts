import type { Attributes } from '@opentelemetry/api';
import type { Agent } from '../agent.js';
import type { Budget } from '../budget.js';
import { pipelineOf } from '../context/config.js';
import { applyPipeline, emptySummary, type PipelineResult } from '../context/pipeline.js';
import type { ContextReport, ContextStage, ContextSummary, SummaryRequest } from '../context/types.js';
import { preambleOf } from '../context/view.js';
import type { JournalSession } from '../journal/session.js';
import type { JournalRecordOf } from '../journal/types.js';
import { costOf } from '../model/pricing.js';
import type { Usage } from '../model/types.js';
import { addUsage } from '../model/usage.js';
import { BatonAttr } from '../tracing/attributes.js';
import { withLazySignal } from '../util/run-signal.js';
import { callModel, type ModelStepContext } from './model-step.js';
import type { LoopState } from './state.js';
import type { RunOptions } from './types.js';

export interface ContextStepContext {
  state: LoopState;
  lease: Budget | undefined;
  journal: JournalSession | undefined;
  /** The run's model step (its model is the default summarizer; its span parent, signal and step are reused). */
  model: ModelStepContext;
  elapsedMs: () => number;
}

/** The pipeline of a run, checked before the run starts (a bad `RunOptions.context` throws CONFIG_INVALID). */
export function contextPipelineOf(agent: Agent, options: RunOptions): readonly ContextStage[] | undefined {
  return pipelineOf(agent.name, agent.config.context, options.context, agent.tools);
}

/**
 * Runs the pipeline for the coming model call (a replayed step too, so the summary state evolves as it
 * did), emits `memory.compacted` for each stage that changed the context, and returns the messages to
 * send with the attributes their `chat` span carries.
 */
export async function prepareContext(
  stages: readonly ContextStage[],
  ctx: ContextStepContext,
): Promise<PipelineResult & { attributes: Attributes }> {
  const { state, model } = ctx;
  state.context ??= { preamble: preambleOf(state.messages) };
  const result = await applyPipeline(stages, state.messages, state.context, model.step, (request) =>
    summarizeFor(request, ctx),
  );
  const { report } = result;
  const events = model.events;
  if (events?.listens('memory.compacted')) {
    for (const stage of report.stages) {
      if (!stage.changed) continue;
      events.emit({
        type: 'memory.compacted',
        runId: model.runId,
        agent: model.agent,
        at: Date.now(),
        step: report.step,
        strategy: stage.stage,
        beforeTokens: stage.beforeTokens,
        afterTokens: stage.afterTokens,
      });
    }
  }
  return { ...result, attributes: attributesOf(report) };
}

function attributesOf(report: ContextReport): Attributes {
  return {
    [BatonAttr.CONTEXT_TOKENS_BEFORE]: report.tokensBefore,
    [BatonAttr.CONTEXT_TOKENS_AFTER]: report.tokensAfter,
    [BatonAttr.CONTEXT_STAGES]: report.stages.filter((stage) => stage.changed).map((stage) => stage.stage),
  };
}

/**
 * A summary for this step: the journal's when the step was recorded (a resumed run gets the very text the
 * original sent), else a new one from the summarizer — in a `chat` span of its own, recorded before the
 * model call it serves. Either way its usage and cost count on the run and its lease, like a step's.
 */
async function summarizeFor(request: SummaryRequest, ctx: ContextStepContext): Promise<ContextSummary> {
  const { model: step } = ctx;
  const recorded = ctx.journal?.summary(step.step);
  if (recorded) {
    charge(ctx, recorded.model, recorded.usage, recorded.costUsd);
    return { text: recorded.text, through: recorded.through, step: recorded.step };
  }
  const summarizer = request.model ?? step.model;
  const response = await callModel(
    withLazySignal(
      { messages: request.messages, role: 'extraction' as const, maxOutputTokens: request.maxTokens },
      step.signal,
    ),
    // No deltas: the summary is not the agent's answer, and a UI streaming the run must not show it.
    { ...step, model: summarizer, events: undefined },
    { [BatonAttr.CONTEXT_SUMMARY]: true },
  );
  const text = response.text.trim();
  if (text === '') throw emptySummary(summarizer);
  const cost = response.costUsd ?? costOf(response.model, response.usage);
  const record: JournalRecordOf<'context.summary'> = {
    type: 'context.summary',
    at: Date.now(),
    elapsedMs: ctx.elapsedMs(),
    step: step.step,
    through: request.through,
    text,
    model: response.model,
  };
  if (response.usage) record.usage = response.usage;
  if (cost !== undefined) record.costUsd = cost;
  ctx.journal?.append(record);
  charge(ctx, response.model, response.usage, cost);
  return { text, through: request.through, step: step.step };
}

function charge(ctx: ContextStepContext, model: string, usage: Usage | undefined, cost: number | undefined) {
  const { state, lease } = ctx;
  addUsage(state.usage, usage);
  if (cost !== undefined) state.costUsd += cost;
  else {
    // Unknown, not free: said in the result like an unpriced step.
    state.unpricedSteps = (state.unpricedSteps ?? 0) + 1;
    state.unpricedModels ??= [];
    if (!state.unpricedModels.includes(model)) state.unpricedModels.push(model);
  }
  if (!lease) return;
  const spent: Parameters<Budget['charge']>[0] = {};
  if (usage) spent.usage = usage;
  if (cost === undefined) spent.unpricedSteps = 1;
  else spent.costUsd = cost;
  lease.charge(spent);
}
