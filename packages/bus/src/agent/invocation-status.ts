import { BatonError } from '@baton/core';
import { z } from 'zod';
import { decodeEnvelope, type Envelope, encodeEnvelope, readEnvelope } from '../envelope.js';
import { nextId } from '../ids.js';
import { summarizeIssues } from '../issues.js';
import { quote } from '../quote.js';
import type { Bus, BusMessage } from '../transport/types.js';
import type { RecentResults } from './recent-results.js';

/**
 * "What became of these invocations?" on `baton.<ns>.agent.<name>.status`, asked by a caller whose
 * replies a reconnect may have lost, and the answers of the instances that know.
 */
export const STATUS_CONTRACT = 'baton.status@1';
/** Invocations one question may name; a caller with more waiting asks in several. */
export const STATUS_MAX_CALLS = 256;

const token = z.string().min(1).max(256);

const statusQuerySchema = z.object({
  calls: z
    .array(z.object({ id: token, runId: token }))
    .min(1)
    .max(STATUS_MAX_CALLS),
});
export type StatusQuery = z.infer<typeof statusQuerySchema>;

/**
 * `running`: the instance still runs it, its normal reply will come. `done`: the reply, as published.
 * `resent`: the reply was too large to quote, so it was published again on the call's own reply subject.
 */
export type CallStatus =
  | { id: string; state: 'running' }
  | { id: string; state: 'done'; reply: Envelope }
  | { id: string; state: 'resent' };

const statusAnswerSchema = z.object({
  instance: z.string().max(256),
  calls: z
    .array(
      z.discriminatedUnion('state', [
        z.object({ id: token, state: z.literal('running') }),
        z.object({ id: token, state: z.literal('done'), reply: z.unknown() }),
        z.object({ id: token, state: z.literal('resent') }),
      ]),
    )
    .max(STATUS_MAX_CALLS),
});

/** Room left in an answer for its own envelope around the quoted replies. */
const ANSWER_OVERHEAD_BYTES = 4_096;

function statusEnvelope<P>(from: string, to: string, payload: P, answering?: Envelope): Envelope<P> {
  const id = nextId();
  return {
    v: 1,
    id,
    kind: 'control',
    contract: STATUS_CONTRACT,
    from,
    to,
    runId: answering?.runId ?? id,
    correlationId: answering?.id ?? id,
    causationId: answering?.id ?? null,
    deadline: null,
    budget: {},
    attempt: 1,
    hop: 0,
    payload,
  };
}

/** The question, ready to publish. */
export function statusQueryData(from: string, agent: string, calls: StatusQuery['calls']): string {
  return encodeEnvelope(statusEnvelope(from, agent, { calls }));
}

export type StatusRead<T> =
  | { ok: true; value: T; envelope: Envelope }
  | { ok: false; error: BatonError; envelope: Envelope | undefined };

function readStatusEnvelope(message: BusMessage, maxBytes: number): StatusRead<Envelope> {
  const decoded = decodeEnvelope(message.string(), { maxBytes });
  if (!decoded.ok) return { ok: false, error: decoded.error, envelope: undefined };
  const envelope = decoded.envelope;
  if (envelope.kind !== 'control' || envelope.contract !== STATUS_CONTRACT) {
    const error = new BatonError(
      'CONTRACT_UNKNOWN',
      `A status message is a "control" envelope of ${STATUS_CONTRACT}, not a ${quote(envelope.kind)} of ${quote(envelope.contract)}`,
      { details: { got: envelope.contract, accepted: [STATUS_CONTRACT] } },
    );
    return { ok: false, error, envelope };
  }
  return { ok: true, value: envelope, envelope };
}

function invalidPayload(what: string, issues: string): BatonError {
  return new BatonError('ENVELOPE_INVALID', `Invalid ${what}: ${issues}`, { details: { reason: 'payload' } });
}

