import type {
  BatonErrorJSON,
  Budget,
  BudgetLimits,
  BudgetUsage,
  EventHub,
  RunEvent,
  RunOptions,
  RunStatus,
  UnpricedUsage,
  Usage,
} from '@baton/core';
import type { Context, Tracer } from '@opentelemetry/api';
import type { TerminationCondition } from './termination.js';

export type TeamStatus = 'completed' | 'stopped' | 'timeout' | 'budget_exceeded' | 'failed' | 'aborted';

export type StopKind =
  | 'completed'
  | 'approved'
  | 'converged'
  | 'condition'
  | 'max_rounds'
  | 'stalled'
  | 'budget'
  | 'timeout'
  | 'member_failed'
  | 'handoff_invalid'
  | 'aborted';

export interface StopReason {
  kind: StopKind;
  /** The termination condition that fired, when one did. */
  condition?: string;
  /** The member responsible, when one is. */
  agent?: string;
  message: string;
}

/** One handoff: what one member received and what it gave back. */
export interface HandoffRecord {
  round: number;
  from: string;
  to: string;
  contract?: string;
  input: unknown;
  output?: unknown;
  status: RunStatus;
  runId: string;
  spanId: string;
  durationMs: number;
  /** True when the input was shortened to fit the context budget. */
  compacted?: boolean;
  error?: BatonErrorJSON;
}

/** Everything one member did in a team run, so every failure has an owner. */
export interface MemberReport {
  agent: string;
  /** Status of the member's last invocation. */
  status: RunStatus;
  invocations: number;
  /** Invocations that did not complete; `error` and `spanId` point at the last of them. */
  failures: number;
  steps: number;
  usage: Usage;
  costUsd: number;
  /** Steps whose cost is unknown (no price for the model): `costUsd` covers only the priced ones. */
  unpriced?: UnpricedUsage;
  durationMs: number;
  error?: BatonErrorJSON;
  /** `invoke_agent` span of the last invocation (of the failing one when it failed). */
  spanId: string;
  runIds: string[];
}

export interface TeamResult<O = unknown> {
  team: string;
  status: TeamStatus;
  /** The team's answer; also set on a stop when there is a usable last answer. */
  output: O | undefined;
  stopReason: StopReason;
  rounds: number;
  transcript: HandoffRecord[];
  members: Record<string, MemberReport>;
  /** The members' own usage, summed. */
  usage: Usage;
  costUsd: number;
  /** Steps whose cost is unknown, over all members: `costUsd` covers only the priced ones. */
  unpriced?: UnpricedUsage;
  /**
   * The team ledger: its limits and everything charged to it — members' steps and the runs their tools
   * started, in every process.
   */
  budget: { limits: BudgetLimits; used: BudgetUsage };
  durationMs: number;
  runId: string;
  traceId: string;
  /** The `invoke_workflow` span. */
  spanId: string;
}

export type TeamEvent =
  | { type: 'team.start'; team: string; runId: string; traceId: string; at: number; input: unknown }
  | { type: 'team.handoff'; team: string; runId: string; at: number; round: number; from: string; to: string }
  | { type: 'team.round'; team: string; runId: string; at: number; round: number }
  | { type: 'team.end'; team: string; runId: string; at: number; result: TeamResult };

export type TeamEventType = TeamEvent['type'];

/** Options of one team run. */
export interface TeamRunOptions {
  signal?: AbortSignal;
  runId?: string;
  userId?: string;
  sessionId?: string;
  /** Receives member run events and team events. */
  events?: EventHub<RunEvent | TeamEvent>;
  tracer?: Tracer;
  traceContext?: Context;
  captureContent?: boolean;
  /** A ledger shared with an enclosing team; the team's own budget draws from it. */
  budget?: Budget;
  approve?: RunOptions['approve'];
}

/** What every orchestrator accepts. */
export interface TeamConfig {
  /** The team name: the `invoke_workflow {team}` span and the CLI use it. */
  name: string;
  /** Stop conditions, checked after every handoff. */
  termination?: TerminationCondition;
  /** One ledger (tokens, cost, deadline, steps) for every member, local and remote. */
  budget?: BudgetLimits;
  /**
   * When this fraction of the team budget is spent, the orchestrator asks for a final answer instead of
   * starting new work. Default 0.8.
   */
  finalAnswerAt?: number;
  /** Hard cap on rounds, whatever the conditions say. */
  maxRounds?: number;
  /**
   * After a cancel (abort, timeout, budget), how long in-flight members get to hand back their partial
   * results before the team returns without them. Default 1,000 ms.
   */
  cancelGraceMs?: number;
}

export interface Team<I = unknown, O = unknown> {
  readonly kind: 'team';
  readonly name: string;
  readonly description: string;
  readonly members: readonly string[];
  run(input: I, options?: TeamRunOptions): Promise<TeamResult<O>>;
}
