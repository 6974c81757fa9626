import {
  type AgentLike,
  BatonError,
  type Budget,
  type GuardRunContext,
  type Guardrails,
  guardsFor,
  type HandoffContract,
  type JournalBatch,
  type RunResult,
  runGuards,
} from '@baton/core';
import type { Context } from '@opentelemetry/api';
import { DEFAULT_CANCEL_GRACE_MS, failedResult, withCancelGrace } from './member-call.js';
import type { HandoffRecord, TeamConfig, TeamRunOptions } from './types.js';

export interface Member<I = unknown, O = unknown> {
  name: string;
  agent: AgentLike<I, O>;
  contract?: HandoffContract<I, O>;
}

export interface Invocation<O> {
  result: RunResult<O>;
  /** Completed, and its output valid for the contract. */
  ok: boolean;
  record: HandoffRecord;
}

/** What a member's run takes from the team run that hands it work. */
export interface MemberRunScope {
  readonly config: TeamConfig;
  readonly options: TeamRunOptions;
  readonly runId: string;
  readonly ledger: Budget;
  readonly signal: AbortSignal;
  readonly traceId: string;
}

/**
 * Runs one member, local or remote, within the team: its ledger, its signal, its journal batch and its
 * guardrails (a remote member's input and output guards run here, at the handoff).
 */
export async function runMember<I, O>(
  team: MemberRunScope,
  journalBatch: JournalBatch,
  member: Member<I, O>,
  input: I,
  traceContext: Context,
  extra: { signal?: AbortSignal; runId: string; invocationKey: string; from: string },
): Promise<RunResult<O>> {
  const { options } = team;
  const signal = extra.signal ?? team.signal;
  const grace = team.config.cancelGraceMs ?? DEFAULT_CANCEL_GRACE_MS;
  const guardrails = teamGuardrails(team);
  const remote = (member.agent as { kind?: unknown }).kind === 'remote';
  // The team's input and output guards stand at the handoff, here, so they hold for every member
  // whatever process it runs in; its tool and memory guards travel to a remote member's process as
  // recipes (the remote proxy refuses the handoff when one cannot), since only that process sees them.
  if (remote && guardrails?.input?.length) {
    const checked = await runGuards(
      guardsFor('input', guardrails),
      'input',
      input,
      guardContext(team, member.name, signal),
    );
    if (checked.tripped)
      return failedResult<O>(member.name, checked.error, team.traceId, 'guardrail_tripped');
    input = checked.value as I;
  }
  const running = member.agent.run(input, {
    signal,
    runId: extra.runId,
    invocationKey: extra.invocationKey,
    // What another member produced is data for this one, not instructions.
    ...(extra.from !== 'user' ? { inputFrom: extra.from } : {}),
    budget: team.ledger,
    parentRunId: team.runId,
    // A caller's tracer goes down to the members; otherwise each package's own (its instrumentation scope).
    ...(options.tracer ? { tracer: options.tracer } : {}),
    traceContext,
    ...(options.events ? { events: options.events } : {}),
    ...(options.userId ? { userId: options.userId } : {}),
    ...(options.sessionId ? { sessionId: options.sessionId } : {}),
    ...(options.captureContent ? { captureContent: true } : {}),
    ...(options.approve ? { approve: options.approve } : {}),
    ...(options.approvals ? { approvals: options.approvals } : {}),
    ...(options.approvalTimeoutMs !== undefined ? { approvalTimeoutMs: options.approvalTimeoutMs } : {}),
    ...(options.journal ? { journal: options.journal, journalBatch } : {}),
    ...(options.stateKey !== undefined ? { stateKey: options.stateKey } : {}),
    ...(options.migrate ? { migrate: true } : {}),
    ...(options.dryRun ? { dryRun: true } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    ...(options.cache && !remote ? { cache: options.cache } : {}),
    ...(guardrails ? { guardrails: remote ? remoteStages(guardrails) : guardrails } : {}),
  });
  let result: RunResult<O>;
  try {
    result = await withCancelGrace(running, signal, member.name, grace);
  } catch (caught) {
    return failedResult<O>(member.name, BatonError.wrap(caught), team.traceId);
  }
  if (remote && result.status === 'completed' && guardrails?.output?.length) {
    const checked = await runGuards(
      guardsFor('output', guardrails),
      'output',
      result.output,
      guardContext(team, member.name, signal),
    );
    if (checked.tripped) {
      return { ...result, status: 'guardrail_tripped', output: undefined, error: checked.error.toJSON() };
    }
    result = { ...result, output: checked.value as O };
  }
  return result;
}

/**
 * Work still running when the team ends (a delegation whose manager was cut short, a member of a
 * cancelled team) is cancelled, and its partial result waited for — within the cancel grace — so the
 * transcript and the member table say what it did, and nothing the team started outlives it.
 */
export async function settleInFlight(
  inFlight: Set<Promise<unknown>>,
  controller: AbortController,
  team: string,
): Promise<void> {
  if (inFlight.size === 0) return;
  if (!controller.signal.aborted) {
    controller.abort(new BatonError('ABORTED', `Team "${team}" finished: work still running was cancelled`));
  }
  while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
}

/** The team's guardrails over the enclosing team's (outer first), or undefined when there are none. */
function teamGuardrails(team: MemberRunScope): Guardrails | undefined {
  const outer = team.options.guardrails;
  const own = team.config.guardrails;
  if (!outer) return own;
  if (!own) return outer;
  const stages = ['input', 'output', 'toolInput', 'toolOutput', 'memoryWrite'] as const;
  return Object.fromEntries(stages.map((stage) => [stage, [...(outer[stage] ?? []), ...(own[stage] ?? [])]]));
}

function guardContext(team: MemberRunScope, agent: string, signal: AbortSignal): GuardRunContext {
  const context: GuardRunContext = { runId: team.runId, agent, signal, events: team.options.events };
  if (team.options.userId !== undefined) context.userId = team.options.userId;
  return context;
}

/** The guard stages a remote member's own process must run: what happens inside its run. */
function remoteStages(guardrails: Guardrails): Guardrails {
  const inside: Guardrails = {};
  if (guardrails.toolInput?.length) inside.toolInput = guardrails.toolInput;
  if (guardrails.toolOutput?.length) inside.toolOutput = guardrails.toolOutput;
  if (guardrails.memoryWrite?.length) inside.memoryWrite = guardrails.memoryWrite;
  return inside;
}
