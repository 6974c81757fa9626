import { BatonError } from '../errors.js';
import type { ApprovalDecision } from '../run/types.js';
import {
  type ApprovalFilter,
  type ApprovalRecord,
  type ApprovalRequestRecord,
  type ApprovalStore,
  effectiveStatus,
  statusOfDecision,
} from './types.js';

/** Approval records in this process's memory: the embedded default. */
export function memoryApprovals(): ApprovalStore {
  const records = new Map<string, ApprovalRecord>();
  const watchers = new Set<{ filter: ApprovalFilter; listener: (record: ApprovalRecord) => void }>();
  const key = (runId: string, toolCallId: string) => `${runId}\u0000${toolCallId}`;
  const copy = (record: ApprovalRecord) => JSON.parse(JSON.stringify(record)) as ApprovalRecord;
  const notify = (record: ApprovalRecord) => {
    for (const watcher of watchers) {
      if (matches(record, watcher.filter)) callListener(watcher.listener, copy(record));
    }
  };
  return {
    async request(request: ApprovalRequestRecord): Promise<ApprovalRecord> {
      const existing = records.get(key(request.runId, request.toolCallId));
      if (existing) return copy(existing);
      const record: ApprovalRecord = { ...request, v: 1, status: 'pending' };
      records.set(key(request.runId, request.toolCallId), copy(record));
      notify(record);
      return copy(record);
    },
    async get(runId: string, toolCallId: string): Promise<ApprovalRecord | undefined> {
      const record = records.get(key(runId, toolCallId));
      return record ? withExpiry(copy(record)) : undefined;
    },
    async list(filter: ApprovalFilter = {}): Promise<ApprovalRecord[]> {
      return [...records.values()]
        .map((record) => withExpiry(copy(record)))
        .filter((record) => matches(record, filter))
        .sort((a, b) => a.requestedAt - b.requestedAt);
    },
    async decide(runId: string, toolCallId: string, decision: ApprovalDecision, by: string) {
      const record = records.get(key(runId, toolCallId));
      if (!record) throw unknownApproval(runId, toolCallId);
      const status = effectiveStatus(record);
      if (status !== 'pending') throw alreadyDecided(record, status);
      const decided = withDecision(record, decision, by);
      records.set(key(runId, toolCallId), decided);
      notify(decided);
      return copy(decided);
    },
    watch(filter: ApprovalFilter, listener: (record: ApprovalRecord) => void): () => void {
      const watcher = { filter: { ...filter }, listener };
      watchers.add(watcher);
      // The current records go out on the next microtask, so the caller holds the stop function first.
      queueMicrotask(() => {
        if (!watchers.has(watcher)) return;
        for (const record of records.values()) {
          const current = withExpiry(copy(record));
          if (matches(current, watcher.filter)) callListener(listener, current);
        }
      });
      return () => {
        watchers.delete(watcher);
      };
    },
  };
}

/** The record once `decision` is made by `by` (a new object: stores write it by compare-and-set). */
export function withDecision(record: ApprovalRecord, decision: ApprovalDecision, by: string): ApprovalRecord {
  return {
    ...record,
    status: statusOfDecision(decision),
    decision: JSON.parse(JSON.stringify(decision)) as ApprovalDecision,
    decidedBy: by,
    decidedAt: Date.now(),
  };
}

/** A throwing listener is the watcher's bug: it must not fail the write that notified it. */
export function callListener(listener: (record: ApprovalRecord) => void, record: ApprovalRecord): void {
  try {
    listener(record);
  } catch {
    // ignored on purpose (see above)
  }
}

export function withExpiry(record: ApprovalRecord): ApprovalRecord {
  const status = effectiveStatus(record);
  if (status === 'expired' && record.status === 'pending') {
    record.status = 'expired';
    record.decision = { decision: 'deny', reason: 'the approval expired' };
    record.decidedBy = 'expiry';
    record.decidedAt = record.expiresAt;
  }
  return record;
}

export function matches(record: ApprovalRecord, filter: ApprovalFilter): boolean {
  if (filter.status !== undefined && record.status !== filter.status) return false;
  if (filter.runId !== undefined && record.runId !== filter.runId) return false;
  if (filter.teamRunId !== undefined && record.teamRunId !== filter.teamRunId) return false;
  return true;
}

export function unknownApproval(runId: string, toolCallId: string): BatonError {
  return new BatonError('APPROVAL_UNKNOWN', `No approval is waiting for call ${toolCallId} of run ${runId}`, {
    details: { runId, toolCallId },
  });
}

export function alreadyDecided(record: ApprovalRecord, status = record.status): BatonError {
  const who = record.decidedBy ? ` by ${record.decidedBy}` : '';
  return new BatonError(
    'APPROVAL_DECIDED',
    `Call ${record.toolCallId} of run ${record.runId} was already ${status}${who}`,
    { details: { runId: record.runId, toolCallId: record.toolCallId, status, decidedBy: record.decidedBy } },
  );
}
