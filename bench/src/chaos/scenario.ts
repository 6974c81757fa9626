/**
 * One scenario of the reliability suite (`npm run chaos`). `key` is where its figures land in
 * bench/results/reliability.json (a dotted path: `team.parallelBudget`, `r1`, ...); `check` says which
 * figures break the promise the scenario stands for, so a run prints PASS or FAIL per scenario.
 */
export interface ChaosScenario {
  key: string;
  /** One line: what it does and what must hold. */
  description: string;
  run(options: ChaosOptions): Promise<Record<string, unknown>>;
  /** The broken promises, as sentences; empty when everything holds. */
  check(figures: Record<string, unknown>): string[];
}

export interface ChaosOptions {
  /** Smaller counts for a quick look (`--quick`); the recorded figures come from full runs. */
  quick: boolean;
  /** Progress for a person watching; goes to stderr. */
  log(line: string): void;
}

/** `count` in a full run, a tenth of it (at least `min`) in a quick one. */
export function scaled(options: ChaosOptions, count: number, min = 1): number {
  return options.quick ? Math.max(min, Math.round(count / 10)) : count;
}

/** p-th percentile (0–100) of the values, nearest rank; 0 for an empty list. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}
