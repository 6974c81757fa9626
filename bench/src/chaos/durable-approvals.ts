/**
 * What the `durable.approvals` scenario and its decider processes share: the ids of the pending
 * approvals, the decision each decider makes (every decider a different one, so the stored record says
 * whose decision won), and the shape of a decider's report.
 */
import type { ApprovalDecision } from '@baton/core';

export interface DeciderConfig {
  store: 'nats' | 'file';
  /** NATS: the server and the approvals namespace. */
  url?: string;
  namespace?: string;
  /** Files: the approvals directory. */
  dir?: string;
  /** Index of this process (deciders are `p<process>-c<connection>`). */
  process: number;
  /** Separate connections (NATS) or store instances (files) in this process, each one decider. */
  connections: number;
  /** Decider numbers start here, so every decider across processes has its own decision. */
  firstDecider: number;
  approvals: number;
  /**
   * Written by the suite once every decider is READY: the epoch ms at which approval 0 is decided
   * (approval i at that + i × intervalMs).
   */
  goFile: string;
  intervalMs: number;
}

export interface DecideAttempt {
  /** Approval index. */
  i: number;
  by: string;
  decider: number;
  outcome: 'won' | 'lost' | 'error';
  code?: string;
  /** When the decide call started (epoch ms, sub-ms precision). */
  at: number;
  ms: number;
}

export function approvalIds(i: number): { runId: string; toolCallId: string } {
  return { runId: `approval-run-${i}`, toolCallId: `call-${i}` };
}

/** Decider d approves, denies or edits, with its own number in the reason or the arguments. */
export function decisionOf(decider: number): ApprovalDecision {
  if (decider % 3 === 0) return { decision: 'approve' };
  if (decider % 3 === 1) return { decision: 'deny', reason: `denied by decider ${decider}` };
  return { decision: 'edit', args: { order: 'A-1', amount: decider } };
}
