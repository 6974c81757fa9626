import { z } from 'zod';

/** The record format. It is hashed with the record, so a reader never mistakes one version for another. */
export const AUDIT_VERSION = 1;

/**
 * The `prevHash` of record 1. A fixed value rather than an absent field, so the first record links like
 * every other and a log whose first records were cut off fails at its new first record.
 */
export const AUDIT_GENESIS = '0'.repeat(64);

/** What happened. A closed list: a verifier must understand every record it accepts. */
export const AUDIT_KINDS = ['tool.call', 'approval.decision', 'guard.trip', 'run.end'] as const;
export type AuditKind = (typeof AUDIT_KINDS)[number];

/** How a tool call ended: ran (`ok`, `error`), was refused (`denied`) or did not run (`skipped`, a dry run). */
export const AUDIT_OUTCOMES = ['ok', 'error', 'denied', 'skipped'] as const;
export const AUDIT_DECISIONS = ['approve', 'edit', 'deny'] as const;

const id = z.string().min(1).max(256);
const time = z.number().int().nonnegative();
export const sha256HexSchema = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex sha256');

/** The event fields, shared by what the runtime reports and what the log stores. */
const eventShape = {
  kind: z.enum(AUDIT_KINDS),
  /** Epoch milliseconds. */
  at: time,
  tenantId: id.optional(),
  userId: id.optional(),
  agent: id,
  runId: id,
  tool: id.optional(),
  toolCallId: id.optional(),
  /** The arguments as the caller redacted them: the log never sees (or hashes) the raw ones. */
  args: z.unknown().optional(),
  outcome: z.enum(AUDIT_OUTCOMES).optional(),
  errorCode: z.string().min(1).max(128).optional(),
  decision: z.enum(AUDIT_DECISIONS).optional(),
  decidedBy: id.optional(),
  guard: id.optional(),
  reason: z.string().max(4_096).optional(),
  /** The run's final status, on `run.end`. */
  status: z.string().min(1).max(64).optional(),
} as const;

/** Fields each kind cannot do without: a record missing them says too little to audit anything. */
const REQUIRED: Record<AuditKind, readonly (keyof typeof eventShape)[]> = {
  'tool.call': ['tool', 'toolCallId', 'outcome'],
  'approval.decision': ['tool', 'toolCallId', 'decision'],
  'guard.trip': ['guard', 'reason'],
  'run.end': ['status'],
};

function requireByKind<T extends { kind: AuditKind }>(value: T, ctx: z.core.$RefinementCtx<T>): void {
  for (const field of REQUIRED[value.kind]) {
    if ((value as Record<string, unknown>)[field] === undefined) {
      ctx.addIssue({ code: 'custom', path: [field], message: `a ${value.kind} record needs "${field}"` });
    }
  }
}

/**
 * What the runtime reports. Strict: an unknown field is refused rather than dropped, so nothing the caller
 * meant to audit is silently lost (and nothing unredacted slips in under a misspelt name).
 */
export const auditEventSchema = z
  .strictObject({ ...eventShape, at: time.optional() })
  .superRefine((value, ctx) => requireByKind(value, ctx));
export type AuditEvent = z.input<typeof auditEventSchema>;

/**
 * One stored record: the event, its place in the chain and its hash. `hash` is sha256 over the canonical
 * JSON of every other field; `prevHash` is the previous record's hash (AUDIT_GENESIS for record 1).
 * Strict, so a field added by hand is refused instead of being ignored by the hash.
 */
export const auditRecordSchema = z
  .strictObject({
    v: z.literal(AUDIT_VERSION),
    seq: z.number().int().positive(),
    ...eventShape,
    /** sha256 of the canonical JSON of `args`: a fingerprint to find the same call in journals and spans. */
    argsHash: sha256HexSchema.optional(),
    prevHash: sha256HexSchema,
    hash: sha256HexSchema,
  })
  .superRefine((value, ctx) => requireByKind(value, ctx));
export type AuditRecord = z.infer<typeof auditRecordSchema>;

/**
 * A signed head: "the chain had `seq` records and the last one hashed to `hash`", signed with ed25519 over
 * the canonical JSON of every field but `signature` (see heads.ts). `keyId` names the key for rotation.
 */
export const auditHeadSchema = z.strictObject({
  seq: z.number().int().positive(),
  hash: sha256HexSchema,
  at: time,
  keyId: z.string().min(1).max(128),
  signature: z
    .string()
    .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'base64')
    .max(256),
});
export type AuditHead = z.infer<typeof auditHeadSchema>;

/** A head as it is stored beside the records: wrapped, so it can never be read as a record. */
export const auditHeadEntrySchema = z.strictObject({ head: auditHeadSchema });

export type AuditEntry = { record: AuditRecord } | { head: AuditHead };

/** Where the chain ends: the last record's sequence number and hash. */
export interface AuditTail {
  seq: number;
  hash: string;
}

/**
 * Where audit records go: a JSON-lines file (`fileAuditSink`), memory (`memoryAuditSink`), a JetStream
 * stream (`natsAuditSink` in `@baton/bus`). Every implementation passes the audit conformance suite
 * (`@baton/core/testing`). A sink keeps entries in append order and never rewrites one; the hash chain is
 * the log's business, the sink only refuses an append that would not follow the tail its writer saw.
 */
export interface AuditSink {
  /** The stored chain's tail (undefined when empty), read from the store, not remembered. */
  tail(): Promise<AuditTail | undefined>;
  /**
   * Appends one entry, durable when it resolves, if the stored tail is still `after`; otherwise AUDIT_CONFLICT
   * and nothing is written. That check is what keeps two writers from forking one chain.
   */
  append(entry: AuditEntry, after: AuditTail | undefined): Promise<void>;
  /**
   * Every stored entry in order, parsed from JSON but not validated: verification must see what is there,
   * garbage included. `readAudit` validates.
   */
  readRaw(): Promise<unknown[]>;
  close(): Promise<void>;
}
