import { costOf, DEFAULT_PRICES, findPrice, setPrices } from '@baton/core';
import { describe, expect, it } from 'vitest';

describe('price table', () => {
  it('matches dated snapshots to their family, never across a version dot', () => {
    expect(findPrice('gpt-4.1-mini-2025-04-14')).toBe(DEFAULT_PRICES['gpt-4.1-mini']);
    expect(findPrice('gpt-4.1-2025-04-14')).toBe(DEFAULT_PRICES['gpt-4.1']);
    expect(findPrice('gpt-4o-mini-2024-07-18')).toBe(DEFAULT_PRICES['gpt-4o-mini']);
    expect(findPrice('claude-sonnet-4-5-20250929')).toBe(DEFAULT_PRICES['claude-sonnet-4-5']);
    expect(findPrice('claude-opus-4-20250514')).toBe(DEFAULT_PRICES['claude-opus-4']);
    expect(findPrice('claude-opus-4-5-20251101')).toBe(DEFAULT_PRICES['claude-opus-4-5']);
    expect(findPrice('gpt-5.4-mini')).toBe(DEFAULT_PRICES['gpt-5.4-mini']);
    expect(findPrice('gpt-5.3')).toBeUndefined();
    expect(findPrice('llama3.1:8b')).toBeUndefined();
  });

  it('prices cached reads and cache writes apart from plain input', () => {
    const usage = {
      inputTokens: 1_000_000,
      outputTokens: 1_000_000,
      cachedInputTokens: 400_000,
      cacheCreationInputTokens: 100_000,
    };
    // Haiku 4.5: 500k plain × $1 + 400k read × $0.10 + 100k written × $1.25 + 1M out × $5.
    expect(costOf('claude-haiku-4-5', usage)).toBeCloseTo(0.5 + 0.04 + 0.125 + 5, 10);
    expect(costOf('claude-haiku-4-5', undefined)).toBeUndefined();
    expect(costOf('unknown-model', usage)).toBeUndefined();
  });

  it('lets a table or setPrices() override the defaults', () => {
    const usage = { inputTokens: 1_000_000, outputTokens: 0 };
    expect(costOf('llama3.1:8b', usage, { 'llama3.1': { input: 0.05, output: 0.1 } })).toBeCloseTo(0.05, 10);
    setPrices({ 'gpt-4.1-nano': { input: 0.01, output: 0.02 } });
    try {
      expect(costOf('gpt-4.1-nano-2025-04-14', usage)).toBeCloseTo(0.01, 10);
    } finally {
      setPrices({
        'gpt-4.1-nano': DEFAULT_PRICES['gpt-4.1-nano'] as NonNullable<(typeof DEFAULT_PRICES)[string]>,
      });
    }
  });

  it('has a complete, positive price for every entry', () => {
    for (const [model, price] of Object.entries(DEFAULT_PRICES)) {
      expect(price.input, model).toBeGreaterThan(0);
      expect(price.output, model).toBeGreaterThan(price.input);
      if (price.cachedInput !== undefined) expect(price.cachedInput, model).toBeLessThan(price.input);
      if (price.cacheWrite !== undefined) expect(price.cacheWrite, model).toBeGreaterThan(price.input);
    }
  });
});
