import {
  BatonAttr,
  budgetAttributes,
  GenAI,
  GenAIOperation,
  packageVersion,
  type RunResult,
} from '@baton/core';
import { type Context, type Span, SpanKind, SpanStatusCode, type Tracer, trace } from '@opentelemetry/api';
import type { StopReason, TeamConfig, TeamResult, TeamRunOptions, TeamStatus } from './types.js';

// What a team run tells those watching it: its spans (`invoke_workflow`, one `handoff` per member
// invocation) and its events (`team.start`, `team.handoff`, `team.round`, `team.end`).

export const defaultTracer: Tracer = trace.getTracer(
  '@baton/supervisor',
  packageVersion(import.meta.url, '../package.json'),
);

/** The team run's `invoke_workflow` span, with its bundle hash when the team knows its bundle. */
export function startWorkflowSpan(
  tracer: Tracer,
  parent: Context,
  team: string,
  runId: string,
  { sessionId }: { sessionId?: string },
  bundle: string | undefined,
): Span {
  const span = tracer.startSpan(`invoke_workflow ${team}`, { kind: SpanKind.INTERNAL }, parent);
  span.setAttributes({
    [GenAI.OPERATION_NAME]: GenAIOperation.INVOKE_WORKFLOW,
    [BatonAttr.TEAM]: team,
    [BatonAttr.RUN_ID]: runId,
    ...(sessionId ? { [GenAI.CONVERSATION_ID]: sessionId } : {}),
  });
  if (bundle !== undefined) span.setAttribute(BatonAttr.BUNDLE, bundle);
  return span;
}

/** Ends the `invoke_workflow` span with how the team ended: its status, why it stopped, what it spent. */
export function endWorkflowSpan(
  span: Span,
  status: TeamStatus,
  stopReason: StopReason,
  result: Pick<TeamResult, 'rounds' | 'costUsd' | 'usage' | 'budget'>,
): void {
  span.setAttributes({
    [BatonAttr.RUN_STATUS]: status,
    [BatonAttr.STOP_REASON]: stopReason.kind,
    [BatonAttr.ROUNDS]: result.rounds,
    [BatonAttr.COST_USD]: result.costUsd,
    [GenAI.USAGE_INPUT_TOKENS]: result.usage.inputTokens,
    [GenAI.USAGE_OUTPUT_TOKENS]: result.usage.outputTokens,
  });
  // The team's ledger: what the console shows of a run that was traced but not journaled.
  const budget = budgetAttributes(result.budget.limits, result.budget.used);
  if (budget) span.setAttributes(budget);
  if (status !== 'completed') span.setStatus({ code: SpanStatusCode.ERROR, message: stopReason.message });
  span.end();
}

/** One handoff's span, a child of the team's `invoke_workflow` span. */
export function startHandoffSpan(
  { tracer, context: workflowContext }: { tracer: Tracer; context: Context },
  team: string,
  member: string,
  from: string,
  contract: { id: string } | undefined,
): Span {
  const span = tracer.startSpan(`handoff ${member}`, { kind: SpanKind.PRODUCER }, workflowContext);
  span.setAttributes({
    'messaging.system.name': 'baton',
    'messaging.operation.type': 'send',
    'messaging.destination.name': member,
    [BatonAttr.TEAM]: team,
    'baton.handoff.from': from,
    ...(contract ? { 'baton.handoff.contract': contract.id } : {}),
  });
  return span;
}

/** Ends a handoff's span: an error when the member did not complete or its output broke the contract. */
export function endHandoffSpan(span: Span, ok: boolean, result: RunResult): void {
  if (!ok) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: result.error?.message ?? result.status });
    if (result.error) span.setAttribute('error.type', result.error.code);
  }
  span.end();
}

/** What a team run's events say about it. */
interface ObservedTeam {
  readonly config: TeamConfig;
  readonly options: TeamRunOptions;
  readonly runId: string;
  readonly traceId: string;
  readonly rounds: number;
}

export function emitStart(team: ObservedTeam, input: unknown): void {
  team.options.events?.emit({
    type: 'team.start',
    team: team.config.name,
    runId: team.runId,
    traceId: team.traceId,
    at: Date.now(),
    input,
  });
}

export function emitHandoff(team: ObservedTeam, from: string, to: string): void {
  team.options.events?.emit({
    type: 'team.handoff',
    team: team.config.name,
    runId: team.runId,
    at: Date.now(),
    round: team.rounds + 1,
    from,
    to,
  });
}

export function emitRound(team: ObservedTeam): void {
  team.options.events?.emit({
    type: 'team.round',
    team: team.config.name,
    runId: team.runId,
    at: Date.now(),
    round: team.rounds,
  });
}

export function emitEnd(team: ObservedTeam, result: TeamResult): void {
  team.options.events?.emit({
    type: 'team.end',
    team: team.config.name,
    runId: team.runId,
    at: Date.now(),
    result,
  });
}
