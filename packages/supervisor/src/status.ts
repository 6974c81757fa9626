import type { StopKind, StopReason, TeamStatus } from './types.js';

/**
 * The status a team ends with, from why it stopped — a function of the reason and nothing else, so
 * `status` and `stopReason.kind` can never disagree.
 */
export function statusOf(reason: StopReason): TeamStatus {
  return STATUS_BY_KIND[reason.kind];
}

export const STATUS_BY_KIND: Readonly<Record<StopKind, TeamStatus>> = {
  completed: 'completed',
  approved: 'completed',
  converged: 'completed',
  condition: 'stopped',
  max_rounds: 'stopped',
  stalled: 'stopped',
  budget: 'budget_exceeded',
  timeout: 'timeout',
  awaiting_approval: 'awaiting_approval',
  member_failed: 'failed',
  handoff_invalid: 'failed',
  journal_failed: 'failed',
  aborted: 'aborted',
};
