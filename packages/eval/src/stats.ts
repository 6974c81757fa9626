import { BatonError, seededRandom } from '@baton/core';
import { binomialDistribution, mean, quantile, sampleWithReplacement } from 'simple-statistics';

export { seededRandom };

export interface McNemarResult {
  /** Pairs where A passed and B failed. */
  b: number;
  /** Pairs where A failed and B passed. */
  c: number;
  /** Discordant pairs, b + c. */
  discordant: number;
  /** Exact two-sided p-value: twice the binomial(b + c, ½) tail at min(b, c), capped at 1. */
  pValue: number;
}

/**
 * McNemar's exact test on paired pass/fail outcomes: under "A and B are equally good", each discordant
 * pair is a fair coin, so the smaller of b and c follows Binomial(b + c, ½). No discordant pair: p = 1.
 */
export function mcnemarExact(b: number, c: number): McNemarResult {
  for (const [name, value] of [
    ['b', b],
    ['c', c],
  ] as const) {
    if (!Number.isInteger(value) || value < 0) {
      throw new BatonError(
        'INPUT_INVALID',
        `mcnemarExact: ${name} must be a count (an integer ≥ 0), got ${value}`,
      );
    }
  }
  const n = b + c;
  if (n === 0) return { b, c, discordant: 0, pValue: 1 };
  const k = Math.min(b, c);
  const cells = binomialDistribution(n, 0.5) ?? [];
  let tail = 0;
  // The table stops once the cumulative probability is within epsilon of 1; beyond it the mass is nil.
  for (let i = 0; i <= k; i++) tail += cells[i] ?? 0;
  return { b, c, discordant: n, pValue: Math.min(1, 2 * tail) };
}

export interface BootstrapOptions {
  /** Resamples; default 2,000. */
  iterations?: number;
  /** Default 0.95. */
  confidence?: number;
  /** Seed of the resampling; default 1. */
  seed?: number;
}

export interface BootstrapInterval {
  /** The mean of the observed paired differences. */
  mean: number;
  low: number;
  high: number;
  confidence: number;
  iterations: number;
  /** Units resampled (cases). */
  n: number;
  seed: number;
}

/**
 * Percentile bootstrap CI of the mean of paired differences. Each value is one unit (a case: the mean
 * of its samples' B − A differences), and units are resampled with replacement, so repeated samples of
 * one case never count as independent evidence. Same seed, same interval.
 */
export function pairedBootstrap(
  differences: readonly number[],
  options: BootstrapOptions = {},
): BootstrapInterval {
  const iterations = options.iterations ?? 2_000;
  const confidence = options.confidence ?? 0.95;
  const seed = options.seed ?? 1;
  if (!(confidence > 0 && confidence < 1)) {
    throw new BatonError('INPUT_INVALID', `pairedBootstrap: confidence must be in (0, 1), got ${confidence}`);
  }
  if (!Number.isInteger(iterations) || iterations < 1) {
    throw new BatonError(
      'INPUT_INVALID',
      `pairedBootstrap: iterations must be an integer ≥ 1, got ${iterations}`,
    );
  }
  const values = [...differences];
  if (values.length === 0) {
    return { mean: Number.NaN, low: Number.NaN, high: Number.NaN, confidence, iterations, n: 0, seed };
  }
  const random = seededRandom(seed);
  const means: number[] = [];
  for (let i = 0; i < iterations; i++) means.push(mean(sampleWithReplacement(values, values.length, random)));
  const alpha = (1 - confidence) / 2;
  return {
    mean: mean(values),
    low: quantile(means, alpha),
    high: quantile(means, 1 - alpha),
    confidence,
    iterations,
    n: values.length,
    seed,
  };
}

/** The seed's guidance: at least 200–500 queries per variant before drawing conclusions. */
export const MIN_SAMPLES_PER_VARIANT = 200;

export function sampleSizeWarning(perVariant: number): string | undefined {
  if (perVariant >= MIN_SAMPLES_PER_VARIANT) return undefined;
  return (
    `Only ${perVariant} sample(s) per variant: agents are non-deterministic, and a paired comparison needs ` +
    `at least ${MIN_SAMPLES_PER_VARIANT}–500 per variant before drawing conclusions (add cases or --samples).`
  );
}
