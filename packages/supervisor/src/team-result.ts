import { addUsage, type Budget, emptyUsage, type RunResult } from '@baton/core';
import { sumUnpriced } from './member-reports.js';
import { memberPreviews } from './previews.js';
import type {
  HandoffRecord,
  MemberReport,
  PendingCall,
  StopReason,
  TeamCallPreview,
  TeamConfig,
  TeamResult,
  TeamStatus,
} from './types.js';

/** A member's dry-run preview with its handoff's dispatch order (the transcript's order). */
export interface PreviewEntry {
  sequence: number;
  preview: TeamCallPreview;
}

/** A member's dry-run previews, kept for the team's result (a replayed handoff's come from its record). */
export function notePreviews(
  previews: PreviewEntry[],
  member: string,
  result: RunResult,
  sequence: number,
): void {
  for (const preview of memberPreviews(member, result)) previews.push({ sequence, preview });
}

/** What a team run's result is made of, as the run keeps it. */
export interface TeamRunTotals {
  readonly config: TeamConfig;
  readonly rounds: number;
  readonly transcript: HandoffRecord[];
  readonly members: Map<string, MemberReport>;
  readonly runId: string;
  readonly traceId: string;
  readonly ledger: Budget;
}

/**
 * The team's result: the members' usage and cost added up, the transcript, the ledger, and what the run
 * still waits on or would have done (its pending calls, its dry-run previews in dispatch order).
 */
export function teamResult<O>(
  team: TeamRunTotals,
  output: O | undefined,
  stopReason: StopReason,
  status: TeamStatus,
  run: {
    started: number;
    spanId: string;
    bundle: string | undefined;
    pending: PendingCall[];
    previews: PreviewEntry[];
    /** What an orchestrator adds to its result (a plan-execute team's plans). */
    extra: Pick<TeamResult<O>, 'plan'> | undefined;
  },
): TeamResult<O> {
  const { extra } = run;
  const usage = emptyUsage();
  let costUsd = 0;
  for (const report of team.members.values()) {
    addUsage(usage, report.usage);
    costUsd += report.costUsd;
  }
  const unpriced = sumUnpriced(team.members.values());
  const result: TeamResult<O> = {
    team: team.config.name,
    status,
    output,
    stopReason,
    rounds: team.rounds,
    transcript: team.transcript,
    members: Object.fromEntries(team.members),
    usage,
    costUsd,
    durationMs: performance.now() - run.started,
    runId: team.runId,
    traceId: team.traceId,
    spanId: run.spanId,
    budget: { limits: { ...team.ledger.limits }, used: { ...team.ledger.used } },
  };
  if (unpriced) result.unpriced = unpriced;
  if (run.bundle !== undefined) result.bundle = run.bundle;
  if (extra?.plan) result.plan = extra.plan;
  if (status === 'awaiting_approval') result.pending = [...run.pending];
  if (run.previews.length > 0) {
    result.previews = run.previews.sort((a, b) => a.sequence - b.sequence).map((entry) => entry.preview);
  }
  return result;
}
