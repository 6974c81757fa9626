import type { Context, Tracer } from '@opentelemetry/api';
import type { ApprovalStore } from '../approvals/types.js';
import type { AuditLog } from '../audit/log.js';
import type { Budget } from '../budget.js';
import type { RunCacheOptions } from '../cache/types.js';
import type { ContextStage, ContextState } from '../context/types.js';
import type { BatonErrorJSON } from '../errors.js';
import type { RunEventSink } from '../events/emitter.js';
import type { Guardrails } from '../guards/types.js';
import type { JournalBatch } from '../journal/session.js';
import type { RunJournal } from '../journal/types.js';
import type { RunMemoryOptions } from '../memory/run-options.js';
import type { MemoryStore } from '../memory/store.js';
import type { Message, ToolCall, Usage } from '../model/types.js';
import type { ToolRisk } from '../tools/define.js';
import type { ToolFailure } from '../tools/result.js';

export type RunStatus =
  | 'completed'
  | 'max_steps'
  | 'timeout'
  | 'budget_exceeded'
  | 'repeated_action'
  | 'no_progress'
  | 'guardrail_tripped'
  | 'awaiting_approval'
  | 'denied'
  | 'aborted'
  | 'failed';

export const RUN_STATUSES: readonly RunStatus[] = [
  'completed',
  'max_steps',
  'timeout',
  'budget_exceeded',
  'repeated_action',
  'no_progress',
  'guardrail_tripped',
  'awaiting_approval',
  'denied',
  'aborted',
  'failed',
];

/** One tool call as the run saw it. */
export interface ToolRecord {
  step: number;
  toolCallId: string;
  tool: string;
  args: unknown;
  ok: boolean;
  data?: unknown;
  error?: ToolFailure;
  durationMs: number;
}

/** What a run gathered, whatever its status: a limit never throws the work away. */
export interface PartialResult {
  /** One paragraph for a human: what was found, what was not, and why the run stopped. */
  summary: string;
  /** The last assistant text, if any. */
  text?: string;
  toolResults: ToolRecord[];
  /** Declared requirements that were not met (required tools never called with an ok result, ...). */
  missing: string[];
}

export interface RunResult<O = unknown> {
  status: RunStatus;
  /** The validated final answer; undefined unless status is `completed`. */
  output: O | undefined;
  partial: PartialResult;
  error?: BatonErrorJSON;
  steps: number;
  usage: Usage;
  /** Dollars of the steps whose price is known; see `unpriced` for the rest. */
  costUsd: number;
  /**
   * Present when some steps had no price (a model missing from the price table, or no usage reported):
   * their cost is unknown, not zero, and `costUsd` covers only the priced ones.
   */
  unpriced?: UnpricedUsage;
  /**
   * What the run's ledger lease spent in all: its own steps plus every run its tools started (local
   * runs, teams, remote agents), which drew from it. Present when that differs from the run's own usage.
   */
  spent?: SpentTotals;
  durationMs: number;
  runId: string;
  traceId: string;
  /** The run's `invoke_agent` span. */
  spanId: string;
  agent: string;
  /** The agent's bundle hash (`sha256:...`): the version of its behaviour that ran (see `bundleOf`). */
  bundle?: string;
  /** Present when status is `awaiting_approval`: resume with `resume(agent, state, ...)`. */
  state?: RunState;
  /** In a dry run: what each write or destructive call would have done (nothing was executed). */
  previews?: CallPreview[];
}

export interface UnpricedUsage {
  steps: number;
  models: string[];
}

export interface SpentTotals {
  steps: number;
  tokens: number;
  costUsd: number;
  unpricedSteps?: number;
}

export type ApprovalDecision =
  | { decision: 'approve' }
  | { decision: 'deny'; reason?: string }
  | { decision: 'edit'; args: unknown };

export interface ApprovalRequest {
  runId: string;
  agent: string;
  toolCallId: string;
  tool: string;
  risk: ToolRisk;
  args: unknown;
  /** What the call would do, when the tool can say (`preview`). */
  preview?: unknown;
  /** Why a person must decide. */
  reason?: 'risk' | 'possible_duplicate' | 'untrusted_context' | 'escalation';
}

/** Hands a tool a short-lived, scoped secret for one run (an API token for this user, this tool). */
export type CredentialsProvider = (request: {
  name: string;
  tool: string;
  runId: string;
  agent: string;
  userId?: string;
  tenantId?: string;
}) => Promise<string | undefined> | string | undefined;

/** What a write or destructive call would have done, in a dry run. */
export interface CallPreview {
  toolCallId: string;
  tool: string;
  args: unknown;
  preview: unknown;
}

/** Decides on a tool call that needs approval; `undefined` pauses the run (status `awaiting_approval`). */
export type ApprovalHandler = (
  request: ApprovalRequest,
) => Promise<ApprovalDecision | undefined> | ApprovalDecision | undefined;

export interface ToolPolicy {
  /** Highest risk the run may execute without being denied; default `destructive` (approval still applies). */
  maxRisk?: ToolRisk;
  /** When set, only these tools may run. */
  allow?: readonly string[];
  deny?: readonly string[];
}

