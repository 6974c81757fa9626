/**
 * `security.guardOverheadUs` (issue 12): what every built-in guard on every stage adds to an agent step.
 * The `guards` target (adapters/baton-guarded.ts) runs the benchmark workload with them, as a framework of
 * its own in the same rounds as Baton and the peers (measure.ts), so the plain step, the guarded step and
 * the peers' steps come from one run on one machine. Goal: the guarded step ≤ 0.1 × the fastest peer's.
 */
import { everyGuard, GUARDED_ARGS } from './adapters/baton-guarded.js';
import { median } from './harness.js';
import { type Entry, isFigures, type PeerKey, round } from './report.js';
import { TOOL_NAME } from './workload.js';

export const GUARD_METHOD =
  'The benchmark workload (two steps: a tool call, an answer) run by the `guards` target with every built-in guard on every ' +
  'stage (input, output, toolInput, toolOutput): lengthGuard (20,000 characters, 4,000 tokens), piiGuard (every kind: PII ' +
  'and secrets), allowListGuard (region), readOnlySqlGuard (query, PostgreSQL: tokenizer + libpg-query parser), ' +
  'moderationGuard with keywordModeration, injectionGuard (heuristics, no judge). The tool call carries a query and a region ' +
  'for the argument guards to read; everything else is the plain `baton` workload. Same protocol and rounds as the other ' +
  'targets (median of the rounds). overheadUs = guarded step − plain step from the same run.';

export interface GuardOverhead {
  overheadUs: number | null;
  plainStepUs: number | null;
  guardedStepUs: number | null;
  /** Guarded step ÷ plain step. */
  ratioToPlain: number | null;
  /** Guarded step ÷ the fastest peer's step of the same run. Goal: ≤ 0.1. */
  guardedVsFastestPeer: number | null;
  fastestPeer: PeerKey | null;
  fastestPeerStepUs: number | null;
  goal: 'guarded step <= fastest peer step / 10';
  met: boolean;
  guardedRepetitionsUs?: number[];
  guardedHeapPerRunBytes?: number;
  /** Guard checks one run makes (every guard listed for a stage, at each stage the run passes). */
  checksPerRun: number;
  /** Each guard's checks of one run's values, called directly: where the time goes. */
  breakdownUsPerRun?: Record<string, number>;
  method: string;
  note?: string;
  error?: string;
}

export function guardOverhead(
  plain: Entry,
  guarded: Entry,
  peers: Record<PeerKey, Entry>,
  breakdownUsPerRun: Record<string, number> | undefined,
): GuardOverhead {
  const measured = (Object.entries(peers) as [PeerKey, Entry][]).filter(([, entry]) => isFigures(entry));
  let fastest: [PeerKey, number] | undefined;
  for (const [key, entry] of measured) {
    if (isFigures(entry) && (!fastest || entry.stepOverheadUs < fastest[1]))
      fastest = [key, entry.stepOverheadUs];
  }
  const plainUs = isFigures(plain) ? plain.stepOverheadUs : null;
  const guardedUs = isFigures(guarded) ? guarded.stepOverheadUs : null;
  const versusPeer = guardedUs !== null && fastest ? round(guardedUs / fastest[1], 4) : null;
  const notes: string[] = [];
  if (measured.length < 3) notes.push(`only ${measured.length} of 3 peers measured`);
  const figures: GuardOverhead = {
    overheadUs: guardedUs !== null && plainUs !== null ? round(guardedUs - plainUs, 3) : null,
    plainStepUs: plainUs,
    guardedStepUs: guardedUs,
    ratioToPlain: guardedUs !== null && plainUs ? round(guardedUs / plainUs, 3) : null,
    guardedVsFastestPeer: versusPeer,
    fastestPeer: fastest?.[0] ?? null,
    fastestPeerStepUs: fastest?.[1] ?? null,
    goal: 'guarded step <= fastest peer step / 10',
    met: versusPeer !== null && versusPeer <= 0.1 && measured.length === 3,
    checksPerRun: checksPerRun(),
    method: GUARD_METHOD,
  };
  if (isFigures(guarded)) {
    figures.guardedRepetitionsUs = guarded.repetitionsUs;
    figures.guardedHeapPerRunBytes = guarded.heapPerRunBytes;
  } else figures.error = guarded.error;
  if (breakdownUsPerRun) figures.breakdownUsPerRun = breakdownUsPerRun;
  if (notes.length > 0) figures.note = notes.join('; ');
  return figures;
}

/** The values one run shows each stage: the input, the tool's arguments and result, the answer. */
const RUN_VALUES = [
  { stage: 'input', value: 'go' },
  { stage: 'toolInput', value: GUARDED_ARGS, tool: TOOL_NAME },
  { stage: 'toolOutput', value: 'ok', tool: TOOL_NAME },
  { stage: 'output', value: 'done' },
] as const;

function checksPerRun(): number {
  const guards = everyGuard();
  return RUN_VALUES.reduce(
    (total, { stage }) =>
      total + guards.filter((guard) => !guard.stages || guard.stages.includes(stage)).length,
    0,
  );
}

/**
 * µs per run of each guard: its checks of one run's values, called directly (no run loop), median of 5
 * timed passes of 2,000 after 2,000 to warm up. Taken in the harness process after the children are done.
 */
export async function guardBreakdown(): Promise<Record<string, number>> {
  const signal = new AbortController().signal;
  const out: Record<string, number> = {};
  for (const guard of everyGuard()) {
    const checks = RUN_VALUES.filter(({ stage }) => !guard.stages || guard.stages.includes(stage)).map(
      ({ stage, value, ...rest }) => ({
        value,
        context: {
          stage,
          runId: 'run_bench',
          agent: 'bench',
          signal,
          ...('tool' in rest ? { tool: rest.tool } : {}),
        },
      }),
    );
    const pass = async (runs: number) => {
      const started = performance.now();
      for (let index = 0; index < runs; index++) {
        for (const { value, context } of checks) {
          // Awaited only when it is a promise, as the run loop does (guards/run.ts).
          const verdict = guard.check(value, context);
          if (verdict instanceof Promise) await verdict;
        }
      }
      return ((performance.now() - started) * 1000) / runs;
    };
    await pass(2_000);
    const timings: number[] = [];
    for (let repetition = 0; repetition < 5; repetition++) timings.push(await pass(2_000));
    out[guard.name] = round(median(timings), 3);
  }
  return out;
}

export function describeGuards(figures: GuardOverhead): string {
  if (figures.guardedStepUs === null || figures.plainStepUs === null) {
    return `guards: not measured${figures.error ? ` (${figures.error.split('\n')[0]})` : ''}`;
  }
  const peer =
    figures.guardedVsFastestPeer === null
      ? 'no peer measured'
      : `guarded / fastest peer (${figures.fastestPeer}) = ${figures.guardedVsFastestPeer.toFixed(3)}, goal ≤ 0.1: ${figures.met ? 'met' : 'MISSED'}`;
  const breakdown = figures.breakdownUsPerRun
    ? `\n  µs per run by guard (direct calls): ${Object.entries(figures.breakdownUsPerRun)
        .map(([name, us]) => `${name} ${us.toFixed(2)}`)
        .join(', ')}`
    : '';
  return (
    `every built-in guard on every stage (${figures.checksPerRun} checks per run): ${figures.guardedStepUs.toFixed(2)} µs/step ` +
    `vs ${figures.plainStepUs.toFixed(2)} plain = +${(figures.overheadUs ?? 0).toFixed(2)} µs/step (${figures.ratioToPlain}×); ${peer}${breakdown}`
  );
}
