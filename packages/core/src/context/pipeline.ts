import { BatonError } from '../errors.js';
import type { Message, Model } from '../model/types.js';
import type {
  ContextReport,
  ContextStage,
  ContextState,
  ContextSummary,
  ContextView,
  StageContext,
  StageReport,
  SummaryRequest,
} from './types.js';
import {
  checkStageOutput,
  messagesOf,
  messagesTokens,
  messageTokens,
  preambleOf,
  viewOf,
  viewTokens,
} from './view.js';

export interface PipelineResult {
  /** What is sent to the model. */
  messages: Message[];
  report: ContextReport;
}

/**
 * Runs the stages, in order, over a transcript: the result is what one model call is sent. The
 * transcript is never changed; `state` is, when a stage writes a summary. Every stage's output is checked
 * (see checkStageOutput), so a custom stage cannot break the pairing of calls and results.
 */
export async function applyPipeline(
  stages: readonly ContextStage[],
  transcript: readonly Message[],
  state: ContextState,
  step: number,
  summarize: (request: SummaryRequest) => Promise<ContextSummary>,
): Promise<PipelineResult> {
  const original = viewOf(transcript, state.preamble);
  const tokensBefore = await messagesTokens(transcript);
  const context: StageContext = {
    step,
    original,
    get summary() {
      return state.summary;
    },
    tokens: messageTokens,
    count: viewTokens,
    summarize: async (request) => {
      const summary = await summarize(request);
      state.summary = summary;
      return summary;
    },
  };
  let view: ContextView = original;
  let tokens = tokensBefore;
  const reports: StageReport[] = [];
  for (const [position, stage] of stages.entries()) {
    const next = await stage.apply(view, context);
    checkStageOutput(view, next, `context[${position}] (${stage.name})`);
    const after = next === view ? tokens : await viewTokens(next);
    const changed =
      next !== view &&
      (after !== tokens ||
        next.turns.length !== view.turns.length ||
        next.notes.length !== view.notes.length);
    reports.push({ stage: stage.name, beforeTokens: tokens, afterTokens: after, changed });
    view = next;
    tokens = after;
  }
  const messages = messagesOf(view);
  return {
    messages,
    report: {
      step,
      tokensBefore,
      tokensAfter: tokens,
      messagesBefore: transcript.length,
      messagesAfter: messages.length,
      stages: reports,
    },
  };
}

export interface CompactOptions {
  /** Messages before the first turn that are never compacted; default: every message before the first assistant message. */
  preamble?: number;
  /** The summarizer of `summarize` stages that name none (outside a run there is no agent model to default to). */
  summarizer?: Model;
  /** A summary from an earlier call, to continue from. */
  summary?: ContextSummary;
  /** The step the context is for; default the number of turns + 1. */
  step?: number;
  signal?: AbortSignal;
}

export interface CompactResult extends PipelineResult {
  /** The summary after this call (a new one when a summarize stage wrote one). */
  summary: ContextSummary | undefined;
}

/**
 * The pipeline outside a run: what `messages` would be sent as with these stages — to try a pipeline on
 * a recorded conversation, or to compact a history before handing it to `run({ history })`. Summaries
 * are asked of `options.summarizer` (or the stage's own model); their usage is not counted anywhere.
 */
export async function compactMessages(
  messages: readonly Message[],
  stages: readonly ContextStage[],
  options: CompactOptions = {},
): Promise<CompactResult> {
  const state: ContextState = { preamble: options.preamble ?? preambleOf(messages) };
  if (options.summary) state.summary = options.summary;
  const step = options.step ?? viewOf(messages, state.preamble).turns.length + 1;
  const result = await applyPipeline(stages, messages, state, step, async (request) => {
    const model = request.model ?? options.summarizer;
    if (!model) {
      throw new BatonError(
        'CONFIG_INVALID',
        'compactMessages: a summarize stage needs a model outside a run',
        {
          details: { field: 'summarizer' },
          hint: 'Pass options.summarizer, or give the stage its own model: summarize({ model, ... })',
        },
      );
    }
    const generate: Parameters<Model['generate']>[0] = {
      messages: request.messages,
      role: 'extraction',
      maxOutputTokens: request.maxTokens,
    };
    if (options.signal) generate.signal = options.signal;
    const response = await model.generate(generate);
    const text = response.text.trim();
    if (text === '') throw emptySummary(model);
    return { text, through: request.through, step };
  });
  return { ...result, summary: state.summary };
}

export function emptySummary(model: Model): BatonError {
  return new BatonError(
    'PROVIDER_RESPONSE_INVALID',
    `The summarizer (${model.id}) returned an empty summary`,
    {
      hint: 'Turns are never dropped without their summary: give summarize() a model that answers',
    },
  );
}
