import { BatonError, batonErrorJsonSchema } from '@baton/core';
import { z } from 'zod';
import { decodeEnvelope, type Envelope, type EnvelopeKind, SYSTEM_CONTRACTS } from '../envelope.js';
import { summarizeIssues } from '../issues.js';
import { type KillPayload, killPayloadSchema } from '../kill.js';
import { quote } from '../quote.js';
import type { Received } from './worker-options.js';

/**
 * Readers of what arrives on a worker's control subjects (cancel, kill, registry query). Each returns the
 * message's meaning or the typed reason it has none: a control message that cannot be read must be
 * answered and dead-lettered, and above all must not act (an unreadable kill kills nothing).
 */
export type ControlRead<T> =
  | { ok: true; value: T; envelope: Envelope }
  | { ok: false; error: BatonError; envelope: Envelope | undefined };

const cancelPayloadSchema = z.object({ reason: batonErrorJsonSchema.optional() });
const registryQuerySchema = z.object({ action: z.literal('discover') });

function refused(
  error: BatonError,
  envelope?: Envelope,
): { ok: false; error: BatonError; envelope: Envelope | undefined } {
  return { ok: false, error, envelope };
}

/** Decodes and checks the kind and the system contract; the first step of every control message. */
function readKind(
  message: Received,
  maxBytes: number,
  kind: EnvelopeKind,
  contract: string,
): ControlRead<Envelope> {
  const decoded = decodeEnvelope(message.string(), { maxBytes });
  if (!decoded.ok) return refused(decoded.error);
  const envelope = decoded.envelope;
  if (envelope.kind === kind && envelope.contract !== contract) {
    return refused(
      new BatonError(
        'CONTRACT_UNKNOWN',
        `${message.subject} speaks ${contract}, not ${quote(envelope.contract)}`,
        {
          details: { got: envelope.contract, accepted: [contract] },
        },
      ),
      envelope,
    );
  }
  if (envelope.kind !== kind) {
    return refused(
      new BatonError(
        'ENVELOPE_INVALID',
        `Expected a "${kind}" envelope on ${message.subject}, got "${envelope.kind}"`,
        {
          details: { reason: 'kind', kind: envelope.kind, expected: kind },
        },
      ),
      envelope,
    );
  }
  return { ok: true, value: envelope, envelope };
}

function payloadError(what: string, issues: string): BatonError {
  return new BatonError('ENVELOPE_INVALID', `Invalid ${what}: ${issues}`, { details: { reason: 'payload' } });
}

/** A cancel on `baton.<ns>.run.<runId>.cancel`: which run, and why. */
export function readCancel(
  message: Received,
  maxBytes: number,
): ControlRead<{ runId: string; reason: BatonError }> {
  const read = readKind(message, maxBytes, 'cancel', SYSTEM_CONTRACTS.cancel);
  if (!read.ok) return read;
  const envelope = read.envelope;
  // The subject names the run (subject permissions may be set on it); an envelope naming another run
  // would cancel what the sender was not allowed to.
  const subjectRun = message.subject.split('.')[3];
  if (subjectRun !== envelope.runId) {
    return refused(
      new BatonError(
        'ENVELOPE_INVALID',
        `The cancel names run ${quote(envelope.runId)} but came on the subject of run ${quote(subjectRun)}`,
        { details: { reason: 'run' } },
      ),
      envelope,
    );
  }
  const parsed = cancelPayloadSchema.safeParse(envelope.payload ?? {});
  if (!parsed.success) return refused(payloadError('cancel', summarizeIssues(parsed.error)), envelope);
  const reason =
    parsed.data.reason === undefined
      ? new BatonError('ABORTED', 'The caller cancelled the run')
      : BatonError.fromJSON(parsed.data.reason);
  return { ok: true, value: { runId: envelope.runId, reason }, envelope };
}

/** A kill on `baton.<ns>.control.kill`. */
export function readKill(message: Received, maxBytes: number): ControlRead<KillPayload> {
  const read = readKind(message, maxBytes, 'control', SYSTEM_CONTRACTS.control);
  if (!read.ok) return read;
  const parsed = killPayloadSchema.safeParse(read.envelope.payload);
  if (!parsed.success) return refused(payloadError('kill', summarizeIssues(parsed.error)), read.envelope);
  return { ok: true, value: parsed.data, envelope: read.envelope };
}

/** A discovery request on `baton.<ns>.registry.query`. */
export function readRegistryQuery(message: Received, maxBytes: number): ControlRead<Envelope> {
  const read = readKind(message, maxBytes, 'control', SYSTEM_CONTRACTS.registry);
  if (!read.ok) return read;
  const envelope = read.envelope;
  const parsed = registryQuerySchema.safeParse(envelope.payload);
  if (!parsed.success)
    return refused(payloadError('registry query', summarizeIssues(parsed.error)), envelope);
  return { ok: true, value: envelope, envelope };
}

/** What a worker answers to a cancel or a kill that asked for an answer: it was read, and whether it acted. */
export interface ControlAck {
  action: 'ack';
  of: 'cancel' | 'kill';
  /** True when it stopped something (the run is here; the kill names this agent). */
  applied: boolean;
}

export const controlAckSchema = z.object({
  action: z.literal('ack'),
  of: z.enum(['cancel', 'kill']),
  applied: z.boolean(),
});
