export {
  type Agent,
  type AgentConfig,
  DEFAULT_LIMITS,
  defineAgent,
  type InstructionsContext,
  type InstructionsFunction,
  isAgent,
  type Limits,
} from './agent.js';
export {
  Budget,
  type BudgetBreach,
  type BudgetCharge,
  type BudgetDimension,
  type BudgetLimits,
  type BudgetRemaining,
  type BudgetUsage,
  breachError,
  budgetChargeSchema,
  budgetRemainingSchema,
  limitsFromRemaining,
} from './budget.js';
export {
  abortReason,
  BatonError,
  type BatonErrorCode,
  type BatonErrorJSON,
  type BatonErrorOptions,
  batonErrorJsonSchema,
  ERROR_CODES,
  type ErrorCategory,
  isAbortError,
  isErrorCode,
} from './errors.js';
export { EventHub, type RunEventSink, RunEvents } from './events/emitter.js';
export { describeEvent, type ProgressOptions, printProgress } from './events/progress.js';
export type { RunEvent, RunEventOf, RunEventType } from './events/types.js';
export { defineHandoff, type HandoffConfig, type HandoffContract, isHandoffContract } from './handoff.js';
export type {
  MemoryKind,
  MemoryPutOptions,
  MemoryRecord,
  MemoryStore,
} from './memory/store.js';
export {
  costOf,
  DEFAULT_PRICES,
  findPrice,
  type ModelPrice,
  type PriceTable,
  setPrices,
} from './model/pricing.js';
export type {
  AssistantMessage,
  FinishReason,
  JsonSchema,
  Message,
  Model,
  ModelRequest,
  ModelResponse,
  ModelStreamEvent,
  ReasoningPart,
  StepRole,
  SystemMessage,
  ToolCall,
  ToolChoice,
  ToolMessage,
  ToolSpec,
  Usage,
  UserMessage,
} from './model/types.js';
export { addUsage, emptyUsage, totalTokens } from './model/usage.js';
// Model providers, combinators and modelFromEnv (listed explicitly in providers/index.ts).
export * from './providers/index.js';
export { type ResumeOptions, type RunStream, resume, run, stream } from './run/run.js';
export { runResultSchema, usageSchema } from './run/schemas.js';
export {
  currentRunScope,
  inheritRunScope,
  type RunScope,
  runInScope,
  type ScopedOptions,
} from './run/scope.js';
export { stoppedStatus } from './run/stop-status.js';
export {
  type AgentLike,
  type ApprovalDecision,
  type ApprovalHandler,
  type ApprovalRequest,
  type PartialResult,
  RUN_STATE_VERSION,
  RUN_STATUSES,
  type RunOptions,
  type RunResult,
  type RunState,
  type RunStatus,
  type SpentTotals,
  type ToolPolicy,
  type ToolRecord,
  type UnpricedUsage,
} from './run/types.js';
export { countTokens, estimateTokens, loadTokenizer, type Truncated, truncateToTokens } from './tokens.js';
export {
  type AnyTool,
  defineTool,
  isTool,
  type Tool,
  type ToolCacheOptions,
  type ToolConfig,
  type ToolContext,
  type ToolProgress,
  type ToolRateLimit,
  type ToolRetryPolicy,
  type ToolRisk,
} from './tools/define.js';
export { formatToolResult, parseToolResult } from './tools/format.js';
export { ToolError, type ToolFailure, type ToolResult } from './tools/result.js';
export { BatonAttr, GenAI, GenAIOperation } from './tracing/attributes.js';
// Small utilities the other packages share.
export { raceAbort, sleep } from './util/abort.js';
export { editDistance } from './util/edit-distance.js';
export { type LongTimer, MAX_TIMER_MS, setLongTimeout, timerDelay } from './util/timers.js';
