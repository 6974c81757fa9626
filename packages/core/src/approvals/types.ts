import { z } from 'zod';
import { decisionSchema } from '../run/schemas.js';
import type { ApprovalDecision } from '../run/types.js';
import type { ToolRisk } from '../tools/define.js';

export type ApprovalStatus = 'pending' | 'approved' | 'edited' | 'denied' | 'expired';

/**
 * One tool call waiting for a person (or decided by one): a record, decided exactly once, from any process —
 * the library, the CLI, the gateway or the console.
 */
export interface ApprovalRecord {
  v: 1;
  runId: string;
  toolCallId: string;
  agent: string;
  tool: string;
  risk: ToolRisk;
  args: unknown;
  /** Why a person must decide: the tool's risk, or a call that may already have run (a crash mid-call). */
  reason: 'risk' | 'possible_duplicate' | 'untrusted_context' | 'escalation';
  /** What would happen, in words a person can check ("email to 50 people, subject X"), when the tool says. */
  preview?: unknown;
  /** The JSON Schema of the tool's arguments, so an editor can check edited arguments before deciding. */
  schema?: unknown;
  /** The team run the call belongs to, when it runs in a team (so a team's pending calls can be listed). */
  teamRunId?: string;
  requestedAt: number;
  /** After this the call counts as denied (epoch ms). */
  expiresAt?: number;
  status: ApprovalStatus;
  decision?: ApprovalDecision;
  decidedBy?: string;
  decidedAt?: number;
}

export const approvalRecordSchema = z.object({
  v: z.literal(1),
  runId: z.string().min(1),
  toolCallId: z.string().min(1),
  agent: z.string(),
  tool: z.string(),
  risk: z.enum(['read', 'write', 'destructive']),
  args: z.unknown(),
  reason: z.enum(['risk', 'possible_duplicate', 'untrusted_context', 'escalation']),
  preview: z.unknown().optional(),
  schema: z.unknown().optional(),
  teamRunId: z.string().optional(),
  requestedAt: z.number(),
  expiresAt: z.number().optional(),
  status: z.enum(['pending', 'approved', 'edited', 'denied', 'expired']),
  decision: decisionSchema.optional(),
  decidedBy: z.string().optional(),
  decidedAt: z.number().optional(),
});

export type ApprovalRequestRecord = Omit<
  ApprovalRecord,
  'v' | 'status' | 'decision' | 'decidedBy' | 'decidedAt'
>;

export interface ApprovalFilter {
  status?: ApprovalStatus;
  runId?: string;
  teamRunId?: string;
}

/**
 * Durable approval records. `decide` is a compare-and-set: of any number of concurrent deciders, exactly
 * one wins and the others get APPROVAL_DECIDED. Implementations: `memoryApprovals()` here, NATS KV and
 * files elsewhere; all pass the approvals conformance suite.
 */
export interface ApprovalStore {
  /** Records a pending call; when one is already recorded for (runId, toolCallId) it is returned as is. */
  request(request: ApprovalRequestRecord): Promise<ApprovalRecord>;
  get(runId: string, toolCallId: string): Promise<ApprovalRecord | undefined>;
  list(filter?: ApprovalFilter): Promise<ApprovalRecord[]>;
  /**
   * Decides a pending call once; `by` says who. Throws APPROVAL_DECIDED when it was decided already (or
   * expired) and APPROVAL_UNKNOWN when there is no such call.
   */
  decide(runId: string, toolCallId: string, decision: ApprovalDecision, by: string): Promise<ApprovalRecord>;
  /**
   * Calls `listener` with every matching record as it stands, then again whenever one changes (a new
   * request, a decision), from whichever process made the change; returns the function that stops it.
   * The current records come first so a waiter that subscribes and then reads misses nothing in between.
   * Optional: a store that cannot watch leaves it out and callers poll `get`.
   */
  watch?(filter: ApprovalFilter, listener: (record: ApprovalRecord) => void): () => void;
}

/** The status a decision gives a record. */
export function statusOfDecision(decision: ApprovalDecision): ApprovalStatus {
  if (decision.decision === 'approve') return 'approved';
  if (decision.decision === 'edit') return 'edited';
  return 'denied';
}

/** A pending record past its expiry is denied; this says so without writing (writers settle it by CAS). */
export function effectiveStatus(record: ApprovalRecord, now = Date.now()): ApprovalStatus {
  if (record.status === 'pending' && record.expiresAt !== undefined && now >= record.expiresAt)
    return 'expired';
  return record.status;
}
