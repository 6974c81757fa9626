import { BatonError, type RunEvent, type RunResult } from '@baton/core';
import { type Envelope, SYSTEM_CONTRACTS } from '../envelope.js';
import { nextId } from '../ids.js';

/** A completed result whose output broke the contract: failed, the work done still accounted for. */
export function outputRejected(result: RunResult, error: BatonError): RunResult {
  return {
    ...result,
    status: 'failed',
    output: undefined,
    error: error.toJSON(),
    partial: { ...result.partial, summary: `${result.agent} failed: ${error.message}` },
  };
}

/** An envelope answering `request` (or standing alone when the request could not be read). */
function answer<P>(
  from: string,
  request: Envelope | undefined,
  kind: Envelope['kind'],
  contract: string,
  payload: P,
): Envelope<P> {
  const id = nextId();
  const envelope: Envelope<P> = {
    v: 1,
    id,
    kind,
    contract,
    from,
    to: request?.from ?? '',
    runId: request?.runId ?? id,
    correlationId: request?.id ?? id,
    causationId: request?.id ?? null,
    deadline: request?.deadline ?? null,
    budget: {},
    attempt: request?.attempt ?? 1,
    hop: request?.hop ?? 0,
    payload,
  };
  // An answer belongs to the tenant, user and session of what it answers (results, errors, events alike).
  if (request?.tenant !== undefined) envelope.tenant = request.tenant;
  if (request?.user !== undefined) envelope.user = request.user;
  if (request?.session !== undefined) envelope.session = request.session;
  return envelope;
}

export function resultEnvelope(from: string, request: Envelope, result: RunResult): Envelope<RunResult> {
  return answer(from, request, 'result', request.contract, result);
}

export function errorEnvelope(
  from: string,
  request: Envelope | undefined,
  error: BatonError,
  fallback?: Envelope,
): Envelope {
  const about = request ?? fallback;
  return answer(from, about, 'error', about?.contract ?? SYSTEM_CONTRACTS.error, error.toJSON());
}

export function eventEnvelope(from: string, request: Envelope, event: RunEvent): Envelope<RunEvent> {
  return answer(from, request, 'event', SYSTEM_CONTRACTS.event, event);
}

/** A reply too large for the bus becomes a failed result that keeps the accounting (or an error). */
export function oversizedReply(from: string, envelope: Envelope, size: number, max: number): Envelope {
  const error = new BatonError(
    'PAYLOAD_TOO_LARGE',
    `The result is ${size} bytes; the bus carries at most ${max}`,
    {
      details: { size, max },
    },
  );
  if (envelope.kind !== 'result') return errorEnvelope(from, undefined, error, envelope);
  const result = envelope.payload as RunResult;
  const slim: RunResult = {
    ...outputRejected(result, error),
    partial: {
      summary: `${result.agent} produced a result too large to send: ${error.message}`,
      toolResults: [],
      missing: result.partial.missing,
    },
  };
  return { ...envelope, payload: slim };
}
