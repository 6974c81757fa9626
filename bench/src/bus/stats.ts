/** Latency samples in microseconds. */
export class Samples {
  private readonly values: number[] = [];

  add(us: number): void {
    this.values.push(us);
  }

  get count(): number {
    return this.values.length;
  }

  percentile(q: number): number {
    const sorted = [...this.values].sort((a, b) => a - b);
    if (sorted.length === 0) return Number.NaN;
    return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] as number;
  }
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

/** Lets the collector run between rounds (the bench child has --expose-gc), so a round starts clean. */
export function collect(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/**
 * One variant of a measurement: `run` is timed; `check` sees its value after the clock stops, so every
 * result is verified without the verification counting as latency (the floor checks nothing).
 */
export interface Variant {
  run: () => Promise<unknown>;
  check?: (value: unknown) => void;
}

/**
 * Times the variants alternately, one call each in turn, `count` times: every variant sees the same
 * moments of a noisy machine, so their ratios hold even when absolute latencies drift.
 */
export async function sampleInterleaved(
  variants: ReadonlyArray<Variant & { into: Samples | undefined }>,
  count: number,
): Promise<void> {
  for (let i = 0; i < count; i++) {
    for (const variant of variants) {
      const started = process.hrtime.bigint();
      const value = await variant.run();
      variant.into?.add(Number(process.hrtime.bigint() - started) / 1_000);
      variant.check?.(value);
    }
  }
}

export interface RoundPlan {
  rounds: number;
  warmupRounds: number;
  perRound: number;
}

/**
 * Runs `plan.rounds` rounds of interleaved samples (a collection before each), keeping only the rounds
 * after the warm-up, and returns the samples of each variant by name.
 */
export async function sampleRounds<K extends string>(
  plan: RoundPlan,
  variants: Record<K, Variant>,
): Promise<Record<K, Samples>> {
  const names = Object.keys(variants) as K[];
  const samples = Object.fromEntries(names.map((name) => [name, new Samples()])) as Record<K, Samples>;
  for (let round = 0; round < plan.rounds; round++) {
    const keep = round >= plan.warmupRounds;
    collect();
    await sampleInterleaved(
      names.map((name) => ({ ...variants[name], into: keep ? samples[name] : undefined })),
      plan.perRound,
    );
  }
  return samples;
}

/** A check that fails the benchmark unless the value is a completed RunResult. */
export function expectCompleted(label: string): (value: unknown) => void {
  return (value) => {
    const result = value as { status?: unknown; error?: unknown };
    if (result?.status !== 'completed')
      throw new Error(`${label} run failed: ${JSON.stringify(result?.error ?? value)}`);
  };
}

/** The figures every bus variant reports: its percentiles beside the floor's, and the p50 ratio. */
export function versusFloor(
  baton: Samples,
  floor: Samples,
): { p50Us: number; p99Us: number; floorP50Us: number; floorP99Us: number; ratio: number; samples: number } {
  const p50 = baton.percentile(0.5);
  const floorP50 = floor.percentile(0.5);
  return {
    p50Us: round2(p50),
    p99Us: round2(baton.percentile(0.99)),
    floorP50Us: round2(floorP50),
    floorP99Us: round2(floor.percentile(0.99)),
    ratio: round2(p50 / floorP50),
    samples: baton.count,
  };
}
