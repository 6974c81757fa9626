import { BatonError, type HandoffContract, type RunResult } from '@baton/core';
import type { Span } from '@opentelemetry/api';
import { decodeEnvelope, type Envelope } from '../envelope.js';
import type { BusMessage } from '../transport/types.js';
import { checkOutput } from './contract-checks.js';
import { resultIds } from './remote-checks.js';
import { localResult, readRunResult } from './run-result.js';

/**
 * The RunResult a reply carries, checked: a valid envelope that answers `sent`, a result (an error reply
 * becomes a failed result), a valid RunResult, and an output that keeps the contract.
 */
export function readReply(
  settings: { name: string; contract: HandoffContract },
  reply: BusMessage,
  sent: Envelope,
  span: Span,
  started: number,
): RunResult {
  const decoded = decodeEnvelope(reply.string());
  if (!decoded.ok) return failReply(settings, sent, span, started, decoded.error);
  const envelope = decoded.envelope;
  if (envelope.correlationId !== sent.id && envelope.correlationId !== sent.correlationId) {
    return failReply(
      settings,
      sent,
      span,
      started,
      new BatonError('ENVELOPE_INVALID', `The reply answers ${envelope.correlationId}, not ${sent.id}`, {
        details: { reason: 'correlation' },
      }),
    );
  }
  if (envelope.kind === 'error')
    return failReply(settings, sent, span, started, BatonError.fromJSON(envelope.payload));
  if (envelope.kind !== 'result') {
    return failReply(
      settings,
      sent,
      span,
      started,
      new BatonError('ENVELOPE_INVALID', `Expected a result, got a "${envelope.kind}" envelope`),
    );
  }
  const result = readRunResult(envelope.payload);
  if (!result)
    return failReply(
      settings,
      sent,
      span,
      started,
      new BatonError('ENVELOPE_INVALID', 'The reply does not carry a valid RunResult'),
    );
  return checkOutput(result, settings.contract, settings.name);
}

function failReply(
  settings: { name: string },
  sent: Envelope,
  span: Span,
  started: number,
  error: BatonError,
): RunResult {
  return localResult({
    agent: settings.name,
    runId: sent.runId,
    ...resultIds(span),
    error,
    durationMs: performance.now() - started,
  });
}
