import { BatonError, type BatonErrorCode, isAbortError } from '../errors.js';
import type { CallScope } from './call-scope.js';

type ErrorClass = abstract new (...args: never[]) => Error;

/** The error classes of a loaded SDK; both SDKs export these four names. */
export interface SdkErrorClasses {
  APIError: ErrorClass;
  APIConnectionError: ErrorClass;
  APIConnectionTimeoutError: ErrorClass;
  APIUserAbortError: ErrorClass;
}

export interface ErrorContext {
  provider: string;
  model: string;
  sdk?: SdkErrorClasses | undefined;
  scope?: CallScope | undefined;
}

interface ApiErrorFields {
  status?: unknown;
  headers?: unknown;
  error?: unknown;
  requestID?: unknown;
  code?: unknown;
  type?: unknown;
  param?: unknown;
}

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

const CONTEXT_LENGTH =
  /context[_ ]length|context window|maximum context|prompt is too long|too many (input )?tokens|reduce the length|input is too long/i;

/**
 * Turns whatever a provider SDK threw into a BatonError with the right code and `retryable` flag,
 * keeping the provider's message, HTTP status, error type and request id in `details`.
 * An abort or timeout caused by the call's own scope wins over the SDK's rendering of it.
 */
export function toProviderError(error: unknown, context: ErrorContext): BatonError {
  const scoped = context.scope?.failure();
  if (scoped) return scoped;
  if (error instanceof BatonError) return error;
  const label = `${context.provider} ${context.model}`;
  const base = { provider: context.provider, model: context.model };
  const sdk = context.sdk;

  if (sdk && error instanceof sdk.APIUserAbortError) {
    return new BatonError('ABORTED', `${label}: the request was aborted`, { cause: error, details: base });
  }
  if (sdk && error instanceof sdk.APIConnectionTimeoutError) {
    return new BatonError('PROVIDER_TIMEOUT', `${label}: the request timed out`, {
      cause: error,
      details: base,
    });
  }
  if (sdk && error instanceof sdk.APIConnectionError) {
    return new BatonError('PROVIDER_NETWORK', `${label}: connection failed (${describeCause(error)})`, {
      cause: error,
      details: base,
    });
  }
  if (sdk && error instanceof sdk.APIError) return fromApiError(error, label, base);
  if (error instanceof SyntaxError) {
    return new BatonError('PROVIDER_RESPONSE_INVALID', `${label}: the response is not valid JSON`, {
      cause: error,
      details: { ...base, providerMessage: error.message },
    });
  }
  const networkCode = findNetworkCode(error);
  if (networkCode !== undefined || isTerminated(error)) {
    return new BatonError('PROVIDER_NETWORK', `${label}: the connection broke (${describeCause(error)})`, {
      cause: error,
      details: { ...base, ...(networkCode ? { errno: networkCode } : {}) },
    });
  }
  if (isAbortError(error)) {
    return new BatonError('PROVIDER_NETWORK', `${label}: the request was cut off`, {
      cause: error,
      details: base,
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  if (/credential|api[_ ]?key|authentication method/i.test(message)) {
    return new BatonError('MODEL_NOT_CONFIGURED', `${label}: ${message}`, { cause: error, details: base });
  }
  return new BatonError('INTERNAL', `${label}: ${message}`, { cause: error, details: base });
}

function fromApiError(
  error: Error & ApiErrorFields,
  label: string,
  base: Record<string, unknown>,
): BatonError {
  const status = typeof error.status === 'number' ? error.status : undefined;
  const body = asRecord(error.error);
  const nested = asRecord(body?.error);
  const providerMessage = stringOr(nested?.message) ?? stringOr(body?.message) ?? error.message;
  const type = stringOr(error.type) ?? stringOr(nested?.type) ?? stringOr(body?.type);
  const errorCode = stringOr(error.code) ?? stringOr(nested?.code) ?? stringOr(body?.code);
  const headers = error.headers instanceof Headers ? error.headers : undefined;
  const requestId =
    stringOr(error.requestID) ?? headers?.get('x-request-id') ?? headers?.get('request-id') ?? undefined;
  const retryAfterMs = headers ? retryAfterFromHeaders(headers) : undefined;
  const details: Record<string, unknown> = { ...base, providerMessage };
  if (status !== undefined) details.status = status;
  if (type !== undefined) details.type = type;
  if (errorCode !== undefined) details.errorCode = errorCode;
  if (requestId) details.requestId = requestId;
  if (retryAfterMs !== undefined) details.retryAfterMs = retryAfterMs;

  const code = classify(status, type, errorCode, providerMessage);
  const where = status === undefined ? 'in the stream' : `HTTP ${status}`;
  const options: ConstructorParameters<typeof BatonError>[2] = { cause: error, details };
  // A 429 for an exhausted quota or billing limit will not clear by waiting.
  if (code === 'PROVIDER_RATE_LIMIT' && /insufficient_quota|billing/i.test(`${errorCode} ${type}`)) {
    options.retryable = false;
    options.hint = 'The account is out of quota or credit; retrying will not help.';
  }
  if (code === 'PROVIDER_CONTEXT_LENGTH') {
    options.hint =
      'Shorten the conversation (a memory strategy with a token budget) or use a larger-context model.';
  }
  if (code === 'PROVIDER_AUTH') options.hint = 'Check the API key and that it may use this model.';
  return new BatonError(code, `${label}: ${providerMessage} (${where})`, options);
}

function classify(
  status: number | undefined,
  type: string | undefined,
  errorCode: string | undefined,
  message: string,
): BatonErrorCode {
  const kind = `${type ?? ''} ${errorCode ?? ''}`;
  if (/overloaded/i.test(kind) || status === 529) return 'PROVIDER_OVERLOADED';
  if (/rate_limit|insufficient_quota/i.test(kind) || status === 429) return 'PROVIDER_RATE_LIMIT';
  if (
    /context_length|context_window/i.test(kind) ||
    ((status === 400 || status === 413 || status === undefined) && CONTEXT_LENGTH.test(message))
  ) {
    return 'PROVIDER_CONTEXT_LENGTH';
  }
  if (status === 401 || status === 402 || status === 403 || /authentication|permission/i.test(kind)) {
    return 'PROVIDER_AUTH';
  }
  if (status === 404 || /not_found/i.test(kind)) return 'PROVIDER_NOT_FOUND';
  if (status === 408) return 'PROVIDER_TIMEOUT';
  if (status === 503) return 'PROVIDER_OVERLOADED';
  if (status === 409 || (status !== undefined && status >= 500)) return 'PROVIDER_SERVER';
  if (status !== undefined && status >= 400) return 'PROVIDER_BAD_REQUEST';
  if (/invalid_request/i.test(kind)) return 'PROVIDER_BAD_REQUEST';
  // An error event in the middle of a stream, with no status: usually a transient server fault.
  return 'PROVIDER_SERVER';
}

/** Milliseconds the server asked us to wait, from `retry-after-ms` or `retry-after` (seconds or an HTTP date). */
export function retryAfterFromHeaders(headers: Headers): number | undefined {
  const ms = headers.get('retry-after-ms');
  if (ms !== null) {
    const value = Number.parseFloat(ms);
    if (Number.isFinite(value) && value >= 0) return Math.round(value);
  }
  const after = headers.get('retry-after');
  if (after === null) return undefined;
  const seconds = Number(after.trim());
  if (after.trim() !== '' && Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const date = Date.parse(after);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - Date.now());
}

function findNetworkCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** undici reports a body cut off mid-way as `TypeError: terminated`. */
function isTerminated(error: unknown): boolean {
  return error instanceof TypeError && /terminated|other side closed|socket/i.test(error.message);
}

function describeCause(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    parts.push(typeof code === 'string' ? `${current.message} [${code}]` : current.message);
    current = current.cause;
  }
  return parts.join(': ') || String(error);
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
}

function stringOr(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