export interface RunOptions {
  signal?: AbortSignal;
  runId?: string;
  /** The run that started this one (a team member's parent), for events and traces. */
  parentRunId?: string;
  userId?: string;
  sessionId?: string;
  /** A ledger to draw from; the run charges a child of it. A team passes its shared ledger here. */
  budget?: Budget;
  events?: RunEventSink;
  tracer?: Tracer;
  /** Parent trace context for the `invoke_agent` span (the bus passes the caller's context here). */
  traceContext?: Context;
  /** Record message and tool content on spans; off by default. */
  captureContent?: boolean;
  approve?: ApprovalHandler;
  /**
   * Where calls that need a person wait when `approve` gives no answer: a durable record any process can
   * decide (the CLI, the gateway, another service). The run pauses; `resume` picks the decision up.
   */
  approvals?: ApprovalStore;
  /** After this long, a call still waiting for a person counts as denied. */
  approvalTimeoutMs?: number;
  /** Decisions already made for calls of this run, by tool call id (what `resume` passes on). */
  decisions?: Record<string, ApprovalDecision>;
  /**
   * Journal the run: every model step, tool intent and outcome, approval and the end are recorded, and a
   * run with records is resumed from them — recorded steps are replayed, recorded tool calls never run again.
   */
  journal?: RunJournal;
  /** Resume a journal recorded by another configuration anyway (its steps replay as recorded). */
  migrate?: boolean;
  /**
   * Set by a team for its local members: the run's records are flushed with the team's (when the team
   * pauses or ends) instead of when the run ends.
   */
  journalBatch?: JournalBatch;
  /** HMAC key that signs paused RunStates and checks them on resume (default: BATON_STATE_KEY). */
  stateKey?: string;
  /**
   * A stable identity for this invocation: a remote agent sends it as the envelope id, so a caller that
   * resumes after a crash finds the same invocation (and its recorded result) instead of starting another.
   */
  invocationKey?: string;
  /**
   * Run read tools, but not `write` or `destructive` ones: each such call returns its preview (or its
   * dry-run result) to the model instead, and `RunResult.previews` lists them. Nothing is committed.
   */
  dryRun?: boolean;
  /** Where tools get scoped secrets (`ToolContext.credentials`); what it returns never reaches a log. */
  credentials?: CredentialsProvider;
  /**
   * The hash-chained audit log: every tool call, approval decision, guard trip and the run's end are
   * recorded (tenant, user, agent, run, tool, redacted arguments and their hash, outcome).
   */
  audit?: AuditLog;
  /** Redacts tool arguments before they are audited (e.g. `(args) => redactPii(args)`). */
  auditRedact?: (args: unknown) => unknown;
  /** The tenant the run belongs to (the bus namespace, for remote runs): stamped on audit records. */
  tenantId?: string;
  /**
   * The agent that handed this run its input (set by teams and workers): the input is then another
   * agent's output — untrusted data, wrapped as such, and it counts as untrusted content already read.
   */
  inputFrom?: string;
  /**
   * Guards that apply on top of the agent's own (a team passes its guardrails to every member): they
   * run first, then the agent's.
   */
  guardrails?: Guardrails;
  toolPolicy?: ToolPolicy;
  /**
   * Long-term memory: relevant memories are put into the system prompt at the start (within a token
   * budget, untrusted ones as data), and an episode and a session recap are saved at the end, through the
   * run's memoryWrite guards. A store alone means every default; see `RunMemoryOptions`.
   */
  memory?: MemoryStore | RunMemoryOptions;
  /**
   * Where cacheable tools keep their results (in memory per process by default; a `natsCacheStore`
   * shares them between workers), and whether this run uses tool and model-response caches at all.
   */
  cache?: RunCacheOptions;
  /** Earlier conversation to continue from. */
  history?: Message[];
  /**
   * The context pipeline of this run, replacing the agent's (`defineAgent({ context })`); `[]` turns it
   * off. A stage that brings a tool (the scratchpad) must also be on the agent, which owns its tools.
   */
  context?: readonly ContextStage[];
}

/** Anything that runs like an agent: a local agent, a remote proxy over the bus, a team. */
export interface AgentLike<I = unknown, O = unknown> {
  readonly name: string;
  readonly description: string;
  run(input: I, options?: RunOptions): Promise<RunResult<O>>;
}

export const RUN_STATE_VERSION = 1;

/**
 * Everything needed to continue a run elsewhere. Plain JSON: it can be stored, sent over the bus, and
 * resumed in another process with `resume(agent, state)`.
 */
export interface RunState {
  v: typeof RUN_STATE_VERSION;
  /** Unique per pause: a state is resumed once. */
  id?: string;
  /** HMAC-SHA256 of the rest of the state, when a state key is configured. */
  signature?: string;
  runId: string;
  traceId: string;
  agent: string;
  input: unknown;
  messages: Message[];
  step: number;
  usage: Usage;
  costUsd: number;
  /** Wall time already spent, so a resumed run keeps its timeout. */
  elapsedMs: number;
  toolRecords: ToolRecord[];
  /** Times each canonical action (tool + arguments) was taken. */
  actionCounts: Record<string, number>;
  /** Hashes of every distinct tool result seen, for no-progress detection. */
  seen: string[];
  stepsWithoutProgress: number;
  /** Calls per tool in this run, for per-run rate limits. */
  toolCallCounts: Record<string, number>;
  outputRetries: number;
  unpricedSteps?: number;
  unpricedModels?: string[];
  /** Retries taken per canonical action after retryable failures (loop detection lets a few through). */
  retries?: Record<string, number>;
  /** Canonical actions whose last call failed with a retryable error. */
  retryable?: string[];
  /** The run has read untrusted content: write and destructive calls need the policy's consent. */
  tainted?: boolean;
  /** The step's tool calls that wait for a decision, when paused for approval. */
  pending?: { toolCalls: ToolCall[]; awaiting: string[]; decided: Record<string, ApprovalDecision> };
  /**
   * The context pipeline's memory: where the preamble ends and the summary of the earliest turns, so the
   * resumed run sends the same context. `messages` is always the whole conversation, never the compacted one.
   */
  context?: ContextState;
}
