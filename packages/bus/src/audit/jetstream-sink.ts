import {
  type AuditEntry,
  type AuditSink,
  type AuditTail,
  auditConflict,
  auditTailOf,
  BatonError,
  decodeAuditEntry,
  encodeAuditEntry,
  parseAuditText,
  sameAuditTail,
} from '@baton/core';
import {
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { ensureStream } from '../durable/infra.js';
import { isTransient, isWrongLastSequence, sleep, storeUnavailable } from '../durable/nats-errors.js';
import { jetstreamNames, resolveNamespace, subjects } from '../subjects.js';
import type { NatsBus } from '../transport/nats.js';

export interface NatsAuditSinkOptions {
  /** The tenant (default `default`): the stream is `BATON_<ns>_AUDIT`, the subject `baton.<ns>.audit`. */
  namespace?: string;
  /** Another stream name (it must deny delete and purge, or the sink refuses it). */
  stream?: string;
  /** The longest any one call waits for the server before AUDIT_UNAVAILABLE (default 5 s). */
  timeoutMs?: number;
  /** Create the stream when it is missing (default true); readers such as `baton audit verify` pass false. */
  create?: boolean;
}

/** A republished entry within this window (a retry after a lost ack) is recognised by its id and stored once. */
const DUPLICATE_WINDOW_MS = 2 * 60 * 1000;
/** Entries read per round trip when reading the whole log. */
const READ_BATCH = 1_000;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

interface Context {
  js: JetStreamClient;
  jsm: JetStreamManager;
  /** Reads the tail with a shorter time per attempt, so a lost request is tried again within the limit. */
  tailReader: JetStreamManager;
  stream: string;
  subject: string;
}

/** The longest one read of the tail waits before it is tried again (within the sink's time limit). */
const TAIL_ATTEMPT_MS = 2_000;

/**
 * The audit log on a JetStream stream that cannot be edited: created with `deny_delete` and `deny_purge`
 * (the server refuses to remove a message or purge the stream, for everyone, and refuses to lift either
 * setting later), no max age and `discard:
 * new`, so a full stream refuses new entries instead of dropping the oldest. Every append expects the
 * subject's last sequence to be the one this sink last saw, so two writers never interleave one chain: the
 * loser gets AUDIT_CONFLICT and its log chains the record again after the winner.
 *
 * What the stream settings cannot stop: deleting the whole stream, or editing its files on the server's
 * disk. The first is an account permission (grant `$JS.API.STREAM.DELETE` to operators only); both are
 * what the signed heads are for.
 */
export function natsAuditSink(bus: NatsBus, options: NatsAuditSinkOptions = {}): AuditSink {
  const namespace = resolveNamespace('natsAuditSink', options.namespace);
  const timeoutMs = options.timeoutMs ?? 5_000;
  if (!(timeoutMs > 0)) throw new BatonError('CONFIG_INVALID', 'natsAuditSink: timeoutMs must be positive');
  const stream = options.stream ?? jetstreamNames.auditStream(namespace);
  const subject = subjects.audit(namespace);
  let context: Promise<Context> | undefined;
  /** The stored tail as this sink last saw it, with its stream sequence: what the next append expects. */
  let last: { tail: AuditTail | undefined; streamSeq: number } | undefined;
  let queue: Promise<unknown> = Promise.resolve();

  const ready = (): Promise<Context> => {
    if (bus.connection.isClosed()) {
      return Promise.reject(new BatonError('AUDIT_UNAVAILABLE', 'natsAuditSink: the bus is closed'));
    }
    context ??= connect(bus, stream, subject, timeoutMs, options.create ?? true).catch((error: unknown) => {
      context = undefined;
      throw error;
    });
    return context;
  };

  const readTail = async (ctx: Context) => {
    let message: Awaited<ReturnType<JetStreamManager['direct']['getMessage']>>;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        message = await ctx.tailReader.direct.getMessage(ctx.stream, { last_by_subj: ctx.subject });
        break;
      } catch (error) {
        // A read is safe to repeat: one lost on a busy server is asked again while time is left.
        if (isTransient(error) && !bus.connection.isClosed() && Date.now() + 50 < deadline) {
          await sleep(50);
          continue;
        }
        throw storeUnavailable('AUDIT_UNAVAILABLE', `Cannot read the audit stream ${ctx.stream}`, error);
      }
    }
    last = message
      ? {
          tail: auditTailOf(
            decodeAuditEntry(parseAuditText(decoder.decode(message.data)), where(ctx, message.seq)),
          ),
          streamSeq: message.seq,
        }
      : { tail: undefined, streamSeq: 0 };
    return last;
  };

  const appendNow = async (entry: AuditEntry, after: AuditTail | undefined): Promise<void> => {
    const ctx = await ready();
    const seen = last && sameAuditTail(last.tail, after) ? last : await readTail(ctx);
    if (!sameAuditTail(seen.tail, after)) throw auditConflict(ctx.stream, seen.tail, after);
    const data = encoder.encode(encodeAuditEntry(entry));
    const id =
      'head' in entry
        ? `h${entry.head.seq}-${entry.head.hash}-${entry.head.at}`
        : `r${entry.record.seq}-${entry.record.hash}`;
    const deadline = Date.now() + timeoutMs;
    for (let attempt = 0; ; attempt++) {
      try {
        const ack = await ctx.js.publish(ctx.subject, data, {
          msgID: id,
          expect: { lastSubjectSequence: seen.streamSeq },
          timeout: Math.max(100, Math.min(2_000, deadline - Date.now())),
        });
        // A duplicate is this very entry, stored by an earlier attempt whose ack was lost.
        last = { tail: auditTailOf(entry), streamSeq: ack.seq };
        return;
      } catch (error) {
        if (isWrongLastSequence(error)) {
          last = undefined;
          throw auditConflict(ctx.stream, undefined, after);
        }
        if (isTransient(error) && !bus.connection.isClosed() && Date.now() < deadline) {
          await sleep(Math.min(50 * 2 ** attempt, 500));
          continue;
        }
        last = undefined;
        throw storeUnavailable('AUDIT_UNAVAILABLE', `Cannot append to the audit stream ${ctx.stream}`, error);
      }
    }
  };

  return {
    async tail() {
      return (await readTail(await ready())).tail;
    },
    append(entry, after) {
      // One at a time: each append's expectation is the sequence the previous one got.
      const result = queue.then(() => appendNow(entry, after));
      queue = result.catch(() => undefined);
      return result;
    },
    async readRaw() {
      return readAll(await ready(), timeoutMs);
    },
    async close() {},
  };
}

