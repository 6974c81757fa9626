import type { Usage } from './types.js';

/** USD per million tokens. `cachedInput` is the price of a cache read; `cacheWrite` of a cache write (Anthropic). */
export interface ModelPrice {
  input: number;
  output: number;
  cachedInput?: number;
  cacheWrite?: number;
}

export type PriceTable = Record<string, ModelPrice>;

/**
 * List prices (USD per million tokens) of current OpenAI and Anthropic models. Keys match a model id
 * exactly or as the longest prefix (`gpt-4.1-mini-2025-04-14` → `gpt-4.1-mini`). Override or extend with
 * `setPrices()` or a provider's `prices` option; a model with no entry has no cost (undefined, not 0).
 */
export const DEFAULT_PRICES: PriceTable = {
  'gpt-4.1': { input: 2, output: 8, cachedInput: 0.5 },
  'gpt-4.1-mini': { input: 0.4, output: 1.6, cachedInput: 0.1 },
  'gpt-4.1-nano': { input: 0.1, output: 0.4, cachedInput: 0.025 },
  'gpt-4o': { input: 2.5, output: 10, cachedInput: 1.25 },
  'gpt-4o-mini': { input: 0.15, output: 0.6, cachedInput: 0.075 },
  'claude-sonnet-4-5': { input: 3, output: 15, cachedInput: 0.3, cacheWrite: 3.75 },
  'claude-haiku-4-5': { input: 1, output: 5, cachedInput: 0.1, cacheWrite: 1.25 },
};

const overrides: PriceTable = {};

/** Adds or replaces prices process-wide (for example negotiated rates, or a self-hosted model's cost). */
export function setPrices(prices: PriceTable): void {
  Object.assign(overrides, prices);
}

export function findPrice(modelId: string, table?: PriceTable): ModelPrice | undefined {
  for (const source of [table, overrides, DEFAULT_PRICES]) {
    if (!source) continue;
    const exact = source[modelId];
    if (exact) return exact;
    let best: string | undefined;
    for (const key of Object.keys(source)) {
      if (modelId.startsWith(key) && (best === undefined || key.length > best.length)) best = key;
    }
    if (best !== undefined) return source[best];
  }
  return undefined;
}

/** Cost of one call in USD, or undefined when the price or the usage is unknown. */
export function costOf(modelId: string, usage: Usage | undefined, table?: PriceTable): number | undefined {
  if (!usage) return undefined;
  const price = findPrice(modelId, table);
  if (!price) return undefined;
  const cached = usage.cachedInputTokens ?? 0;
  const written = usage.cacheCreationInputTokens ?? 0;
  const plainInput = Math.max(0, usage.inputTokens - cached - written);
  const dollars =
    plainInput * price.input +
    cached * (price.cachedInput ?? price.input) +
    written * (price.cacheWrite ?? price.input) +
    usage.outputTokens * price.output;
  return dollars / 1_000_000;
}
