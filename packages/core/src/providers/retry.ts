import { trace } from '@opentelemetry/api';
import { abortReason, BatonError } from '../errors.js';
import type { Model, ModelRequest, ModelResponse, ModelStreamEvent } from '../model/types.js';
import { backoffDelay, sleep } from '../util/abort.js';

export interface RetryInfo {
  /** The attempt that failed, from 1. */
  attempt: number;
  /** How long we wait before the next attempt. */
  delayMs: number;
  error: BatonError;
  model: Model;
}

export interface RetryOptions {
  /** Retries after the first attempt. Default 2. */
  retries?: number;
  /** Backoff ceiling of the first retry; it doubles with each retry. Default 500 ms. */
  initialDelayMs?: number;
  /** Largest backoff ceiling. Default 20 000 ms. */
  maxDelayMs?: number;
  /** Full jitter (a random delay between 0 and the ceiling), default true; false waits the ceiling itself. */
  jitter?: boolean;
  /**
   * The longest `retry-after` worth waiting for. A server asking for more ends the retries at once,
   * so a fallback model can answer instead. Default 60 000 ms.
   */
  maxRetryAfterMs?: number;
  /** Whether a failure deserves another attempt; default: the error's `retryable` flag. */
  shouldRetry?: (error: BatonError, attempt: number) => boolean;
  onRetry?: (info: RetryInfo) => void;
}

const DEFAULTS = {
  retries: 2,
  initialDelayMs: 500,
  maxDelayMs: 20_000,
  jitter: true,
  maxRetryAfterMs: 60_000,
};

/**
 * Retries a model's failed calls with exponential backoff and full jitter, honouring the server's
 * `retry-after` (`details.retryAfterMs`). Only retryable errors are retried; an aborted request never is,
 * and the wait itself ends as soon as the request's signal aborts. A stream is retried only while it
 * has yielded nothing: once a delta reached the caller, a failure surfaces as the provider error.
 * Each retry is recorded as a `baton.model.retry` event on the active span.
 */
export function withRetry(model: Model, options: RetryOptions = {}): Model {
  const settings = { ...DEFAULTS, ...dropUndefined(options) };
  validate(settings);

  const delayFor = (error: unknown, attempt: number, request: ModelRequest): number | undefined => {
    if (request.signal?.aborted) return undefined;
    if (!(error instanceof BatonError) || attempt > settings.retries) return undefined;
    const wanted = options.shouldRetry ? options.shouldRetry(error, attempt) : error.retryable;
    if (!wanted) return undefined;
    const retryAfter = error.details?.retryAfterMs;
    if (typeof retryAfter === 'number' && retryAfter >= 0) {
      return retryAfter <= settings.maxRetryAfterMs ? retryAfter : undefined;
    }
    const ceiling = Math.min(settings.maxDelayMs, settings.initialDelayMs * 2 ** (attempt - 1));
    return settings.jitter ? backoffDelay(attempt, settings.initialDelayMs, settings.maxDelayMs) : ceiling;
  };

  const pause = async (error: BatonError, attempt: number, delayMs: number, request: ModelRequest) => {
    trace.getActiveSpan()?.addEvent('baton.model.retry', {
      'baton.retry.attempt': attempt,
      'baton.retry.delay_ms': delayMs,
      'baton.error.code': error.code,
    });
    options.onRetry?.({ attempt, delayMs, error, model });
    await sleep(delayMs, request.signal);
  };

  return {
    id: model.id,
    provider: model.provider,
    async generate(request: ModelRequest): Promise<ModelResponse> {
      for (let attempt = 1; ; attempt++) {
        try {
          return await model.generate(request);
        } catch (error) {
          if (request.signal?.aborted) throw abortReason(request.signal);
          const delay = delayFor(error, attempt, request);
          if (delay === undefined) throw error;
          await pause(error as BatonError, attempt, delay, request);
        }
      }
    },
    async *stream(request: ModelRequest): AsyncIterable<ModelStreamEvent> {
      for (let attempt = 1; ; attempt++) {
        let yielded = false;
        try {
          for await (const event of model.stream(request)) {
            yielded = true;
            yield event;
          }
          return;
        } catch (error) {
          if (request.signal?.aborted) throw abortReason(request.signal);
          const delay = yielded ? undefined : delayFor(error, attempt, request);
          if (delay === undefined) throw error;
          await pause(error as BatonError, attempt, delay, request);
        }
      }
    },
  };
}

function validate(settings: typeof DEFAULTS): void {
  const fail = (field: string, expected: string) =>
    new BatonError('CONFIG_INVALID', `withRetry: "${field}" must be ${expected}`, { details: { field } });
  if (!Number.isInteger(settings.retries) || settings.retries < 0) throw fail('retries', 'an integer ≥ 0');
  if (!(settings.initialDelayMs >= 0)) throw fail('initialDelayMs', 'a number ≥ 0');
  if (!(settings.maxDelayMs >= settings.initialDelayMs))
    throw fail('maxDelayMs', 'a number ≥ initialDelayMs');
  if (!(settings.maxRetryAfterMs >= 0)) throw fail('maxRetryAfterMs', 'a number ≥ 0');
}

function dropUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
