import { hostname } from 'node:os';
import { BatonError } from '../errors.js';
import type { ApprovalDecision, ToolRecord } from '../run/types.js';
import type {
  JournalEntry,
  JournalOpenOptions,
  JournalRecord,
  JournalRecordOf,
  JournalWriter,
  RunJournal,
} from './types.js';

/** Records written together at most (a batch stays well under a message size limit). */
const MAX_BATCH = 32;

/** Names this process in `run.opened` records. */
export const WRITER = `${hostname()}:${process.pid}`;

/**
 * One run's journal while the run executes: what was recorded before (a resumed run replays it instead
 * of calling the model or the tools again) and the writer for what happens now. Appends are awaited
 * where the order matters for once-only effects: a tool's intent before it runs, its outcome before the
 * run moves on, a model step before its tools.
 */
export class JournalSession {
  readonly started: JournalRecordOf<'run.started'> | undefined;
  readonly finished: JournalRecordOf<'run.finished'> | undefined;
  /** Active time the run had spent when it was last recorded. */
  readonly elapsedMs: number;
  private readonly steps = new Map<number, JournalRecordOf<'model.step'>>();
  private readonly summaries = new Map<number, JournalRecordOf<'context.summary'>>();
  private readonly outcomes = new Map<string, JournalRecordOf<'tool.outcome'>>();
  private readonly intents = new Set<string>();
  private readonly decisions = new Map<string, ApprovalDecision>();
  private readonly requested = new Set<string>();
  private readonly resumedStates = new Set<string>();
  private readonly handoffs = new Map<string, RecordedHandoff>();
  private tail: Promise<void> = Promise.resolve();
  private failure: BatonError | undefined;
  private readonly queued: JournalRecord[] = [];
  private writing = false;
  private scheduled: ReturnType<typeof setImmediate> | undefined;

  private constructor(
    private readonly writer: JournalWriter,
    entries: readonly JournalEntry[],
  ) {
    let started: JournalRecordOf<'run.started'> | undefined;
    let finished: JournalRecordOf<'run.finished'> | undefined;
    let elapsed = 0;
    for (const [order, { record }] of entries.entries()) {
      if ('elapsedMs' in record) elapsed = Math.max(elapsed, record.elapsedMs);
      switch (record.type) {
        case 'run.started':
          started ??= record;
          break;
        case 'run.finished':
          finished = record;
          break;
        case 'model.step':
          this.steps.set(record.step, record);
          break;
        case 'context.summary':
          this.summaries.set(record.step, record);
          break;
        case 'tool.intent':
          this.intents.add(record.toolCallId);
          break;
        case 'tool.outcome':
          this.outcomes.set(record.toolCallId, record);
          break;
        case 'approval.requested':
          this.requested.add(record.toolCallId);
          break;
        case 'approval.decided':
          this.decisions.set(record.toolCallId, record.decision);
          break;
        case 'run.resumed':
          if (record.stateId) this.resumedStates.add(record.stateId);
          break;
        case 'handoff.sent': {
          const handoff = this.handoffs.get(record.key) ?? { sent: 0, order };
          handoff.sent++;
          handoff.first ??= record;
          this.handoffs.set(record.key, handoff);
          break;
        }
        case 'handoff.done': {
          const handoff = this.handoffs.get(record.key) ?? { sent: 0, order };
          handoff.done = record;
          this.handoffs.set(record.key, handoff);
          break;
        }
        default:
          break;
      }
    }
    this.started = started;
    this.finished = finished;
    this.elapsedMs = elapsed;
  }

  static async open(
    journal: RunJournal,
    runId: string,
    options?: JournalOpenOptions,
  ): Promise<JournalSession> {
    let writer: JournalWriter;
    try {
      writer = await journal.open(runId, WRITER, options);
    } catch (error) {
      throw unavailable(error, runId);
    }
    return new JournalSession(writer, writer.existing);
  }

  get runId(): string {
    return this.writer.runId;
  }

  /** True when the run has records from before: this is a resume. */
  get resuming(): boolean {
    return this.started !== undefined;
  }

  response(step: number): JournalRecordOf<'model.step'>['response'] | undefined {
    return this.steps.get(step)?.response;
  }

  /** The summary the context pipeline wrote before step `step`'s model call, when one was recorded. */
  summary(step: number): JournalRecordOf<'context.summary'> | undefined {
    return this.summaries.get(step);
  }

  outcome(toolCallId: string): JournalRecordOf<'tool.outcome'> | undefined {
    return this.outcomes.get(toolCallId);
  }

  /** The run's tool calls as its result lists them, from their recorded outcomes (in order). */
  toolRecords(): ToolRecord[] {
    return [...this.outcomes.values()].map((outcome) => {
      const base = {
        step: outcome.step,
        toolCallId: outcome.toolCallId,
        tool: outcome.tool,
        args: outcome.args,
        durationMs: outcome.durationMs,
      };
      return outcome.ok
        ? { ...base, ok: true, data: outcome.data }
        : { ...base, ok: false, ...(outcome.error ? { error: outcome.error } : {}) };
    });
  }

  /** A call that was about to run (its intent is recorded) but has no outcome: it may have run. */
  interrupted(toolCallId: string): boolean {
    return this.intents.has(toolCallId) && !this.outcomes.has(toolCallId);
  }

  decision(toolCallId: string): ApprovalDecision | undefined {
    return this.decisions.get(toolCallId);
  }

  wasRequested(toolCallId: string): boolean {
    return this.requested.has(toolCallId);
  }

  consumed(stateId: string): boolean {
    return this.resumedStates.has(stateId);
  }

  /** A team's handoff under `key`: how many times it was sent, and its recorded result. */
  handoff(key: string): RecordedHandoff | undefined {
    return this.handoffs.get(key);
  }

