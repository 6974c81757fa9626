import {
  type AgentLike,
  type AnyTool,
  BatonError,
  type BatonErrorCode,
  Budget,
  type BudgetLimits,
  currentRunScope,
  defineTool,
  emptyUsage,
  type RunOptions,
  type RunResult,
  type RunStatus,
  ToolError,
} from '@baton/core';
import type { z } from 'zod';
import type { Team, TeamResult, TeamRunOptions, TeamStatus } from '../types.js';

export interface TeamAsAgentOptions {
  /** The member's name in the enclosing team (default: the team's name). */
  name?: string;
  description?: string;
  /**
   * The nested team's own limits, drawn from the enclosing ledger: it may spend at most these, and never
   * more than its parent has left (a lease of the parent's ledger).
   */
  limits?: BudgetLimits;
}

const STATUS: Readonly<Record<TeamStatus, RunStatus>> = {
  completed: 'completed',
  stopped: 'failed',
  timeout: 'timeout',
  budget_exceeded: 'budget_exceeded',
  awaiting_approval: 'awaiting_approval',
  failed: 'failed',
  aborted: 'aborted',
};

/**
 * A team as a member of another team (hierarchical work): it runs like an agent, with its own limits as
 * a lease of the ledger it is given, so everything it spends is charged to the enclosing team as it
 * happens, and the enclosing team's cancel and deadline reach every member inside it.
 */
export function teamAsAgent<I, O>(team: Team<I, O>, options: TeamAsAgentOptions = {}): AgentLike<I, O> {
  const name = options.name ?? team.name;
  return {
    name,
    description: options.description ?? team.description,
    async run(input: I, given: RunOptions = {}): Promise<RunResult<O>> {
      const budget = given.budget
        ? given.budget.lease(options.limits ?? {})
        : new Budget(options.limits ?? {});
      const teamOptions: TeamRunOptions = { budget };
      if (given.signal) teamOptions.signal = given.signal;
      if (given.runId) teamOptions.runId = given.runId;
      if (given.userId) teamOptions.userId = given.userId;
      if (given.sessionId) teamOptions.sessionId = given.sessionId;
      if (given.tracer) teamOptions.tracer = given.tracer;
      if (given.traceContext) teamOptions.traceContext = given.traceContext;
      if (given.captureContent) teamOptions.captureContent = true;
      if (given.approve) teamOptions.approve = given.approve;
      if (given.approvals) teamOptions.approvals = given.approvals;
      if (given.journal) teamOptions.journal = given.journal;
      if (given.dryRun) teamOptions.dryRun = true;
      if (given.guardrails) teamOptions.guardrails = given.guardrails;
      // The enclosing team's sink takes every event; the nested team's own events are a superset it ignores.
      if (given.events) teamOptions.events = given.events as unknown as NonNullable<TeamRunOptions['events']>;
      const result = await team.run(input, teamOptions);
      return runResultOf(name, result, budget);
    },
  };
}

/** A team's result as a member's run result: its status, output, usage, and what its lease spent. */
function runResultOf<O>(name: string, result: TeamResult<O>, lease: Budget): RunResult<O> {
  const status = STATUS[result.status];
  let steps = 0;
  for (const report of Object.values(result.members)) steps += report.steps;
  const converted: RunResult<O> = {
    status,
    output: status === 'completed' ? result.output : undefined,
    partial: {
      summary: `${name} (a team) ${result.status}: ${result.stopReason.message}`,
      toolResults: [],
      missing: [],
    },
    steps,
    usage: result.usage ?? emptyUsage(),
    costUsd: result.costUsd,
    // Its members charged the lease as they went: this is what the enclosing ledger already holds.
    spent: { ...lease.used },
    durationMs: result.durationMs,
    runId: result.runId,
    traceId: result.traceId,
    spanId: result.spanId,
    agent: name,
  };
  if (result.unpriced) converted.unpriced = result.unpriced;
  if (status !== 'completed') {
    converted.error = new BatonError(
      codeOf(result.status),
      `Team "${name}" ${result.status}: ${result.stopReason.message}`,
      {
        details: { stopReason: result.stopReason },
      },
    ).toJSON();
  }
  return converted;
}

function codeOf(status: TeamStatus): BatonErrorCode {
  if (status === 'failed') return 'TOOL_FAILED';
  if (status === 'timeout') return 'TIMEOUT';
  if (status === 'budget_exceeded') return 'BUDGET_TOKENS';
  if (status === 'awaiting_approval') return 'APPROVAL_REQUIRED';
  if (status === 'stopped') return 'MAX_ROUNDS';
  return 'ABORTED';
}

export interface TeamToolOptions<A, I> {
  name: string;
  description: string;
  /** The tool's arguments, as the model (or a plan step) gives them. */
  input: z.ZodType<A>;
  /** The team's input from the arguments; default the arguments themselves. */
  toTeamInput?: (args: A) => I;
  /** The team's own limits, drawn from the calling run's ledger. */
  limits?: BudgetLimits;
  /** Default 10 minutes: a team takes longer than a tool. */
  timeoutMs?: number;
}

/**
 * A team as a tool of an agent — how a plan step (or a ReAct step) delegates to a whole team. The team
 * draws its own limits from the calling run's ledger (a lease), stops with the call, and its answer is
 * the tool's result; a team that does not complete is a tool failure the model (or the re-plan) reads.
 */
export function teamTool<A, I, O>(team: Team<I, O>, options: TeamToolOptions<A, I>): AnyTool {
  return defineTool<A, unknown>({
    name: options.name,
    description: options.description,
    input: options.input,
    timeoutMs: options.timeoutMs ?? 600_000,
    untrustedOutput: true,
    execute: async (args, context) => {
      const scope = currentRunScope();
      const budget = scope?.budget
        ? scope.budget.lease(options.limits ?? {})
        : new Budget(options.limits ?? {});
      const input = options.toTeamInput ? options.toTeamInput(args) : (args as unknown as I);
      const result = await team.run(input, { budget, signal: context.signal });
      if (result.status !== 'completed') {
        throw new ToolError(
          result.status.toUpperCase(),
          `The team "${team.name}" ${result.status}: ${result.stopReason.message}`,
          {
            retryable: result.status === 'timeout',
            details: { stopReason: result.stopReason },
          },
        );
      }
      return result.output;
    },
  }) as unknown as AnyTool;
}
