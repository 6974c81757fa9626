/**
 * The context pipeline: ordered stages that shape what each model call is sent.
 *
 * ```ts
 * defineAgent({
 *   ...,
 *   context: [
 *     capToolResults({ maxTokens: 1_500 }),
 *     clearToolResults({ keep: 3, exclude: ['scratchpad_write'] }),
 *     summarize({ triggerTokens: 8_000, keepTurns: 2 }),
 *     slidingWindow({ maxTurns: 12 }),
 *     scratchpad(),
 *   ],
 * });
 * run(agent, input, { context: [...] }); // replaces the agent's pipeline for one run ([] turns it off)
 * ```
 *
 * What is sent and what happened are kept apart. The pipeline runs before every model call on the
 * run's transcript and changes only the request: `RunState.messages`, the journal's records and the
 * tool results in `RunResult.partial` keep the whole conversation. Every stage is a function of the
 * transcript and the configuration, except the summary, which a model writes; so the summary is state:
 * kept in `RunState.context` when a run pauses, and journaled as a `context.summary` record before the
 * model call it serves. A resumed or replayed run therefore rebuilds exactly the context the original
 * run sent, without asking the summarizer again.
 */
export { checkStages, describeStages, isContextStage } from './config.js';
export {
  type CompactOptions,
  type CompactResult,
  compactMessages,
  type PipelineResult,
} from './pipeline.js';
export { type CapToolResultsOptions, capToolResults } from './stages/cap.js';
export { CLEARED_PREFIX, type ClearToolResultsOptions, clearToolResults } from './stages/clear.js';
export {
  notesOf,
  SCRATCHPAD_PREFIX,
  SCRATCHPAD_TOOL,
  type ScratchpadOptions,
  scratchpad,
} from './stages/scratchpad.js';
export {
  DEFAULT_SUMMARY_INSTRUCTIONS,
  SUMMARY_PREFIX,
  type SummarizeOptions,
  summarize,
  summarizerMessages,
} from './stages/summarize.js';
export { type SlidingWindowOptions, slidingWindow } from './stages/window.js';
export type {
  ContextNote,
  ContextReport,
  ContextStage,
  ContextState,
  ContextSummary,
  ContextView,
  StageContext,
  StageReport,
  SummaryRequest,
  Turn,
} from './types.js';
export { messagesOf, messageTokens, NOTES_HEADER, preambleOf, viewOf } from './view.js';