  /**
   * Every handoff with a recorded result, in the order they were sent: what a resumed team accounts for
   * even when the orchestrator does not reach it again (a manager whose own result was recorded).
   */
  completedHandoffs(): (RecordedHandoff & { key: string; done: JournalRecordOf<'handoff.done'> })[] {
    return [...this.handoffs.entries()]
      .filter(
        (entry): entry is [string, RecordedHandoff & { done: JournalRecordOf<'handoff.done'> }] =>
          entry[1].done !== undefined,
      )
      .sort(([, a], [, b]) => a.order - b.order)
      .map(([key, handoff]) => ({ ...handoff, key }));
  }

  /**
   * Queues a record; records are written in order, one after another, in the background. Nothing waits
   * here: the run calls `flush()` where durability matters — before a side effect (its intent and
   * everything before it must be on disk), when it pauses and when it ends. A failed write stops the
   * queue and the next `flush()` says why.
   */
  append(record: JournalRecord): void {
    this.index(record);
    if (this.failure) return;
    this.queued.push(record);
    // Group commit: what the run records in this turn of the event loop goes out as one write.
    if (!this.writing && !this.scheduled) this.scheduled = setImmediate(() => this.startDrain());
  }

  private startDrain(): void {
    if (this.scheduled) {
      clearImmediate(this.scheduled);
      this.scheduled = undefined;
    }
    if (!this.writing && this.queued.length > 0) this.tail = this.drain();
  }

  /** Writes what is queued, in order: everything queued while a write was out goes in the next one. */
  private async drain(): Promise<void> {
    this.writing = true;
    try {
      while (this.queued.length > 0 && !this.failure) {
        const batch = this.queued.splice(0, MAX_BATCH);
        try {
          if (batch.length > 1 && this.writer.appendMany) await this.writer.appendMany(batch);
          else for (const record of batch) await this.writer.append(record);
        } catch (error) {
          this.failure = unavailable(error, this.runId);
        }
      }
    } finally {
      this.writing = false;
    }
  }

  /** The error that stopped the queue, once one did: the run must stop (it cannot record what it does). */
  get failed(): BatonError | undefined {
    return this.failure;
  }

  /** Resolves once every queued record is durable; throws the error that stopped the queue, if any. */
  async flush(): Promise<void> {
    this.startDrain();
    await this.tail;
    if (this.failure) throw this.failure;
  }

  /** Queues a record and waits until it (and everything before it) is durable. */
  async appendNow(record: JournalRecord): Promise<void> {
    this.append(record);
    await this.flush();
  }

  private index(record: JournalRecord): void {
    if (record.type === 'approval.decided') this.decisions.set(record.toolCallId, record.decision);
    else if (record.type === 'approval.requested') this.requested.add(record.toolCallId);
    else if (record.type === 'tool.intent') this.intents.add(record.toolCallId);
    else if (record.type === 'run.resumed' && record.stateId) this.resumedStates.add(record.stateId);
    else if (record.type === 'handoff.sent') {
      const handoff = this.handoffs.get(record.key) ?? { sent: 0, order: Number.MAX_SAFE_INTEGER };
      handoff.sent++;
      handoff.first ??= record;
      this.handoffs.set(record.key, handoff);
    }
  }
}

/** What a team's journal says about one handoff. */
export interface RecordedHandoff {
  /** Times it was sent (a member re-invoked after a pause or a crash is sent again). */
  sent: number;
  /** Its place in the journal, for ordering. */
  order: number;
  first?: JournalRecordOf<'handoff.sent'>;
  done?: JournalRecordOf<'handoff.done'>;
}

/** Journal failures keep their code (a conflict is final); anything else means the store is unavailable. */
function unavailable(error: unknown, runId: string): BatonError {
  if (error instanceof BatonError && error.code.startsWith('JOURNAL_')) return error;
  return new BatonError(
    'JOURNAL_UNAVAILABLE',
    `The journal of run ${runId} cannot be written: ${String((error as Error)?.message ?? error)}`,
    {
      cause: error,
      details: { runId },
    },
  );
}

/**
 * The journal sessions of a team's local members, flushed together when the team pauses or ends. A
 * member then does not wait for its own records at its end: the team's durable end covers them, and a
 * crash before it only means a resumed member replays less and runs a little more. Side effects are not
 * affected: a write still waits for its intent to be durable before it runs.
 */
export class JournalBatch {
  private readonly sessions = new Set<JournalSession>();
  private readonly fresh = new Set<string>();

  /** The team minted `runId` for a member of a run that just started: the member's open skips its read. */
  markFresh(runId: string): void {
    this.fresh.add(runId);
  }

  /** Whether `runId` was minted fresh (once: a later open of the same run reads it). */
  takeFresh(runId: string): boolean {
    return this.fresh.delete(runId);
  }

  add(session: JournalSession): void {
    this.sessions.add(session);
  }

  /** The team's own journal: its records (a member's handoff done, the next one sent) precede each member's. */
  upstream: JournalSession | undefined;

  /**
   * Everything recorded before a side effect durable: the team's records and every member's so far. A
   * member flushes them with its own before the effect, so a crash right after it never leaves a finished
   * member or a tool outcome unrecorded (to run again on resume). The sessions stay for the team's end.
   */
  async flushUpstream(): Promise<void> {
    await Promise.all([this.upstream?.flush(), ...[...this.sessions].map((session) => session.flush())]);
  }

  /** Every member's records durable; the first failure, if any, is thrown after all have been waited for. */
  async flush(): Promise<void> {
    const results = await Promise.allSettled([...this.sessions].map((session) => session.flush()));
    this.sessions.clear();
    const failed = results.find((result) => result.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
  }
}
