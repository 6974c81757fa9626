import { BatonError, type BatonErrorCode, type BatonErrorJSON } from '@baton/core';
import type { z } from 'zod';

/** The HTTP status of each error code a client can meet; the rest follow their category. */
const STATUS: Partial<Record<BatonErrorCode, number>> = {
  UNAUTHORIZED: 401,
  NOT_FOUND: 404,
  TEAM_UNKNOWN: 404,
  AGENT_UNKNOWN: 404,
  RUN_UNKNOWN: 404,
  APPROVAL_UNKNOWN: 404,
  RUN_FINISHED: 409,
  APPROVAL_DECIDED: 409,
  DUPLICATE: 409,
  PAYLOAD_TOO_LARGE: 413,
  INPUT_INVALID: 422,
  RATE_LIMITED: 429,
  NO_RESPONDERS: 503,
  BUS_DISCONNECTED: 503,
  BUS_CLOSED: 503,
  JOURNAL_UNAVAILABLE: 503,
};

export function httpStatusOf(error: BatonError): number {
  // A body that is not JSON at all is malformed (400); JSON that misses its schema is unprocessable (422).
  if (error.code === 'INPUT_INVALID' && error.details?.reason === 'json') return 400;
  const status = STATUS[error.code];
  if (status !== undefined) return status;
  return error.category === 'user' ? 400 : 500;
}

/**
 * The JSON a client gets: the error without its cause chain (causes carry internal messages: stack
 * traces, server addresses). A 500 says only that something failed; the process logs the rest.
 */
export function errorBody(error: BatonError): { error: BatonErrorJSON } {
  const { cause: _cause, ...json } = error.toJSON();
  if (httpStatusOf(error) >= 500 && !STATUS[error.code]) {
    return {
      error: {
        name: 'BatonError',
        code: error.code,
        category: error.category,
        message: 'The gateway failed to handle the request',
        retryable: error.retryable,
      },
    };
  }
  return { error: json };
}

/** A 422 from zod issues: every problem with its path, so a client can fix them all at once. */
export function invalidInput(what: string, error: z.ZodError): BatonError {
  const issues = error.issues.map((issue) => ({
    path: issue.path.map((part) => (typeof part === 'symbol' ? String(part) : part)),
    message: issue.message,
  }));
  const summary = issues
    .slice(0, 5)
    .map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`)
    .join('; ');
  return new BatonError('INPUT_INVALID', `Invalid ${what}: ${summary}`, { details: { issues } });
}

export function notFound(what: string): BatonError {
  return new BatonError('NOT_FOUND', `No ${what}`, { hint: 'See GET /openapi.json for the routes' });
}
