import { randomBytes } from 'node:crypto';
import {
  BatonError,
  checkJournalLastSeq,
  checkRunId,
  decodeJournalEntries,
  encodeJournalEntries,
  type JournalEntry,
  type JournalOpenOptions,
  type JournalRecord,
  type JournalWriter,
  journalFenced,
  type RunJournal,
} from '@baton/core';
import { DiscardPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { headers, nanos } from '@nats-io/transport-node';
import { jetstreamNames, resolveNamespace, subjects } from '../subjects.js';
import type { NatsBus } from '../transport/nats.js';
import { ensureStream } from './infra.js';
import {
  type JournalContext,
  lastOnSubject,
  listRuns,
  readRunRecords,
  type StoredRecord,
  WRITER_HEADER,
} from './journal-read.js';
import { isTransient, isWrongLastSequence, sleep, storeUnavailable } from './nats-errors.js';

export interface NatsJournalOptions {
  /** The tenant (default `default`): the stream is `BATON_<ns>_JOURNAL`. */
  namespace?: string;
  /** The server drops records older than this (default 30 days). */
  maxAgeMs?: number;
  /** The stream's size cap; past it the oldest records go first (default 1 GiB). */
  maxBytes?: number;
  /** The longest any one call waits for the server before JOURNAL_UNAVAILABLE (default 5 s). */
  timeoutMs?: number;
}

export const DEFAULT_NATS_JOURNAL_MAX_AGE_MS = 30 * 24 * 60 * 60 * 1000;
export const DEFAULT_NATS_JOURNAL_MAX_BYTES = 1024 * 1024 * 1024;
/** A retried publish within this window is recognised by its Nats-Msg-Id and stored once. */
const DUPLICATE_WINDOW_MS = 2 * 60 * 1000;
/** Opens that lose a race with another writer re-read and try again this many times. */
const OPEN_ATTEMPTS = 5;

const encoder = new TextEncoder();
/**
 * Writer nonces are this process's random prefix and a counter: unique across processes and opens
 * without asking the system for random bytes on every open (a team run opens one writer per member).
 */
const NONCE_PREFIX = randomBytes(12).toString('base64url');
let nonces = 0;

/**
 * Run journals on a JetStream stream, one subject per run (`baton.<ns>.journal.<runId>`). Single writer
 * per run: each append expects the subject's last sequence to be the writer's own last record, so once
 * another writer has appended (a resume's `run.opened`) the old one gets JOURNAL_CONFLICT. Each record
 * carries `Nats-Msg-Id: <runId>:<seq>`, so a publish retried after a lost ack is stored once.
 */
export function natsJournal(bus: NatsBus, options: NatsJournalOptions = {}): RunJournal {
  const namespace = resolveNamespace('natsJournal', options.namespace);
  const timeoutMs = options.timeoutMs ?? 5_000;
  const maxAgeMs = options.maxAgeMs ?? DEFAULT_NATS_JOURNAL_MAX_AGE_MS;
  const maxBytes = options.maxBytes ?? DEFAULT_NATS_JOURNAL_MAX_BYTES;
  if (!(timeoutMs > 0) || !(maxAgeMs > DUPLICATE_WINDOW_MS) || !(maxBytes > 0)) {
    throw new BatonError(
      'CONFIG_INVALID',
      'natsJournal: timeoutMs and maxBytes must be positive, maxAgeMs above two minutes',
    );
  }
  let context: Promise<JournalContext> | undefined;
  const ready = (): Promise<JournalContext> => {
    if (bus.connection.isClosed()) {
      return Promise.reject(new BatonError('JOURNAL_UNAVAILABLE', 'natsJournal: the bus is closed'));
    }
    context ??= connect(bus, namespace, { timeoutMs, maxAgeMs, maxBytes }).catch((error: unknown) => {
      context = undefined;
      throw error;
    });
    return context;
  };

  return {
    async open(runId: string, writer: string, options: JournalOpenOptions = {}): Promise<JournalWriter> {
      checkRunId('natsJournal.open', runId);
      const ctx = await ready();
      // No read: the first append expects the subject to be empty, so a run that has records after all
      // refuses it (JOURNAL_CONFLICT) and fences nobody.
      if (options.fresh) return new NatsJournalWriter(ctx, runId, [], 0);
      const conditional = options.ifLastSeq !== undefined;
      for (let attempt = 1; ; attempt++) {
        const { entries, lastStreamSeq } = await readRunRecords(ctx, runId);
        checkJournalLastSeq(runId, entries.at(-1)?.seq ?? 0, options);
        const handle = new NatsJournalWriter(ctx, runId, entries, lastStreamSeq);
        if (entries.length === 0) return handle;
        try {
          await handle.append({ type: 'run.opened', at: Date.now(), writer });
          return handle;
        } catch (error) {
          // Someone appended between our read and our takeover: read again and take over after them —
          // unless the open was conditional on what we read (then it is refused, and nobody is fenced).
          if (!BatonError.is(error, 'JOURNAL_CONFLICT') || conditional || attempt >= OPEN_ATTEMPTS)
            throw error;
        }
      }
    },
    async read(runId: string): Promise<JournalEntry[]> {
      checkRunId('natsJournal.read', runId);
      return (await readRunRecords(await ready(), runId)).entries;
    },
    async runs(options = {}): Promise<string[]> {
      return listRuns(await ready(), options.limit ?? 100);
    },
  };
}

async function connect(
  bus: NatsBus,
  namespace: string,
  limits: { timeoutMs: number; maxAgeMs: number; maxBytes: number },
): Promise<JournalContext> {
  const nc = bus.connection;
  const stream = jetstreamNames.journalStream(namespace);
  try {
    const jsm = await jetstreamManager(nc, { timeout: limits.timeoutMs });
    await ensureStream(jsm, {
      name: stream,
      subjects: [subjects.allJournals(namespace)],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      max_age: nanos(limits.maxAgeMs),
      max_bytes: limits.maxBytes,
      discard: DiscardPolicy.Old,
      duplicate_window: nanos(DUPLICATE_WINDOW_MS),
      // Reads by subject (a run's last record, then its others) are direct gets.
      allow_direct: true,
    });
    return { nc, js: jetstream(nc, { timeout: limits.timeoutMs }), jsm, stream, namespace, ...limits };
  } catch (error) {
    throw storeUnavailable('JOURNAL_UNAVAILABLE', `Cannot open the journal stream ${stream}`, error);
  }
}

class NatsJournalWriter implements JournalWriter {
  readonly existing: readonly JournalEntry[];
  /** Sequence (in the run) of our last record. */
  private count: number;
  /** Stream sequence of the run's last record as this writer knows it: what every append expects. */
  private lastStreamSeq: number;
  private fencedOff = false;
  /** Tells this writer's records from any other's, so a duplicate or a CAS loss can be judged. */
  private readonly nonce = `${NONCE_PREFIX}.${(++nonces).toString(36)}`;
  private readonly subject: string;
  /** Appends go out one at a time, in call order: each one's expectation is the previous one's sequence. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly ctx: JournalContext,
    readonly runId: string,
    existing: JournalEntry[],
    lastStreamSeq: number,
  ) {
    this.existing = existing;
    this.count = existing.at(-1)?.seq ?? 0;
    this.lastStreamSeq = lastStreamSeq;
    this.subject = subjects.journal(ctx.namespace, runId);
  }

  async append(record: JournalRecord): Promise<JournalEntry> {
    const [entry] = await this.appendMany([record]);
    return entry as JournalEntry;
  }

  /** Consecutive records as one message: one round trip (and one sequence check) for all of them. */
  appendMany(records: readonly JournalRecord[]): Promise<JournalEntry[]> {
    const result = this.queue.then(() => this.appendNow(records));
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async appendNow(records: readonly JournalRecord[]): Promise<JournalEntry[]> {
    if (this.fencedOff) throw journalFenced(this.runId);
    const deadline = Date.now() + this.ctx.timeoutMs;
    for (let attempt = 0; ; attempt++) {
      const seq = this.count + 1;
      const { text, entries } = encodeJournalEntries(this.runId, seq, records);
      const data = encoder.encode(text);
      const header = headers();
      header.set(WRITER_HEADER, this.nonce);
      try {
        const ack = await this.ctx.js.publish(this.subject, data, {
          msgID: `${this.runId}:${seq}`,
          expect: { lastSubjectSequence: this.lastStreamSeq },
          headers: header,
          timeout: Math.max(100, Math.min(2_000, deadline - Date.now())),
        });
        if (!ack.duplicate) {
          this.count = seq + entries.length - 1;
          this.lastStreamSeq = ack.seq;
          return entries;
        }
        // That message id is stored already: our own earlier attempt whose ack was lost, or a rival's
        // record at the same position (the server checks duplicates before expectations).
      } catch (error) {
        if (!isWrongLastSequence(error)) {
          if (isTransient(error) && !this.ctx.nc.isClosed() && Date.now() < deadline) {
            await sleep(Math.min(50 * 2 ** attempt, 500));
            continue;
          }
          throw storeUnavailable(
            'JOURNAL_UNAVAILABLE',
            `Cannot append to the journal of run ${this.runId}`,
            error,
          );
        }
      }
      const stored = await this.reconcile(seq, data);
      if (stored) return stored;
    }
  }

  /**
   * After a duplicate or a CAS loss: the run's last record decides. Not ours → another writer took the run
   * over, and this writer is fenced for good. Ours, and this very record → the earlier attempt landed.
   * Ours but an earlier record → an append that reported failure did land; it stays, and this record goes
   * after it (returns undefined to publish again).
   */
  private async reconcile(seq: number, data: Uint8Array): Promise<JournalEntry[] | undefined> {
    const last: StoredRecord | undefined = await lastOnSubject(this.ctx, this.subject);
    if (!last || last.writer !== this.nonce || last.seq <= this.lastStreamSeq) {
      this.fencedOff = true;
      throw journalFenced(this.runId);
    }
    const stored = decodeJournalEntries(
      new TextDecoder().decode(last.data),
      `stream ${this.ctx.stream} seq ${last.seq}`,
      { runId: this.runId },
    );
    const first = stored[0] as JournalEntry;
    const lastSeq = (stored.at(-1) as JournalEntry).seq;
    if (lastSeq <= this.count) {
      this.fencedOff = true;
      throw journalFenced(this.runId);
    }
    this.count = lastSeq;
    this.lastStreamSeq = last.seq;
    return first.seq === seq && sameBytes(last.data, data) ? stored : undefined;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}
