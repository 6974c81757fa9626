import { z } from 'zod';
import { decisionSchema, toolCallSchema, toolFailureSchema, usageSchema } from '../run/schemas.js';

export const JOURNAL_VERSION = 1;

/** A model step as the journal keeps it: enough to replay the step without calling the model. */
export const recordedResponseSchema = z.object({
  text: z.string(),
  toolCalls: z.array(toolCallSchema),
  model: z.string(),
  provider: z.string().optional(),
  finishReason: z.string(),
  finishReasonRaw: z.string().optional(),
  usage: usageSchema.optional(),
  costUsd: z.number().nonnegative().optional(),
  reasoning: z
    .array(
      z.object({
        text: z.string(),
        signature: z.string().optional(),
        redactedData: z.string().optional(),
        provider: z.string().optional(),
      }),
    )
    .optional(),
});

export type RecordedResponse = z.infer<typeof recordedResponseSchema>;

const at = z.number().nonnegative();
/** Active time of the run when the record was written (pauses excluded), so a resumed run keeps its clock. */
const elapsedMs = z.number().nonnegative();

/**
 * Every record a run journal holds, in the order the run made them. One journal per run id: a team's
 * own records (handoffs and their results) under the team's run id, each member's under its own.
 */
export const journalRecordSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('run.started'),
    at,
    kind: z.enum(['agent', 'team']),
    name: z.string(),
    /** Hash of the behaviour-changing configuration the run started with; resume refuses another. */
    configHash: z.string(),
    /** The bundle hash (`sha256:...`) of the agent or team that started the run: the version, for people. */
    bundle: z.string().optional(),
    input: z.unknown(),
    parentRunId: z.string().optional(),
    traceId: z.string().optional(),
  }),
  /** A new writer took the run over (a resume in another process): earlier writers are fenced off. */
  z.object({ type: z.literal('run.opened'), at, writer: z.string() }),
  z.object({
    type: z.literal('model.step'),
    at,
    elapsedMs,
    step: z.number().int().positive(),
    response: recordedResponseSchema,
  }),
  /**
   * The context pipeline summarized turns 1…through before step `step`'s model call. Replayed on resume
   * (the summarizer is not asked again), so the resumed run sends the same context the original did.
   */
  z.object({
    type: z.literal('context.summary'),
    at,
    elapsedMs,
    step: z.number().int().positive(),
    through: z.number().int().nonnegative(),
    text: z.string(),
    /** The model that wrote it, as it reported itself. */
    model: z.string(),
    usage: usageSchema.optional(),
    costUsd: z.number().nonnegative().optional(),
  }),
  /** Written before a tool executes: an intent with no outcome after a crash is a possible duplicate. */
  z.object({
    type: z.literal('tool.intent'),
    at,
    step: z.number().int().positive(),
    toolCallId: z.string(),
    tool: z.string(),
    args: z.unknown(),
    idempotencyKey: z.string(),
  }),
  z.object({
    type: z.literal('tool.outcome'),
    at,
    elapsedMs,
    step: z.number().int().positive(),
    toolCallId: z.string(),
    tool: z.string(),
    /** The arguments it really ran with (edited ones, when a person edited them). */
    args: z.unknown(),
    ok: z.boolean(),
    data: z.unknown().optional(),
    error: toolFailureSchema.optional(),
    /** What the model was shown, exactly (after truncation and wrapping). */
    content: z.string(),
    durationMs: z.number().nonnegative(),
  }),
  z.object({
    type: z.literal('approval.requested'),
    at,
    toolCallId: z.string(),
    tool: z.string(),
    args: z.unknown(),
    reason: z.enum(['risk', 'possible_duplicate', 'untrusted_context', 'escalation']).optional(),
  }),
  z.object({
    type: z.literal('approval.decided'),
    at,
    toolCallId: z.string(),
    decision: decisionSchema,
    by: z.string().optional(),
  }),
  /** A team handed work to a member (`key` identifies the handoff across a resume). */
  z.object({
    type: z.literal('handoff.sent'),
    at,
    key: z.string(),
    member: z.string(),
    memberRunId: z.string(),
    from: z.string(),
    input: z.unknown(),
  }),
  /** The member's final result (a member paused for approval has none yet). */
  z.object({
    type: z.literal('handoff.done'),
    at,
    key: z.string(),
    member: z.string(),
    result: z.unknown(),
  }),
  z.object({
    type: z.literal('run.paused'),
    at,
    elapsedMs,
    status: z.literal('awaiting_approval'),
    /** Tool calls waiting for a decision (their run ids, for a team). */
    pending: z.array(z.object({ runId: z.string(), toolCallId: z.string(), tool: z.string() })),
    /** The id of the RunState handed out with the pause, consumed by the first resume. */
    stateId: z.string().optional(),
  }),
  /** A paused run continues; a RunState is consumed once (a second resume conflicts here). */
  z.object({ type: z.literal('run.resumed'), at, stateId: z.string().optional() }),
  z.object({ type: z.literal('run.finished'), at, elapsedMs, status: z.string(), result: z.unknown() }),
]);

