import { trace } from '@opentelemetry/api';
import { abortReason, BatonError, type BatonErrorCode } from '../errors.js';
import type { Model, ModelRequest, ModelResponse, ModelStreamEvent } from '../model/types.js';

export interface FallbackInfo {
  from: Model;
  to: Model;
  error: BatonError;
}

export interface FallbackOptions {
  /** Whether a failure moves on to the next model; default `isFallbackError`. */
  shouldFallback?: (error: BatonError) => boolean;
  onFallback?: (info: FallbackInfo) => void;
}

/**
 * Failures that another model may not share: every retryable provider error (rate limit, overload,
 * 5xx, network, timeout, malformed response), and the ones tied to one provider or model — its key
 * rejected (PROVIDER_AUTH), the model unknown or retired (PROVIDER_NOT_FOUND), the provider unavailable
 * or not configured, or a context window too small for the conversation. A request the API rejects as
 * malformed (PROVIDER_BAD_REQUEST) would fail everywhere; an abort stops the chain.
 */
export function isFallbackError(error: BatonError): boolean {
  if (error.code === 'ABORTED') return false;
  if (error.category === 'provider' && error.retryable) return true;
  return FALLBACK_CODES.has(error.code);
}

const FALLBACK_CODES = new Set<BatonErrorCode>([
  'PROVIDER_AUTH',
  'PROVIDER_NOT_FOUND',
  'PROVIDER_UNAVAILABLE',
  'PROVIDER_CONTEXT_LENGTH',
  'PROVIDER_RATE_LIMIT',
  'MODEL_NOT_CONFIGURED',
  // The provider's SDK is not installed here: like a provider that is not configured, the next one may be.
  'DEPENDENCY_MISSING',
]);

/**
 * Tries each model in turn: when one fails with a fallback error (see `isFallbackError`), the next one
 * gets the same request. The response's `servedBy` names the model that answered and, in
 * `fallbackFrom`, the ones that failed before it (`provider:id`); each switch is recorded as a
 * `baton.model.fallback` event (`baton.fallback.from`, `baton.fallback.to`, `baton.error.code`) on the
 * active span. A stream falls back only while it has yielded nothing. Put `withRetry` inside each
 * member (the providers do by default) so a blip is retried before the chain moves on.
 */
export function withFallback(models: readonly Model[], options: FallbackOptions = {}): Model {
  if (!Array.isArray(models) || models.length === 0) {
    throw new BatonError('CONFIG_INVALID', 'withFallback: "models" must be a non-empty array of models');
  }
  for (const [index, model] of models.entries()) {
    if (typeof model?.generate !== 'function' || typeof model.stream !== 'function') {
      throw new BatonError('CONFIG_INVALID', `withFallback: models[${index}] is not a Model`);
    }
  }
  const chain = [...models];
  const shouldFallback = options.shouldFallback ?? isFallbackError;
  const primary = chain[0] as Model;

  /** Decides after a failure: the error to throw, or undefined to go on with the next model. */
  const afterFailure = (error: unknown, index: number, failed: Failure[], request: ModelRequest) => {
    if (request.signal?.aborted) return abortReason(request.signal);
    const failure = BatonError.wrap(error);
    const model = chain[index] as Model;
    failed.push({ model, error: failure });
    const next = chain[index + 1];
    if (!next || !shouldFallback(failure)) return failed.length > 1 ? exhausted(failed) : failure;
    trace.getActiveSpan()?.addEvent('baton.model.fallback', {
      'baton.fallback.from': label(model),
      'baton.fallback.to': label(next),
      'baton.error.code': failure.code,
    });
    options.onFallback?.({ from: model, to: next, error: failure });
    return undefined;
  };

  return {
    id: primary.id,
    provider: primary.provider,
    async generate(request: ModelRequest): Promise<ModelResponse> {
      const failed: Failure[] = [];
      for (const [index, model] of chain.entries()) {
        try {
          return annotate(await model.generate(request), model, failed);
        } catch (error) {
          const stop = afterFailure(error, index, failed, request);
          if (stop) throw stop;
        }
      }
      throw new BatonError('INTERNAL', 'withFallback: no model left');
    },
    async *stream(request: ModelRequest): AsyncIterable<ModelStreamEvent> {
      const failed: Failure[] = [];
      for (const [index, model] of chain.entries()) {
        let yielded = false;
        try {
          for await (const event of model.stream(request)) {
            yielded = true;
            yield event.type === 'response'
              ? { ...event, response: annotate(event.response, model, failed) }
              : event;
          }
          return;
        } catch (error) {
          if (yielded) throw error;
          const stop = afterFailure(error, index, failed, request);
          if (stop) throw stop;
        }
      }
    },
  };
}

interface Failure {
  model: Model;
  error: BatonError;
}

function label(model: Model): string {
  return `${model.provider}:${model.id}`;
}

function annotate(response: ModelResponse, model: Model, failed: readonly Failure[]): ModelResponse {
  const inner = response.servedBy;
  const fallbackFrom = [...failed.map((failure) => label(failure.model)), ...(inner?.fallbackFrom ?? [])];
  const servedBy: NonNullable<ModelResponse['servedBy']> = {
    model: inner?.model ?? model.id,
    provider: inner?.provider ?? model.provider,
  };
  if (fallbackFrom.length > 0) servedBy.fallbackFrom = fallbackFrom;
  return { ...response, servedBy };
}

/** Every model failed: the last error's code, with each failure listed. */
function exhausted(failed: readonly Failure[]): BatonError {
  const last = failed.at(-1) as Failure;
  return new BatonError(last.error.code, `All ${failed.length} models failed; last: ${last.error.message}`, {
    cause: last.error,
    retryable: last.error.retryable,
    details: {
      ...last.error.details,
      failures: failed.map((failure) => ({
        model: label(failure.model),
        code: failure.error.code,
        message: failure.error.message,
      })),
    },
  });
}
