import {
  BatonError,
  type Model,
  type ModelRequest,
  type ModelResponse,
  type ModelStreamEvent,
} from '@baton/core';
import { type Priority, priorityValue, type Semaphore } from './types.js';

export interface SemaphoreModelOptions {
  /** The priority class of this model's calls (default `normal`): e.g. `high` for paying users' agents. */
  priority?: Priority;
}

/**
 * `model` with every call holding a permit of `semaphore`: at most `limit` calls at once across every
 * process sharing it, so many workers stop hitting the provider's rate limit together. The wait for a
 * permit honours the request's signal; a permit whose lease is lost aborts the call it guards. Wrap the
 * provider without its own retries and put `withRetry` outside, so a backoff does not hold a permit.
 */
export function semaphoreModel(
  model: Model,
  semaphore: Semaphore,
  options: SemaphoreModelOptions = {},
): Model {
  if (typeof model?.generate !== 'function' || typeof model.stream !== 'function') {
    throw new BatonError('CONFIG_INVALID', 'semaphoreModel: "model" must be a Model');
  }
  if (typeof semaphore?.acquire !== 'function') {
    throw new BatonError('CONFIG_INVALID', 'semaphoreModel: "semaphore" must be a Semaphore (natsSemaphore)');
  }
  const priority = priorityValue('semaphoreModel', options.priority);
  const guarded = (request: ModelRequest, signal: AbortSignal): ModelRequest => ({
    ...request,
    signal: request.signal ? AbortSignal.any([request.signal, signal]) : signal,
  });
  return {
    id: model.id,
    provider: model.provider,
    async generate(request: ModelRequest): Promise<ModelResponse> {
      const permit = await semaphore.acquire(acquireOptions(priority, request.signal));
      try {
        return await model.generate(guarded(request, permit.signal));
      } catch (error) {
        throw permit.signal.aborted ? (permit.signal.reason as BatonError) : error;
      } finally {
        await permit.release();
      }
    },
    async *stream(request: ModelRequest): AsyncIterable<ModelStreamEvent> {
      const permit = await semaphore.acquire(acquireOptions(priority, request.signal));
      try {
        yield* model.stream(guarded(request, permit.signal));
      } catch (error) {
        throw permit.signal.aborted ? (permit.signal.reason as BatonError) : error;
      } finally {
        await permit.release();
      }
    },
  };
}

function acquireOptions(priority: number, signal: AbortSignal | undefined) {
  return signal ? { priority, signal } : { priority };
}
