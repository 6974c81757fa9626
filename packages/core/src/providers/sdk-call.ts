import type { PriceTable } from '../model/pricing.js';
import type { ModelResponse, ModelStreamEvent } from '../model/types.js';
import { timerDelay } from '../util/timers.js';
import { CallScope } from './call-scope.js';
import { type SdkErrorClasses, toProviderError } from './provider-errors.js';
import { withCost } from './shared.js';

/** One call's identity and limits, as both adapters describe it. */
export interface SdkCall {
  provider: string;
  model: string;
  sdk: SdkErrorClasses;
  timeoutMs: number;
  prices: PriceTable | undefined;
  signal: AbortSignal | undefined;
}

/** Describes one call of `model` for the helpers below. */
export function sdkCall(
  model: { readonly id: string; readonly provider: string },
  settings: { timeoutMs: number; prices: PriceTable | undefined },
  sdk: SdkErrorClasses,
  signal: AbortSignal | undefined,
): SdkCall {
  return {
    provider: model.provider,
    model: model.id,
    sdk,
    timeoutMs: settings.timeoutMs,
    prices: settings.prices,
    signal,
  };
}

/** The request options both SDKs take: our signal, no SDK retries (withRetry is the one policy), a timeout. */
export interface SdkRequestOptions {
  signal: AbortSignal;
  maxRetries: 0;
  timeout: number;
}

/** Turns a provider's stream chunks into Baton events, and at the end into the whole response. */
export interface StreamAssembler<Chunk> {
  push(chunk: Chunk): Iterable<ModelStreamEvent>;
  finish(): ModelResponse;
}

function scopeFor(call: SdkCall): CallScope {
  return new CallScope(call.signal, call.timeoutMs, `${call.provider} ${call.model}`);
}

function options(call: SdkCall, scope: CallScope): SdkRequestOptions {
  return { signal: scope.signal, maxRetries: 0, timeout: timerDelay(call.timeoutMs) };
}

/** A non-streamed request: abort and inactivity timeout through a CallScope, errors mapped, cost added. */
export async function sdkRequest<T>(
  call: SdkCall,
  send: (options: SdkRequestOptions) => Promise<T>,
  normalize: (value: T) => ModelResponse,
): Promise<ModelResponse> {
  const scope = scopeFor(call);
  try {
    return withCost(normalize(await send(options(call, scope))), call.model, call.prices);
  } catch (error) {
    throw toProviderError(error, { provider: call.provider, model: call.model, sdk: call.sdk, scope });
  } finally {
    scope.dispose();
  }
}

/**
 * A streamed request: every chunk re-arms the inactivity timer, the assembled response comes last, and a
 * consumer that stops reading early aborts the HTTP request rather than leaving it open.
 */
export async function* sdkStream<Chunk>(
  call: SdkCall,
  open: (options: SdkRequestOptions) => Promise<AsyncIterable<Chunk>>,
  assembler: StreamAssembler<Chunk>,
): AsyncIterable<ModelStreamEvent> {
  const scope = scopeFor(call);
  let completed = false;
  try {
    const chunks = await open(options(call, scope));
    scope.touch();
    for await (const chunk of chunks) {
      scope.touch();
      yield* assembler.push(chunk);
    }
    // The SDKs end the iteration quietly when their signal aborts: say why it ended.
    const ended = scope.failure();
    if (ended) throw ended;
    const response = withCost(assembler.finish(), call.model, call.prices);
    completed = true;
    yield { type: 'response', response };
  } catch (error) {
    throw toProviderError(error, { provider: call.provider, model: call.model, sdk: call.sdk, scope });
  } finally {
    if (!completed) scope.abort();
    scope.dispose();
  }
}

/** Creates a client on first use and keeps it; a failed creation is forgotten so the next call retries. */
export function cachedClient<T>(create: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= create().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}