async function connect(
  bus: NatsBus,
  stream: string,
  subject: string,
  timeoutMs: number,
  create: boolean,
): Promise<Context> {
  const nc = bus.connection;
  let jsm: JetStreamManager;
  try {
    jsm = await jetstreamManager(nc, { timeout: timeoutMs });
    if (create)
      await ensureStream(jsm, {
        name: stream,
        subjects: [subject],
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
        // Audit is kept: no max age, and a full stream refuses new entries rather than drop old ones.
        max_age: 0,
        discard: DiscardPolicy.New,
        deny_delete: true,
        deny_purge: true,
        duplicate_window: nanos(DUPLICATE_WINDOW_MS),
        // The tail is read by subject, a direct get.
        allow_direct: true,
      });
  } catch (error) {
    throw storeUnavailable('AUDIT_UNAVAILABLE', `Cannot open the audit stream ${stream}`, error);
  }
  let config: Awaited<ReturnType<JetStreamManager['streams']['info']>>['config'];
  try {
    config = (await jsm.streams.info(stream)).config;
  } catch (error) {
    if (!create && error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound) {
      throw new BatonError('AUDIT_UNAVAILABLE', `There is no audit stream ${stream}`, {
        retryable: false,
        hint: 'Check the --namespace (or --stream): the stream is created by the first record written',
      });
    }
    throw storeUnavailable('AUDIT_UNAVAILABLE', `Cannot open the audit stream ${stream}`, error);
  }
  // A stream someone else created without these would take deletions quietly: refuse it instead.
  if (
    !config.deny_delete ||
    !config.deny_purge ||
    !config.subjects?.includes(subject) ||
    !config.allow_direct
  ) {
    throw new BatonError(
      'CONFIG_INVALID',
      `The stream ${stream} exists but is not an audit stream: it must hold ${subject}, deny delete and purge, and allow direct gets`,
      { hint: 'Use another stream name, or recreate it (an audit stream cannot be edited after the fact)' },
    );
  }
  const tailReader = await jetstreamManager(nc, {
    timeout: Math.min(TAIL_ATTEMPT_MS, timeoutMs),
    checkAPI: false,
  });
  return { js: jetstream(nc, { timeout: timeoutMs }), jsm, tailReader, stream, subject };
}

/** Every entry on the audit subject, in stream order, parsed but not validated (the verifier does that). */
async function readAll(ctx: Context, timeoutMs: number): Promise<unknown[]> {
  const entries: unknown[] = [];
  try {
    // The subject's last message, not the stream's: a stream given by name may hold other subjects too.
    const last = await ctx.jsm.direct.getMessage(ctx.stream, { last_by_subj: ctx.subject });
    if (!last) return entries;
    const lastSeq = last.seq;
    const consumer = await ctx.js.consumers.get(ctx.stream, {
      filter_subjects: ctx.subject,
      deliver_policy: DeliverPolicy.All,
    });
    try {
      for (let seq = 0; seq < lastSeq; ) {
        const before = seq;
        const batch = await consumer.fetch({ max_messages: READ_BATCH, expires: Math.max(1_000, timeoutMs) });
        for await (const message of batch) {
          entries.push(parseAuditText(decoder.decode(message.data)));
          seq = message.seq;
          if (seq >= lastSeq) break;
        }
        if (seq === before) {
          throw new BatonError('AUDIT_UNAVAILABLE', `Reading the audit stream ${ctx.stream} timed out`, {
            details: { read: entries.length, lastSeq },
          });
        }
      }
    } finally {
      void consumer.delete().catch(() => undefined);
    }
  } catch (error) {
    throw storeUnavailable('AUDIT_UNAVAILABLE', `Cannot read the audit stream ${ctx.stream}`, error);
  }
  return entries;
}

function where(ctx: Context, seq: number): string {
  return `stream ${ctx.stream} seq ${seq}`;
}
