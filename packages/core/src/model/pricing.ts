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
 * List prices (USD per million tokens, standard tier) of current OpenAI and Anthropic models.
 *
 * Sources, checked in late 2026:
 * - OpenAI: the pricing page, https://developers.openai.com/api/docs/pricing ("Text tokens", Standard):
 *   input / cached input / output. Reasoning tokens are billed as output.
 * - Anthropic: https://platform.claude.com/docs/en/about-claude/pricing ("Model pricing"): base input,
 *   5-minute cache writes (`cacheWrite`), cache hits (`cachedInput`), output; and the model overview
 *   pages (platform.claude.com/docs/en/about-claude/models/...) for the 5.x generation.
 * Prices change: override or extend them with `setPrices()` or a provider's `prices` option.
 *
 * A key matches a model id exactly, or as the longest prefix followed by `-`, `:` or `@` (a dated snapshot
 * `gpt-4.1-mini-2025-04-14` → `gpt-4.1-mini`, `claude-sonnet-4-5-20250929` → `claude-sonnet-4-5`), never
 * across a version dot (`gpt-5.4` is not `gpt-5`). A model with no entry has no cost (undefined, not 0).
 */
export const DEFAULT_PRICES: PriceTable = {
  // OpenAI — GPT-5 family.
  'gpt-5.5': { input: 5, output: 30, cachedInput: 0.5 },
  'gpt-5.5-pro': { input: 30, output: 180 },
  'gpt-5.4': { input: 2.5, output: 15, cachedInput: 0.25 },
  'gpt-5.4-mini': { input: 0.75, output: 4.5, cachedInput: 0.075 },
  'gpt-5.4-nano': { input: 0.2, output: 1.25, cachedInput: 0.02 },
  'gpt-5.4-pro': { input: 30, output: 180 },
  'gpt-5.2': { input: 1.75, output: 14, cachedInput: 0.175 },
  'gpt-5.2-pro': { input: 21, output: 168 },
  'gpt-5.1': { input: 1.25, output: 10, cachedInput: 0.125 },
  'gpt-5': { input: 1.25, output: 10, cachedInput: 0.125 },
  'gpt-5-mini': { input: 0.25, output: 2, cachedInput: 0.025 },
  'gpt-5-nano': { input: 0.05, output: 0.4, cachedInput: 0.005 },
  'gpt-5-pro': { input: 15, output: 120 },
  // OpenAI — GPT-4.1 and GPT-4o.
  'gpt-4.1': { input: 2, output: 8, cachedInput: 0.5 },
  'gpt-4.1-mini': { input: 0.4, output: 1.6, cachedInput: 0.1 },
  'gpt-4.1-nano': { input: 0.1, output: 0.4, cachedInput: 0.025 },
  'gpt-4o': { input: 2.5, output: 10, cachedInput: 1.25 },
  'gpt-4o-mini': { input: 0.15, output: 0.6, cachedInput: 0.075 },
  // OpenAI — o-series reasoning models.
  o1: { input: 15, output: 60, cachedInput: 7.5 },
  o3: { input: 2, output: 8, cachedInput: 0.5 },
  'o3-pro': { input: 20, output: 80 },
  'o3-mini': { input: 1.1, output: 4.4, cachedInput: 0.55 },
  'o4-mini': { input: 1.1, output: 4.4, cachedInput: 0.275 },
  // Anthropic — Claude 4.x.
  'claude-opus-4-8': { input: 5, output: 25, cachedInput: 0.5, cacheWrite: 6.25 },
  'claude-opus-4-7': { input: 5, output: 25, cachedInput: 0.5, cacheWrite: 6.25 },
  'claude-opus-4-6': { input: 5, output: 25, cachedInput: 0.5, cacheWrite: 6.25 },
  'claude-opus-4-5': { input: 5, output: 25, cachedInput: 0.5, cacheWrite: 6.25 },
  'claude-opus-4-1': { input: 15, output: 75, cachedInput: 1.5, cacheWrite: 18.75 },
  'claude-opus-4': { input: 15, output: 75, cachedInput: 1.5, cacheWrite: 18.75 },
  'claude-sonnet-4-6': { input: 3, output: 15, cachedInput: 0.3, cacheWrite: 3.75 },
  'claude-sonnet-4-5': { input: 3, output: 15, cachedInput: 0.3, cacheWrite: 3.75 },
  'claude-sonnet-4': { input: 3, output: 15, cachedInput: 0.3, cacheWrite: 3.75 },
  'claude-haiku-4-5': { input: 1, output: 5, cachedInput: 0.1, cacheWrite: 1.25 },
  'claude-3-5-haiku': { input: 0.8, output: 4, cachedInput: 0.08, cacheWrite: 1 },
  // Anthropic — Claude 5.x (Haiku 5.5 is priced by prompt length and is left to the user).
  'claude-opus-5-5': { input: 4, output: 20, cachedInput: 0.2, cacheWrite: 5 },
  'claude-opus-5': { input: 5, output: 25, cachedInput: 0.5, cacheWrite: 6.25 },
  'claude-sonnet-5': { input: 2, output: 10, cachedInput: 0.2, cacheWrite: 2.5 },
  'claude-fable-5-1': { input: 10, output: 50, cachedInput: 0.25, cacheWrite: 12.5 },
  'claude-fable-5': { input: 10, output: 50, cachedInput: 1, cacheWrite: 12.5 },
};

const overrides: PriceTable = {};

/** Adds or replaces prices process-wide (for example negotiated rates, or a self-hosted model's cost). */
export function setPrices(prices: PriceTable): void {
  Object.assign(overrides, prices);
  resolved.clear();
}

const SNAPSHOT_SEPARATORS = new Set(['-', ':', '@']);

/** Lookups in the built-in and overridden tables, by model id: every step asks, the tables rarely change. */
const resolved = new Map<string, ModelPrice | null>();

export function findPrice(modelId: string, table?: PriceTable): ModelPrice | undefined {
  if (table) {
    const own = lookup(table, modelId);
    if (own) return own;
  }
  let price = resolved.get(modelId);
  if (price === undefined) {
    price = lookup(overrides, modelId) ?? lookup(DEFAULT_PRICES, modelId) ?? null;
    resolved.set(modelId, price);
  }
  return price ?? undefined;
}

/** Exact id, else the longest key that is a prefix followed by a snapshot separator (`gpt-4.1` for `gpt-4.1-2025-04-14`). */
function lookup(source: PriceTable, modelId: string): ModelPrice | undefined {
  if (Object.hasOwn(source, modelId)) return source[modelId];
  let best: string | undefined;
  for (const key of Object.keys(source)) {
    if (!modelId.startsWith(key) || !SNAPSHOT_SEPARATORS.has(modelId.charAt(key.length))) continue;
    if (best === undefined || key.length > best.length) best = key;
  }
  return best === undefined ? undefined : source[best];
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
