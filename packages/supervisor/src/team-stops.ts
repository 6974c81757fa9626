import {
  BatonError,
  type BatonErrorCode,
  type Budget,
  type BudgetBreach,
  type LongTimer,
  setLongTimeout,
} from '@baton/core';
import type { Invocation } from './member-run.js';
import type { StopSignal, TeamProgress } from './termination.js';
import type { PendingCall, StopReason, TeamConfig, TeamRunOptions } from './types.js';

// What stops a team run besides its orchestrator, why it stopped (its stop reason), and the code its
// cancelled members end with.

/** What of a team run its stops need: what it watches, its progress, and what stops it. */
interface StoppableTeam {
  readonly config: TeamConfig;
  readonly options: TeamRunOptions;
  readonly ledger: Budget;
  progress(): TeamProgress;
  halt(reason: StopReason, cancel?: boolean, code?: BatonErrorCode): void;
}

/**
 * Stops the team when its caller aborts, its ledger is spent, its deadline passes or a condition's timer
 * fires. Returns what stops watching (and resets the conditions for the next run) when the team ends.
 */
export function watchStops(team: StoppableTeam): () => void {
  const { config, options, ledger } = team;
  const callerSignal = options.signal;
  const onCallerAbort = () => {
    const reason = callerSignal?.reason;
    const timedOut =
      reason instanceof BatonError && (reason.code === 'TIMEOUT' || reason.code === 'DEADLINE_EXCEEDED');
    team.halt(
      timedOut
        ? { kind: 'timeout', message: `the team run's caller timed out: ${reason.message}` }
        : { kind: 'aborted', message: 'the team run was aborted' },
    );
  };
  if (options.signal?.aborted) onCallerAbort();
  else options.signal?.addEventListener('abort', onCallerAbort, { once: true });
  // An exhausted ledger stops members mid-run too, not only the next handoff.
  const stopWatchingLedger = ledger.onBreach((found) => budgetSpent(team, found));
  let deadlineTimer: LongTimer | undefined;
  const deadline = ledger.deadline();
  if (deadline !== undefined) {
    deadlineTimer = setLongTimeout(
      () => team.halt({ kind: 'timeout', message: 'the team reached the deadline it was given' }),
      deadline - Date.now(),
    );
  }
  config.termination?.start?.((signal) => conditionFired(team, signal));
  return () => {
    options.signal?.removeEventListener('abort', onCallerAbort);
    stopWatchingLedger();
    deadlineTimer?.clear();
    config.termination?.reset();
  };
}

/** Members cancelled for the team's budget end `budget_exceeded`, like a member that hit it itself. */
function budgetSpent(team: StoppableTeam, found: BudgetBreach): void {
  const reason: StopReason = {
    kind: 'budget',
    message: `${found.message}: in-flight members were cancelled`,
  };
  if (found.code === 'PRICE_UNKNOWN') reason.message = found.message;
  team.halt(reason, true, found.code);
}

/** The error code a cancelling stop aborts in-flight members with. */
export function abortCode(reason: StopReason): BatonErrorCode {
  if (reason.kind === 'timeout') return 'TIMEOUT';
  if (reason.kind === 'budget') return 'BUDGET_TOKENS';
  return 'ABORTED';
}

/** Checks the team's termination conditions against its progress (after a handoff or a round). */
export function checkConditions(team: StoppableTeam): void {
  const fired = team.config.termination?.check(team.progress());
  if (fired) conditionFired(team, fired);
}

/**
 * A timer or an outside signal stops in-flight work, even after an earlier soft stop; a condition met
 * after a handoff just ends the team (no new work).
 */
function conditionFired(team: StoppableTeam, signal: StopSignal): void {
  const reason: StopReason = {
    kind: signal.timedOut ? 'timeout' : 'condition',
    condition: signal.condition,
    message: signal.message,
  };
  if (signal.interrupt === true) team.halt(reason);
  else team.halt(reason, false);
}

/** A member waits for a person: the team pauses (no new work) and resumes when it is decided. */
export function pauseReasonOf(pending: PendingCall[]): StopReason {
  const calls = pending.map((call) => `${call.tool} (${call.member})`).join(', ');
  return {
    kind: 'awaiting_approval',
    agent: pending[0]?.member,
    message: `waiting for a person to decide on ${pending.length} call(s): ${calls}`,
  };
}

/** Why the team must stop after a member did not complete: the budget, the team's own stop, or the member. */
export function failureReasonOf(
  invocation: Invocation<unknown>,
  ledger: Budget,
  stopReason: StopReason | undefined,
  pending: PendingCall[],
): StopReason {
  const { result } = invocation;
  if (result.status === 'awaiting_approval') return pauseReasonOf(pending);
  const breach = ledger.breach();
  if (breach) return { kind: 'budget', agent: result.agent, message: breach.message };
  if (stopReason) return stopReason;
  const message = result.error ? `${result.error.code}: ${result.error.message}` : result.status;
  return {
    kind: 'member_failed',
    agent: invocation.record.to,
    message: `${invocation.record.to} ended ${result.status} (${message})`,
  };
}
