import type {
  BatonErrorJSON,
  Budget,
  BudgetLimits,
  BudgetUsage,
  Bundle,
  CallPreview,
  EventHub,
  Guardrails,
  Plan,
  PlanStepFailure,
  RunEvent,
  RunOptions,
  RunStatus,
  UnpricedUsage,
  Usage,
} from '@baton/core';
import type { Context, Tracer } from '@opentelemetry/api';
import type { TerminationCondition } from './termination.js';

export type TeamStatus =
  | 'completed'
  | 'stopped'
  | 'timeout'
  | 'budget_exceeded'
  | 'awaiting_approval'
  | 'failed'
  | 'aborted';

export type StopKind =
  | 'completed'
  | 'approved'
  | 'converged'
  | 'condition'
  | 'max_rounds'
  | 'stalled'
  | 'budget'
  | 'timeout'
  | 'awaiting_approval'
  | 'member_failed'
  | 'handoff_invalid'
  /** The team's journal could not be written: nothing runs unrecorded. */
  | 'journal_failed'
  | 'aborted';

export interface StopReason {
  kind: StopKind;
  /** The termination condition that fired, when one did. */
  condition?: string;
  /** The member responsible, when one is. */
  agent?: string;
  message: string;
}

/** A tool call a member waits on, as a paused team lists it. */
export interface PendingCall {
  member: string;
  /** The member's run (where the decision is recorded). */
  runId: string;
  toolCallId: string;
  tool: string;
  args: unknown;
}

/** A write or destructive call a member would have made in a dry run (nothing was executed). */
export interface TeamCallPreview extends CallPreview {
  /** The member that made the call. */
  member: string;
  /** The member's run. */
  runId: string;
}

/** What a plan-execute team planned and did, whatever its status: the partial results of a failed plan. */
export interface TeamPlanReport {
  /** Every valid plan, the first and each re-plan. */
  plans: Plan[];
  /** The outputs of the steps that finished, by step id. */
  outputs: Record<string, unknown>;
  /** The steps whose failure led to the last re-plan (or to the end). */
  failed: PlanStepFailure[];
  replans: number;
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
  /** When the team waits for people: the calls members are waiting on (decide them, then resume the team). */
  pending?: PendingCall[];
  /**
   * In a dry run: every write or destructive call any member would have made, with its preview, in
   * handoff order. Members' own results carry theirs; this is the one list a person reviews.
   */
  previews?: TeamCallPreview[];
  /** A plan-execute team's plans: what each step produced, what failed and why, the re-plans. */
  plan?: TeamPlanReport;
  durationMs: number;
  runId: string;
  traceId: string;
  /** The `invoke_workflow` span. */
  spanId: string;
  /** The team's bundle hash (`sha256:...`): the version of the team that ran. */
  bundle?: string;
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
  /** Where members' calls wait for people (see RunOptions.approvals); the team pauses meanwhile. */
  approvals?: RunOptions['approvals'];
  approvalTimeoutMs?: number;
  /**
   * Journal the team: its handoffs and their results, and each local member's run. A team run whose
   * journal has records resumes from them (see `resumeTeam`): handoffs with a recorded result replay.
   */
  journal?: RunOptions['journal'];
  /** Resume a journal recorded by another team configuration anyway. */
  migrate?: boolean;
  stateKey?: string;
  /** Run read tools only; every write or destructive call of every member returns its preview. */
  dryRun?: boolean;
  /** Scoped secrets for members' tools (see RunOptions.credentials). */
  credentials?: RunOptions['credentials'];
  /** Guards of an enclosing team, applied before this team's own. */
  guardrails?: Guardrails;
  /**
   * The caches every local member runs with (see RunOptions.cache): one store for the team, so a member
   * called again — a writer revising, a second team run — finds the tool results the first call kept.
   * Remote members use their worker's.
   */
  cache?: RunOptions['cache'];
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
   * Guards for every member, local or remote: local members run them as their own (before the agent's),
   * remote members' input and output are checked at the handoff.
   */
  guardrails?: Guardrails;
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
  /** The team's bundle: its topology and every member's bundle, hashed (see `teamBundle`). */
  readonly bundle?: () => Bundle;
  run(input: I, options?: TeamRunOptions): Promise<TeamResult<O>>;
}
