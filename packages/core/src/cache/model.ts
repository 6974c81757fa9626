import { trace } from '@opentelemetry/api';
import { z } from 'zod';
import { BatonError } from '../errors.js';
import { recordedResponseSchema } from '../journal/types.js';
import { recordModelCacheLookup } from '../metrics/run.js';
import { costOf } from '../model/pricing.js';
import type { Model, ModelRequest, ModelResponse, ModelStreamEvent } from '../model/types.js';
import { totalTokens } from '../model/usage.js';
import { toRecorded, toResponse } from '../run/journaled.js';
import { BatonAttr } from '../tracing/attributes.js';
import { raceAbort } from '../util/abort.js';
import { type CacheCallContext, cacheCallContext, noteCachedModel } from './call-context.js';
import { checkTtl } from './codec.js';
import { keyHashOf, modelCacheKey } from './keys.js';
import type { CacheLookup, CacheStore, JsonValue } from './types.js';

export interface CachedModelOptions {
  /** Where responses are kept: `inMemoryCacheStore()` for one process, `natsCacheStore(bus)` for every worker. */
  store: CacheStore;
  /** How long a response may be served again, in milliseconds. */
  ttlMs: number;
  /**
   * `tenant` (default): one tenant's users share responses to identical requests (the request holds the
   * whole conversation, so only a word-for-word repeat matches); `user`: each user has their own.
   */
  scope?: 'tenant' | 'user';
  /** The tenant of calls made outside any run. Inside a run, the run's tenant scopes the cache. */
  tenantId?: string;
}

/** Only whole, successful answers are kept: a cut-off (`length`), filtered or failed one is asked again. */
const CACHEABLE = ['stop', 'tool-calls'] as const;
const entrySchema = z.object({
  response: recordedResponseSchema.extend({ finishReason: z.enum(CACHEABLE) }),
});

interface Hit {
  response: ModelResponse;
  savedTokens: number;
  savedUsd: number | undefined;
}

/**
 * A model that answers an exact repeat of a request from a cache: same provider and model, same
 * messages, tools, tool choice, response schema and sampling, same tenant. A hit is charged nothing —
 * its usage is zero tokens and $0, so budgets are not consumed — and reports the tokens it saved in a
 * `cache.hit` event and on the `chat` span (`baton.cache.hit`, `baton.cache.saved_tokens`). Misses
 * pass through; only complete, successful responses are stored (a stream only once it ended with its
 * response). Composes with any model and combinator: put it outside `withFallback`/`route` to cache
 * whatever answered, inside to cache one member.
 *
 * Exact-match caching serves the same answer to the same question, sampling temperature or not: cache
 * models whose answers may be reused for `ttlMs`.
 */
