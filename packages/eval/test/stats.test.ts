import { describe, expect, it } from 'vitest';
import { mcnemarExact, pairedBootstrap, sampleSizeWarning, seededRandom } from '../src/index.js';

describe('McNemar exact test', () => {
  it('matches the hand-computed binomial tail: b = 10, c = 2', () => {
    // n = 12, P(X ≤ 2) = (1 + 12 + 66) / 4096 = 79/4096; two-sided = 158/4096 = 0.038574…
    const result = mcnemarExact(10, 2);
    expect(result.pValue).toBeCloseTo(158 / 4096, 10);
    expect(result.pValue.toFixed(4)).toBe('0.0386');
    expect(result).toMatchObject({ b: 10, c: 2, discordant: 12 });
  });

  it('is symmetric, 1 without discordant pairs, and capped at 1', () => {
    expect(mcnemarExact(2, 10).pValue).toBe(mcnemarExact(10, 2).pValue);
    expect(mcnemarExact(0, 0).pValue).toBe(1);
    expect(mcnemarExact(3, 3).pValue).toBe(1);
    // b = 20, c = 0: 2 × 0.5^20
    expect(mcnemarExact(20, 0).pValue).toBeCloseTo(2 / 2 ** 20, 12);
  });

  it('refuses counts that are not counts', () => {
    expect(() => mcnemarExact(-1, 2)).toThrow(expect.objectContaining({ code: 'INPUT_INVALID' }));
    expect(() => mcnemarExact(1.5, 2)).toThrow(expect.objectContaining({ code: 'INPUT_INVALID' }));
  });
});

describe('paired bootstrap', () => {
  // A synthetic paired sample: B costs 0.5 more than A per case, with noise around it.
  const random = seededRandom(42);
  const differences = Array.from({ length: 200 }, () => 0.5 + (random() - 0.5) * 2);
  const trueMean = 0.5;

  it('its CI contains the true mean delta', () => {
    const interval = pairedBootstrap(differences, { seed: 3 });
    expect(interval.low).toBeLessThan(trueMean);
    expect(interval.high).toBeGreaterThan(trueMean);
    expect(interval.low).toBeLessThan(interval.mean);
    expect(interval.high).toBeGreaterThan(interval.mean);
    // A 95 % CI of a mean of 200 values with sd ≈ 0.58 is about ±0.08 wide: not degenerate, not huge.
    expect(interval.high - interval.low).toBeGreaterThan(0.05);
    expect(interval.high - interval.low).toBeLessThan(0.3);
    expect(interval).toMatchObject({ n: 200, iterations: 2000, confidence: 0.95, seed: 3 });
  });

  it('is reproducible with a seed, and moves with another seed', () => {
    const first = pairedBootstrap(differences, { seed: 9, iterations: 500 });
    const again = pairedBootstrap(differences, { seed: 9, iterations: 500 });
    const other = pairedBootstrap(differences, { seed: 10, iterations: 500 });
    expect(again).toEqual(first);
    expect(other.low === first.low && other.high === first.high).toBe(false);
  });

  it('gives NaN bounds for no data and refuses a bad confidence', () => {
    expect(Number.isNaN(pairedBootstrap([]).low)).toBe(true);
    expect(() => pairedBootstrap([1, 2], { confidence: 1 })).toThrow(
      expect.objectContaining({ code: 'INPUT_INVALID' }),
    );
  });
});

describe('sample-size warning', () => {
  it('warns below 200 per variant, with the seed’s 200–500 guidance', () => {
    expect(sampleSizeWarning(20)).toContain('200–500 per variant');
    expect(sampleSizeWarning(200)).toBeUndefined();
  });
});
