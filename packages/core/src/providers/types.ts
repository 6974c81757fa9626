import type { PriceTable } from '../model/pricing.js';
import type { RetryOptions } from './retry.js';

/** The `fetch` a provider's SDK client uses (a proxy agent, a recording fetch, ...). */
export type FetchFunction = typeof globalThis.fetch;

/** Options every provider adapter accepts. */
export interface ProviderOptions {
  /** Defaults to the provider's environment variable (`OPENAI_API_KEY`, `ANTHROPIC_API_KEY`). */
  apiKey?: string;
  /** Another endpoint speaking the same wire format (a proxy, a gateway, a local server). */
  baseURL?: string;
  /** Extra headers sent with every request. */
  headers?: Record<string, string>;
  /** The provider name reported on responses and spans (`gen_ai.provider.name`). */
  provider?: string;
  /** Prices for this model, consulted before `setPrices()` and the built-in table. */
  prices?: PriceTable;
  /**
   * Retries of a failed call (rate limit, overload, 5xx, network, timeout), by `withRetry`.
   * Default 2. The SDK's own retries are off, so there is exactly one retry policy.
   */
  maxRetries?: number;
  /** Backoff of those retries (delays, jitter, the longest `retry-after` worth waiting for). */
  retry?: Omit<RetryOptions, 'retries'>;
  /**
   * Milliseconds to wait for the response headers and then, when streaming, between two events;
   * a non-streamed call must finish within it. Default 600 000 (the SDKs' own default).
   */
  timeoutMs?: number;
  fetch?: FetchFunction;
  /** Output token cap used when the request sets none. */
  maxOutputTokens?: number;
  /** Extra fields merged into every request body (provider-specific parameters). */
  extraBody?: Record<string, unknown>;
}

export const DEFAULT_TIMEOUT_MS = 600_000;
export const DEFAULT_MAX_RETRIES = 2;
