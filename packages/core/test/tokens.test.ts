import { countTokens, truncateToTokens } from '@baton/core';
import { describe, expect, it } from 'vitest';

describe('token counting', () => {
  it('counts ordinary text exactly, as the tokenizer does', async () => {
    expect(await countTokens('hello world')).toBe(2);
    expect(await countTokens('')).toBe(0);
  });

  it('a long run without whitespace (base64, minified data) is counted and cut without stalling the run', async () => {
    // The tokenizer's merge step is quadratic per whitespace-free run: 200 KB in one run took minutes.
    const blob = Buffer.from(Array.from({ length: 150_000 }, (_, index) => (index * 7919) % 256)).toString(
      'base64',
    );
    const started = performance.now();
    const tokens = await countTokens(blob);
    const cut = await truncateToTokens(blob, 2_000);
    const elapsed = performance.now() - started;
    expect(tokens).toBeGreaterThan(20_000);
    expect(cut).toMatchObject({ truncated: true, tokens });
    expect(await countTokens(cut.text)).toBeLessThanOrEqual(2_000);
    expect(blob.startsWith(cut.text)).toBe(true);
    // A bound far above the expected second or two, far below the minutes this used to take.
    expect(elapsed).toBeLessThan(60_000);
  });
});