export function readStatusQuery(message: BusMessage, maxBytes: number): StatusRead<StatusQuery> {
  const read = readStatusEnvelope(message, maxBytes);
  if (!read.ok) return read;
  const parsed = statusQuerySchema.safeParse(read.envelope.payload);
  if (!parsed.success) {
    return {
      ok: false,
      error: invalidPayload('status query', summarizeIssues(parsed.error)),
      envelope: read.envelope,
    };
  }
  return { ok: true, value: parsed.data, envelope: read.envelope };
}

/** An instance's answer; a quoted reply that is not a valid envelope makes the whole answer invalid. */
export function readStatusAnswer(
  message: BusMessage,
  maxBytes: number,
): StatusRead<{ instance: string; calls: CallStatus[] }> {
  const read = readStatusEnvelope(message, maxBytes);
  if (!read.ok) return read;
  const parsed = statusAnswerSchema.safeParse(read.envelope.payload);
  if (!parsed.success) {
    return {
      ok: false,
      error: invalidPayload('status answer', summarizeIssues(parsed.error)),
      envelope: read.envelope,
    };
  }
  const calls: CallStatus[] = [];
  for (const call of parsed.data.calls) {
    if (call.state !== 'done') {
      calls.push(call);
      continue;
    }
    const reply = readEnvelope(call.reply);
    if (!reply) {
      return {
        ok: false,
        error: invalidPayload('status answer', `the reply quoted for ${quote(call.id)} is not an envelope`),
        envelope: read.envelope,
      };
    }
    calls.push({ id: call.id, state: 'done', reply });
  }
  return { ok: true, value: { instance: parsed.data.instance, calls }, envelope: read.envelope };
}

/** What answering needs of a worker. */
export interface StatusSource {
  readonly bus: Bus;
  readonly name: string;
  readonly instance: string;
  readonly recent: RecentResults | undefined;
  isRunning(runId: string): boolean;
}

/**
 * Answers a status query with what this instance knows; says nothing when it knows none of the calls
 * (another instance ran them, and a silent "unknown" from everyone is what makes a caller give up).
 * Answers are split so each fits the bus.
 */
export function answerStatusQuery(
  source: StatusSource,
  message: BusMessage,
  refuse: (error: BatonError, envelope: Envelope | undefined) => void,
): void {
  const bus = source.bus;
  const query = readStatusQuery(message, bus.maxPayload);
  if (!query.ok) {
    refuse(query.error, query.envelope);
    return;
  }
  const replyTo = message.reply;
  if (replyTo === undefined) {
    const error = new BatonError('ENVELOPE_INVALID', 'A status query needs a reply subject', {
      details: { reason: 'reply' },
    });
    refuse(error, query.envelope);
    return;
  }
  const limit = Math.max(1, bus.maxPayload - ANSWER_OVERHEAD_BYTES);
  let batch: CallStatus[] = [];
  let batchBytes = 0;
  const flush = () => {
    if (batch.length === 0) return;
    const answer = statusEnvelope(
      source.instance,
      query.envelope.from,
      { instance: source.instance, calls: batch },
      query.envelope,
    );
    batch = [];
    batchBytes = 0;
    bus.publish(replyTo, encodeEnvelope(answer));
  };
  const calls = query.value.calls;
  const recent = source.recent?.getMany(calls.map((call) => call.id));
  for (const call of calls) {
    const done = recent?.get(call.id);
    if (done) {
      const bytes = Buffer.byteLength(done.data, 'utf8');
      if (bytes > limit) {
        bus.publish(done.replyTo, done.data);
        batch.push({ id: call.id, state: 'resent' });
        batchBytes += 64;
        continue;
      }
      if (batchBytes + bytes > limit) flush();
      const reply = readEnvelope(JSON.parse(done.data));
      if (reply) {
        batch.push({ id: call.id, state: 'done', reply });
        batchBytes += bytes;
        continue;
      }
    }
    if (source.isRunning(call.runId)) {
      batch.push({ id: call.id, state: 'running' });
      batchBytes += 64;
    }
  }
  flush();
}