export type JournalRecord = z.infer<typeof journalRecordSchema>;
export type JournalRecordType = JournalRecord['type'];
export type JournalRecordOf<T extends JournalRecordType> = Extract<JournalRecord, { type: T }>;

/** A record as stored: which run, where in the run's journal (1-based), and the record. */
export interface JournalEntry {
  runId: string;
  seq: number;
  record: JournalRecord;
}

export const journalEntrySchema = z.object({
  v: z.literal(JOURNAL_VERSION),
  runId: z.string().min(1),
  seq: z.number().int().positive(),
  record: journalRecordSchema,
});

/**
 * One writer's hold on a run's journal. Appends go in order; each is durable when it resolves. A writer
 * that another writer fenced off (a resume elsewhere took the run over) gets JOURNAL_CONFLICT and must
 * stop: two processes never interleave one run's records.
 */
export interface JournalWriter {
  readonly runId: string;
  /** The records that were there when the writer opened the run (empty for a new run). */
  readonly existing: readonly JournalEntry[];
  append(record: JournalRecord): Promise<JournalEntry>;
  /**
   * Appends consecutive records at once (one write, one sync, one round trip), all or none. Optional:
   * without it records are appended one by one.
   */
  appendMany?(records: readonly JournalRecord[]): Promise<JournalEntry[]>;
}

export interface JournalOpenOptions {
  /**
   * Open only if the run's journal still ends at this sequence (0: no records); otherwise fail with
   * JOURNAL_CONFLICT without fencing anyone. For a process that decided from a read that it may take the
   * run over (a paused RunState, resumed once): if another process got there first, losing the race must
   * not stop the winner.
   */
  ifLastSeq?: number;
  /**
   * The caller minted this run id a moment ago (a member of a team run that just started), so the run has
   * no records. A store may skip reading it; if it has records after all, the open or the first append is
   * refused with JOURNAL_CONFLICT and nobody is fenced. It saves a round trip per member on a remote store.
   */
  fresh?: boolean;
}

/**
 * Where run journals live: in memory (`memoryJournal`), in files (`fileJournal`), on a JetStream stream
 * (`@baton/bus`). Every implementation passes the journal conformance suite (`@baton/core/testing`).
 */
export interface RunJournal {
  /**
   * Opens a run for writing and fences off any earlier writer; `writer` names who (for the record).
   * The writer sees the records already there, so a resumed run can replay them.
   */
  open(runId: string, writer: string, options?: JournalOpenOptions): Promise<JournalWriter>;
  /** Every record of a run, in order (empty when the run is unknown). */
  read(runId: string): Promise<JournalEntry[]>;
  /** Runs with records, newest first, at most `limit` (default 100). */
  runs(options?: { limit?: number }): Promise<string[]>;
}
