import {
  BatonError,
  type Budget,
  type JournalBatch,
  type JournalRecord,
  type JournalRecordOf,
  type JournalSession,
  type RecordedHandoff,
  type RunResult,
  spentOf,
  withoutToolResults,
} from '@baton/core';
import type { Span } from '@opentelemetry/api';
import { recordInvocation } from './member-reports.js';
import { isFinal, recordedMemberResult } from './team-journal.js';
import { notePreviews, type PreviewEntry } from './team-result.js';
import type { HandoffRecord, MemberReport, PendingCall, TeamResult } from './types.js';

// What a running team writes to its journal and replays from it: its handoffs, sent and done, and its end.
// Opening the journal and resuming a team from it is team-journal.ts.

/** Queues a record in the team's journal (written in order; flushed when the team pauses or ends). */
function appendRecord(journal: JournalSession | undefined, record: JournalRecord): boolean {
  journal?.append(record);
  return true;
}

/** The dispatch place the journal recorded for a handoff, or undefined for a handoff new to it. */
export function recordedPlace(journal: JournalSession | undefined, key: string): number | undefined {
  const known = journal?.handoff(key);
  return known && known.order !== Number.MAX_SAFE_INTEGER ? known.order - Number.MAX_SAFE_INTEGER : undefined;
}

/** A recorded handoff's result, replayed: what it spent is charged to the ledger, its span says it replayed. */
export function replayHandoff<O>(
  done: JournalRecordOf<'handoff.done'>,
  ledger: Budget,
  span: Span,
): RunResult<O> {
  const result = recordedMemberResult(done.result) as RunResult<O>;
  ledger.charge(spentOf(result));
  span.setAttribute('baton.replayed', true);
  return result;
}

/**
 * Records a handoff as sent, before its member runs. Returns the member's invocation key (one per
 * attempt), or undefined when the handoff could not be recorded.
 */
export function recordSent(
  journal: JournalSession | undefined,
  journalBatch: JournalBatch,
  recorded: RecordedHandoff | undefined,
  handoff: { key: string; member: string; memberRunId: string; from: string; input: unknown },
  /** The member's run id is the team's own: the orchestrator gave none. */
  fresh: boolean,
): string | undefined {
  const { key, member, memberRunId, from, input } = handoff;
  const sent = appendRecord(journal, {
    type: 'handoff.sent',
    at: Date.now(),
    key,
    member,
    memberRunId,
    from,
    input,
  });
  if (!sent) return undefined;
  const attempt = recorded?.sent ?? 0;
  // A member of a team run that just started has no records: its journal need not be read first.
  if (journal && !journal.resuming && fresh) {
    journalBatch.markFresh(memberRunId);
  }
  return `${memberRunId}-a${attempt}`;
}

/** Records a member's final result for its handoff; a paused or resumable one runs again on a resume. */
export function recordDone(
  journal: JournalSession | undefined,
  key: string,
  member: string,
  result: RunResult,
): void {
  if (journal && isFinal(result)) {
    // Without its tool results: the member's own journal (or its process) keeps those.
    appendRecord(journal, {
      type: 'handoff.done',
      at: Date.now(),
      key,
      member,
      result: withoutToolResults(result),
    });
  }
}

/** The parts of a team run that recorded handoffs are accounted in. */
export interface TeamAccounts {
  readonly ledger: Budget;
  readonly rounds: number;
  readonly transcript: HandoffRecord[];
  readonly members: Map<string, MemberReport>;
}

/**
 * A resumed orchestrator does not always reach every recorded handoff again: a supervisor whose
 * manager's own result was recorded replays the manager's result without its delegations. Those
 * handoffs happened; the transcript, the member table and the ledger say so, in the order they were sent.
 */
export function accountForUnvisited(
  journal: JournalSession | undefined,
  visited: Set<string>,
  team: TeamAccounts,
  order: WeakMap<HandoffRecord, number>,
  previews: PreviewEntry[],
): void {
  if (!journal) return;
  for (const handoff of journal.completedHandoffs()) {
    if (visited.has(handoff.key)) continue;
    const result = recordedMemberResult(handoff.done.result);
    team.ledger.charge(spentOf(result));
    const record: HandoffRecord = {
      round: team.rounds,
      from: handoff.first?.from ?? 'unknown',
      to: handoff.done.member,
      input: handoff.first?.input,
      status: result.status,
      runId: result.runId,
      spanId: result.spanId,
      durationMs: result.durationMs,
    };
    if (result.status === 'completed') record.output = result.output;
    if (result.error) record.error = result.error;
    // Before what this run dispatched itself: everything recorded happened earlier.
    order.set(record, handoff.order - Number.MAX_SAFE_INTEGER);
    team.transcript.push(record);
    recordInvocation(team.members, handoff.done.member, result);
    notePreviews(previews, handoff.done.member, result, handoff.order - Number.MAX_SAFE_INTEGER);
  }
  team.transcript.sort((a, b) => (order.get(a) ?? -1) - (order.get(b) ?? -1));
}

/** A team whose end could not be recorded fails, and says why. */
export function unrecordedEnd(result: TeamResult, unrecorded: BatonError): void {
  // The work may be done, but the run is not durable: a resume would run part of it again. Said so.
  result.status = 'failed';
  result.stopReason = {
    kind: 'journal_failed',
    message: `the team's journal cannot be written: ${unrecorded.message}`,
  };
  delete result.pending;
}

/**
 * The team's end in its journal: paused with the calls it waits for, or finished with its result.
 * Returns why it could not be recorded (the journal, or a member's, failed during the run or now).
 */
export async function recordEnd(
  journal: JournalSession | undefined,
  journalBatch: JournalBatch,
  pending: PendingCall[],
  result: TeamResult,
): Promise<BatonError | undefined> {
  if (!journal) return undefined;
  try {
    if (result.status === 'awaiting_approval') {
      // The members' pauses first: a resume that finds the team paused finds each member paused too.
      await journalBatch.flush();
      await journal.appendNow({
        type: 'run.paused',
        at: Date.now(),
        elapsedMs: result.durationMs,
        status: 'awaiting_approval',
        pending: pending.map(({ runId, toolCallId, tool }) => ({ runId, toolCallId, tool })),
      });
    } else {
      // Written together with the members' last records: once the team's result is recorded, a
      // resume returns it and no member's journal is read again.
      journal.append({
        type: 'run.finished',
        at: Date.now(),
        elapsedMs: result.durationMs,
        status: result.status,
        result,
      });
      await Promise.all([journalBatch.flush(), journal.flush()]);
    }
  } catch (error) {
    // Another process resumed the team, or the journal is down: a resume replays and records the end.
    return BatonError.wrap(error);
  }
  return undefined;
}
