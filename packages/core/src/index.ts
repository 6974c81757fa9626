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
export { approvalKey, decodeApprovalRecord, encodeApprovalRecord } from './approvals/codec.js';
export { type FileApprovalsOptions, fileApprovals } from './approvals/file.js';
export {
  alreadyDecided,
  matches as matchesApprovalFilter,
  memoryApprovals,
  unknownApproval,
  withDecision,
  withExpiry,
} from './approvals/memory.js';
export {
  type ApprovalFilter,
  type ApprovalRecord,
  type ApprovalRequestRecord,
  type ApprovalStatus,
  type ApprovalStore,
  approvalRecordSchema,
  effectiveStatus,
  statusOfDecision,
} from './approvals/types.js';
export { type WaitForDecisionsOptions, waitForDecisions } from './approvals/wait.js';
export { argsHashOf, chainRecord, recordHashOf } from './audit/chain.js';
export {
  auditConflict,
  decodeAuditEntry,
  encodeAuditEntry,
  invalidAuditEntry,
  isHeadEntry,
  parseAuditText,
  readAudit,
  recordsAndHeads,
  sameTail as sameAuditTail,
  splitAuditEntries,
  tailOf as auditTailOf,
} from './audit/codec.js';
export { type FileAuditSinkOptions, fileAuditSink } from './audit/file-sink.js';
export {
  type AuditKey,
  auditKeyId,
  auditPrivateKey,
  auditPublicKey,
  headSigned,
  signHead,
} from './audit/heads.js';
export {
  type AuditLog,
  type AuditLogOptions,
  createAuditLog,
  DEFAULT_AUDIT_FILE,
  DEFAULT_SIGN_EVERY,
} from './audit/log.js';
export { type MemoryAuditSink, memoryAuditSink } from './audit/memory-sink.js';
export {
  AUDIT_DECISIONS,
  AUDIT_GENESIS,
  AUDIT_KINDS,
  AUDIT_OUTCOMES,
  AUDIT_VERSION,
  type AuditEntry,
  type AuditEvent,
  type AuditHead,
  type AuditKind,
  type AuditRecord,
  type AuditSink,
  type AuditTail,
  auditEventSchema,
  auditHeadEntrySchema,
  auditHeadSchema,
  auditRecordSchema,
} from './audit/types.js';
export {
  type AuditProblem,
  type AuditVerification,
  type VerifyAuditOptions,
  verifyAudit,
} from './audit/verify.js';
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
// Metrics (OpenTelemetry meters, like spans) and versioned bundles (issue 16).
export * from './bundle/index.js';
// Caches on a pluggable store: tool results and model responses (listed in cache/index.ts).
export * from './cache/index.js';
// The context pipeline: stages that shape what each model call is sent (issue 13).
export {
  type CapToolResultsOptions,
  CLEARED_PREFIX,
  type ClearToolResultsOptions,
  type CompactOptions,
  type CompactResult,
  type ContextNote,
  type ContextReport,
  type ContextStage,
  type ContextState,
  type ContextSummary,
  type ContextView,
  capToolResults,
  checkStages as checkContextStages,
  clearToolResults,
  compactMessages,
  DEFAULT_SUMMARY_INSTRUCTIONS,
  describeStages as describeContextStages,
  isContextStage,
  messagesOf as contextMessagesOf,
  messageTokens,
  NOTES_HEADER as CONTEXT_NOTES_HEADER,
  notesOf as scratchpadNotesOf,
  type PipelineResult as ContextPipelineResult,
  preambleOf,
  SCRATCHPAD_PREFIX,
  SCRATCHPAD_TOOL,
  type ScratchpadOptions,
  type SlidingWindowOptions,
  type StageContext,
  type StageReport,
  SUMMARY_PREFIX,
  type SummarizeOptions,
  type SummaryRequest,
  scratchpad,
  slidingWindow,
  summarize,
  summarizerMessages,
  type Turn,
  viewOf as contextViewOf,
} from './context/index.js';
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
// Guardrails: the guard interface and the built-in guards (listed explicitly in guards/index.ts).
export * from './guards/index.js';
export {
  type GuardOutcome,
  type GuardRunContext,
  guardsFor,
  runGuards,
} from './guards/run.js';
export {
  type Guard,
  type GuardContext,
  type GuardFinding,
  type Guardrails,
  type GuardStage,
  type GuardVerdict,
  PASS,
} from './guards/types.js';
export { defineHandoff, type HandoffConfig, type HandoffContract, isHandoffContract } from './handoff.js';
export {
  checkRunId,
  decodeJournalEntries,
  decodeJournalEntry,
  encodeJournalEntries,
  encodeJournalEntry,
  invalidEntry as invalidJournalEntry,
  isRunId,
} from './journal/codec.js';
export { agentConfigHash, agentConfigOf, hashConfig } from './journal/config-hash.js';
export { DEFAULT_JOURNAL_RETENTION_MS, type FileJournalOptions, fileJournal } from './journal/file.js';
export {
  checkLastSeq as checkJournalLastSeq,
  fenced as journalFenced,
  memoryJournal,
} from './journal/memory.js';
export { JournalBatch, JournalSession, type RecordedHandoff, WRITER } from './journal/session.js';
export {
  JOURNAL_VERSION,
  type JournalEntry,
  type JournalOpenOptions,
  type JournalRecord,
  type JournalRecordOf,
  type JournalRecordType,
  type JournalWriter,
  journalEntrySchema,
  journalRecordSchema,
  type RecordedResponse,
  type RunJournal,
  recordedResponseSchema,
} from './journal/types.js';
export { type RecallBudget, type RecalledContext, recallForTask, renderMemories } from './memory/context.js';
export type { Embedder } from './memory/embedder.js';
export { deterministicRecap, episodeText, type RunOutline } from './memory/episodes.js';
export {
  FileMemoryStore,
  type FileMemoryStoreOptions,
  fileMemoryStore,
  MEMORY_FILE,
} from './memory/file.js';
export {
  InMemoryStore,
  type InMemoryStoreOptions,
  inMemoryStore,
  type MemorySnapshot,
} from './memory/in-memory.js';
export { LexicalIndex, type LexicalMatch } from './memory/lexical.js';
export type { RunMemoryOptions } from './memory/run-options.js';
export type {
  MemoryHit,
  MemoryKind,
  MemoryNamespace,
  MemoryProvenance,
  MemoryPutOptions,
  MemoryRecord,
  MemorySearchOptions,
  MemoryStore,
  MemorySubject,
} from './memory/store.js';
export { type MemoryToolsOptions, memoryTools } from './memory/tools.js';
export {
  cosineSimilarity,
  DEFAULT_RECENCY_HALF_LIFE_MS,
  DEFAULT_SCOPE,
  isExpired,
  MEMORY_LIMITS,
  memoryKindSchema,
  memoryNamespaceSchema,
  memoryProvenanceSchema,
  memoryRecordSchema,
  memorySubjectSchema,
  type ParsedPut,
  type ParsedSearch,
  parseKey,
  parseListOptions,
  parseNamespace,
  parsePut,
  parseSearch,
  parseStoredRecord,
  parseSubject,
  type ResolvedNamespace,
  recencyWeight,
} from './memory/validate.js';
export { type GuardedWrite, guardedPut } from './memory/write.js';
export * from './metrics/index.js';
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
// Planning (plan-and-execute), reflection and grounding (issue 14).
export * from './planning/index.js';
// Model providers, combinators and modelFromEnv (listed explicitly in providers/index.ts).
export * from './providers/index.js';
// Recovery beyond backoff: modified retries, fallback tools, human escalation (issue 14).
export * from './recovery/index.js';
export { withoutToolResults } from './run/journaled.js';
export { spentOf } from './run/result.js';
export {
  type ResumeOptions,
  type RunStream,
  requireJournaled,
  resume,
  run,
  stream,
} from './run/run.js';
export { runResultSchema, usageSchema } from './run/schemas.js';
export {
  currentRunScope,
  inheritRunScope,
  type RunScope,
  runInScope,
  type ScopedOptions,
} from './run/scope.js';
export { stoppedStatus } from './run/stop-status.js';
export type { CallPreview, CredentialsProvider } from './run/types.js';
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
export type { ToolCredentials } from './tools/define.js';
export {
  type AnyTool,
  defineTool,
  isTool,
  type Tool,
  type ToolCacheConfig,
  type ToolCacheOptions,
  type ToolConfig,
  type ToolContext,
  type ToolProgress,
  type ToolRateLimit,
  type ToolRetryPolicy,
  type ToolRisk,
} from './tools/define.js';
export {
  formatToolResult,
  inertJson,
  parseToolResult,
  UNTRUSTED_NOTICE,
  type UntrustedSource,
  unwrapUntrusted,
  wrapUntrusted,
} from './tools/format.js';
export { ToolError, type ToolFailure, type ToolResult } from './tools/result.js';
export { BatonAttr, GenAI, GenAIOperation } from './tracing/attributes.js';
export { budgetAttributes } from './tracing/budget-attributes.js';
export { packageVersion } from './tracing/scope.js';
// Small utilities the other packages share.
export { raceAbort, sleep } from './util/abort.js';
export { editDistance } from './util/edit-distance.js';
export { seededRandom } from './util/random.js';
export { type LongTimer, MAX_TIMER_MS, setLongTimeout, timerDelay } from './util/timers.js';
