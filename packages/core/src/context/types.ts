import type { Message, Model } from '../model/types.js';
import type { AnyTool } from '../tools/define.js';

/**
 * The context pipeline's model of a conversation. A stage never sees loose messages: it sees the
 * preamble (pinned), the notes the pipeline adds after the task, and the run's turns. A turn is one model
 * step — an assistant message and everything after it up to the next one (its tool results, a corrective
 * user message) — so a stage that drops or keeps turns can never split a tool call from its result.
 */
export interface ContextView {
  /** The system prompt, the caller's history and the task: sent as they are, never dropped. */
  readonly preamble: readonly Message[];
  /** What stages add right after the task (the summary, the scratchpad, a note on omitted turns). */
  readonly notes: readonly ContextNote[];
  /** The run's turns still in the context, oldest first. */
  readonly turns: readonly Turn[];
}

export interface Turn {
  /** 1-based: turn n is the answer of model step n and what followed it. */
  readonly index: number;
  /** An assistant message first, then its tool results (in call order) and any user message after them. */
  readonly messages: readonly Message[];
}

/** A block of text the pipeline adds after the task; all notes of a call are sent as one user message. */
export interface ContextNote {
  /** `summary`, `scratchpad`, `omitted`, or a custom stage's own kind. */
  readonly kind: string;
  readonly text: string;
}

/** The running summary of a run's earliest turns (what a `summarize` stage keeps between steps). */
export interface ContextSummary {
  /** The summarizer's text, as it returned it. */
  readonly text: string;
  /** The last turn it covers: turns 1…through are replaced by it. */
  readonly through: number;
  /** The step before whose model call it was written. */
  readonly step: number;
}

/**
 * What the pipeline keeps between model calls of one run. It travels in a paused RunState (`context`),
 * and each new summary is journaled (`context.summary`), so a resumed or replayed run rebuilds the same
 * context without asking the summarizer again.
 */
export interface ContextState {
  /** How many messages of the transcript are the preamble (system prompt, history, task). */
  preamble: number;
  summary?: ContextSummary;
}

/** What a stage asks the run for when it wants turns summarized. */
export interface SummaryRequest {
  /** The summarizer; undefined: the agent's model, asked with `role: 'extraction'` (a `route` sends it to its cheap model). */
  model: Model | undefined;
  /** The conversation the summarizer is sent: its instructions and the material. */
  messages: Message[];
  /** The last turn the new summary covers. */
  through: number;
  /** Most output tokens for the summary. */
  maxTokens: number;
}

/** What a stage can use besides the view. */
export interface StageContext {
  /** The model step the context is prepared for (1-based). */
  readonly step: number;
  /** The run's whole transcript — what happened — as a view, before any stage changed it. */
  readonly original: ContextView;
  /** The run's summary so far, if a summarize stage wrote one. */
  readonly summary: ContextSummary | undefined;
  /** Tokens of one message (content, tool-call names and arguments), counted with the real tokenizer. */
  tokens(message: Message): Promise<number>;
  /** Tokens of the messages a view becomes. */
  count(view: ContextView): Promise<number>;
  /**
   * Writes a new summary (or, on a resumed run, reads the one the journal recorded for this step): its
   * usage counts on the run's usage and budget. The result becomes the run's summary.
   */
  summarize(request: SummaryRequest): Promise<ContextSummary>;
}

/**
 * One step of the context pipeline. Built-in stages come from `capToolResults`, `clearToolResults`,
 * `slidingWindow`, `summarize` and `scratchpad`; a custom stage is any object of this shape. A stage may
 * drop whole turns, replace the content of tool results and add notes; the pipeline checks that it did
 * nothing else (a CONFIG_INVALID error names the stage that broke the conversation's structure).
 */
export interface ContextStage {
  readonly kind: 'context-stage';
  /** Names the stage in events (`memory.compacted` `strategy`) and spans (`baton.context.stages`). */
  readonly name: string;
  /** Its settings as plain JSON: part of the agent's configuration hash (journals refuse another pipeline). */
  readonly settings: Readonly<Record<string, unknown>>;
  /** Tools the stage gives the agent (the scratchpad's `scratchpad_write`): added by `defineAgent`. */
  readonly tools?: readonly AnyTool[];
  apply(view: ContextView, context: StageContext): ContextView | Promise<ContextView>;
}

/** What one stage did to one model call's context. */
export interface StageReport {
  stage: string;
  beforeTokens: number;
  afterTokens: number;
  /** False when the stage left the context as it was. */
  changed: boolean;
}

/** What the pipeline did before one model call. */
export interface ContextReport {
  step: number;
  /** Tokens of the whole transcript: what would have been sent without the pipeline. */
  tokensBefore: number;
  /** Tokens of the messages sent. */
  tokensAfter: number;
  messagesBefore: number;
  messagesAfter: number;
  stages: StageReport[];
}