export function cachedModel(model: Model, options: CachedModelOptions): Model {
  if (typeof model?.generate !== 'function' || typeof model.stream !== 'function') {
    throw new BatonError('CONFIG_INVALID', 'cachedModel: "model" must be a Model');
  }
  const store = options?.store;
  if (!store || typeof store.get !== 'function' || typeof store.set !== 'function') {
    throw new BatonError('CONFIG_INVALID', 'cachedModel: "store" must be a CacheStore', {
      details: { field: 'store' },
    });
  }
  try {
    checkTtl(options.ttlMs);
  } catch (error) {
    throw new BatonError('CONFIG_INVALID', `cachedModel: ${(error as Error).message}`, {
      details: { field: 'ttlMs' },
    });
  }
  const { ttlMs } = options;
  const userScoped = options.scope === 'user';
  if (options.scope !== undefined && options.scope !== 'user' && options.scope !== 'tenant') {
    throw new BatonError('CONFIG_INVALID', 'cachedModel: "scope" must be "tenant" or "user"');
  }
  noteCachedModel();

  const keyOf = (request: ModelRequest, context: CacheCallContext | undefined) =>
    modelCacheKey(
      model,
      request,
      context?.tenantId ?? options.tenantId,
      userScoped ? context?.userId : undefined,
    );

  const read = async (key: string, signal: AbortSignal | undefined): Promise<Hit | undefined> => {
    let stored: JsonValue | undefined;
    try {
      const pending = store.get(key);
      stored = await (signal ? raceAbort(pending, signal) : pending);
    } catch {
      // An unreachable cache is a miss, never a failed call; an abort is seen by the call itself.
      return undefined;
    }
    if (stored === undefined) return undefined;
    const entry = entrySchema.safeParse(stored);
    if (!entry.success) {
      await store.delete(key).catch(() => undefined);
      return undefined;
    }
    const recorded = entry.data.response;
    const response = toResponse(recorded);
    const usage = recorded.usage;
    // Nothing was spent: the budget sees zero tokens and a known price of $0.
    response.usage = { inputTokens: 0, outputTokens: 0 };
    response.costUsd = 0;
    return {
      response,
      savedTokens: usage ? totalTokens(usage) : 0,
      savedUsd: recorded.costUsd ?? costOf(recorded.model, usage),
    };
  };

  const write = async (key: string, response: ModelResponse, signal: AbortSignal | undefined) => {
    if (!isCacheable(response)) return;
    try {
      const pending = store.set(key, { response: toRecorded(response) as JsonValue }, { ttlMs });
      await (signal ? raceAbort(pending, signal) : pending);
    } catch {
      // Not cached: the next identical request asks the model again.
    }
  };

  const report = (context: CacheCallContext | undefined, key: string, hit: Hit | undefined) => {
    const lookup: CacheLookup = {
      hit: hit !== undefined,
      key: keyHashOf(key),
      savedTokens: hit?.savedTokens ?? 0,
    };
    recordModelCacheLookup({
      hit: lookup.hit,
      savedTokens: lookup.savedTokens,
      model: model.id,
      agent: context?.agent,
      tenantId: context?.tenantId ?? options.tenantId,
    });
    const span = trace.getActiveSpan();
    if (span?.isRecording()) {
      span.setAttribute(BatonAttr.CACHE_HIT, lookup.hit);
      if (hit) span.setAttribute(BatonAttr.CACHE_SAVED_TOKENS, lookup.savedTokens);
    }
    const events = context?.events;
    if (!events || context.runId === undefined || !events.listens(hit ? 'cache.hit' : 'cache.miss')) return;
    const fields = {
      runId: context.runId,
      agent: context.agent,
      at: Date.now(),
      step: context.step,
      kind: 'model' as const,
      key: lookup.key,
      savedTokens: lookup.savedTokens,
      model: model.id,
    };
    if (!hit) events.emit({ ...fields, type: 'cache.miss' });
    else if (hit.savedUsd === undefined) events.emit({ ...fields, type: 'cache.hit' });
    else events.emit({ ...fields, type: 'cache.hit', savedUsd: hit.savedUsd });
  };

  return {
    id: model.id,
    provider: model.provider,
    async generate(request: ModelRequest): Promise<ModelResponse> {
      const context = cacheCallContext();
      if (context?.cache?.responses === false) return model.generate(request);
      const key = keyOf(request, context);
      const hit = await read(key, request.signal);
      report(context, key, hit);
      if (hit) return hit.response;
      const response = await model.generate(request);
      await write(key, response, request.signal);
      return response;
    },
    async *stream(request: ModelRequest): AsyncIterable<ModelStreamEvent> {
      const context = cacheCallContext();
      if (context?.cache?.responses === false) {
        yield* model.stream(request);
        return;
      }
      const key = keyOf(request, context);
      const hit = await read(key, request.signal);
      report(context, key, hit);
      if (hit) {
        // The whole answer as one delta, so a UI that shows streamed text shows this one too.
        if (hit.response.text) yield { type: 'text-delta', text: hit.response.text };
        yield { type: 'response', response: hit.response };
        return;
      }
      for await (const event of model.stream(request)) {
        // Stored before it is handed on: a consumer that stops at the response still leaves it cached.
        if (event.type === 'response') await write(key, event.response, request.signal);
        yield event;
      }
    },
  };
}

function isCacheable(response: ModelResponse): boolean {
  return (
    (CACHEABLE as readonly string[]).includes(response.finishReason) &&
    !response.toolCalls.some((call) => call.argumentsError !== undefined)
  );
}
