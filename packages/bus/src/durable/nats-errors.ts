import { BatonError, type BatonErrorCode } from '@baton/core';
import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import { ConnectionError, RequestError, TimeoutError } from '@nats-io/transport-node';

/** The server refused a write whose expected last (subject) sequence no longer holds: a CAS loss. */
export function isWrongLastSequence(error: unknown): boolean {
  return (
    error instanceof JetStreamApiError &&
    (error.code === JetStreamApiCodes.StreamWrongLastSequence ||
      error.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}

/**
 * Failures that may pass on their own: no answer in time (the server is restarting, the client is
 * reconnecting) or nobody serving JetStream yet. A closed connection never comes back, so it is not one.
 */
export function isTransient(error: unknown): boolean {
  if (error instanceof TimeoutError || error instanceof ConnectionError) return true;
  if (error instanceof RequestError) return error.isNoResponders() || error.cause instanceof TimeoutError;
  if (error instanceof Error && error.name === 'JetStreamNotEnabled') return true;
  return error instanceof JetStreamApiError && error.status === 503;
}

/** The server could not be used for `what`: a typed error that says whether waiting can help. */
export function storeUnavailable(code: BatonErrorCode, what: string, error: unknown): BatonError {
  if (error instanceof BatonError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new BatonError(code, `${what}: ${message}`, {
    cause: error,
    retryable: isTransient(error) || !(error instanceof JetStreamApiError),
    hint: 'Check that nats-server is reachable and runs with JetStream enabled (-js)',
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
