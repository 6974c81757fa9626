import type { Context, Tracer } from '@opentelemetry/api';
import type { Budget } from '../budget.js';
import type { BatonErrorJSON } from '../errors.js';
import type { RunEventSink } from '../events/emitter.js';
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
  /** Present when status is `awaiting_approval`: resume with `resume(agent, state, ...)`. */
  state?: RunState;
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
  toolPolicy?: ToolPolicy;
  memory?: MemoryStore;
  /** Earlier conversation to continue from. */
  history?: Message[];
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
  /** The step's tool calls that wait for a decision, when paused for approval. */
  pending?: { toolCalls: ToolCall[]; awaiting: string[]; decided: Record<string, ApprovalDecision> };
}
