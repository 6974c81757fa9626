/**
 * `security.guardOverheadUs` (issue 12): what every built-in guard on every stage adds to an agent step.
 * The `guards` target (adapters/baton-guarded.ts) runs the benchmark workload with them, as a framework of
 * its own in the same rounds as Baton and the peers (measure.ts), so the plain step, the guarded step and
 * the peers' steps come from one run on one machine. Goal: the guarded step ≤ 0.1 × the fastest peer's.
 */
import { RunEvents, run } from '@baton/core';
import { everyGuard, GUARDED_ARGS, guardedAgent } from './adapters/baton-guarded.js';
import { median } from './harness.js';
import { type Entry, isFigures, type PeerKey, round } from './report.js';
import { type Probe, TOOL_NAME } from './workload.js';

export const GUARD_METHOD =
  'The benchmark workload (two steps: a tool call, an answer) run by the `guards` target with every built-in guard on every ' +
  'stage (input, output, toolInput, toolOutput): lengthGuard (20,000 characters, 4,000 tokens), piiGuard (every kind: PII ' +
  'and secrets), allowListGuard (region), readOnlySqlGuard (query, PostgreSQL: tokenizer + libpg-query parser), ' +
  'moderationGuard with keywordModeration, injectionGuard (heuristics, no judge). The tool call carries a query and a region ' +
  'for the argument guards to read; everything else is the plain `baton` workload. Same protocol and rounds as the other ' +
  'targets (median of the rounds). overheadUs = guarded step − plain step from the same run. The query is the same on ' +
  'every run, and readOnlySqlGuard remembers the texts it found read-only (256, bounded), so after the first run the ' +
  'parser is not asked again: sqlFirstSightUsPerCheck is what a query the guard has not seen costs (tokenizer + parser).';

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
  /**
   * `guard.checked` events of one guarded run, counted: the guards measured are the guards that ran (a
   * guard whose tool or stage never matched would make the overhead look smaller than it is).
   */
  checksObservedPerRun?: number;
  /** Each guard's checks of one run's values, called directly: where the time goes. */
  breakdownUsPerRun?: Record<string, number>;
  /**
   * The breakdown summed and halved (a run is two steps), to set beside `overheadUs`. Direct calls on a
   * small heap leave out what the run adds around them (the guard plumbing, garbage collection on a
   * larger heap), so this is a floor under `overheadUs`, not a second measure of it.
   */
  breakdownSumUsPerStep?: number;
  /**
   * µs for readOnlySqlGuard to check a query it has not seen (tokenizer + PostgreSQL parser), called
   * directly. The workload repeats one query, which the guard remembers after the first run: this is what
   * a step whose query is new adds on top of the guarded step.
   */
  sqlFirstSightUsPerCheck?: number;
  method: string;
  note?: string;
  error?: string;
}

export function guardOverhead(
  plain: Entry,
  guarded: Entry,
  peers: Record<PeerKey, Entry>,
  breakdownUsPerRun: Record<string, number> | undefined,
  checksObservedPerRun?: number,
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
  if (measured.length < 3) {
    notes.push(
      `only ${measured.length} of 3 peers measured: the goal is judged against peers of the same run, so ` +
        '`met` stays false (run the bench with the peers for the verdict)',
    );
  }
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
  if (breakdownUsPerRun) {
    const { [SQL_FIRST_SIGHT]: firstSight, ...byGuard } = breakdownUsPerRun;
    figures.breakdownUsPerRun = byGuard;
    const sum = Object.values(byGuard).reduce((total, us) => total + us, 0);
    figures.breakdownSumUsPerStep = round(sum / 2, 3);
    if (firstSight !== undefined) figures.sqlFirstSightUsPerCheck = firstSight;
  }
  if (checksObservedPerRun !== undefined) {
    figures.checksObservedPerRun = checksObservedPerRun;
    if (checksObservedPerRun !== figures.checksPerRun) {
      notes.push(`a guarded run made ${checksObservedPerRun} guard checks, not ${figures.checksPerRun}`);
    }
  }
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
  out[SQL_FIRST_SIGHT] = await sqlFirstSight(signal);
  return out;
}

/** The key of `sqlFirstSightUsPerCheck` in what guardBreakdown returns (not a guard: left out of the sum). */
const SQL_FIRST_SIGHT = 'read-only-sql, a query not seen before';

/**
 * µs per check of a query the SQL guard has not seen: the workload's query with a new LIMIT each time,
 * so the guard's memory of read-only texts never answers. Same protocol as the breakdown.
 */
async function sqlFirstSight(signal: AbortSignal): Promise<number> {
  const guard = everyGuard().find((candidate) => candidate.name === 'read-only-sql');
  if (!guard) throw new Error('everyGuard() has no read-only-sql guard');
  const context = {
    stage: 'toolInput',
    runId: 'run_bench',
    agent: 'bench',
    signal,
    tool: TOOL_NAME,
  } as const;
  let limit = 0;
  const pass = async (checks: number) => {
    const started = performance.now();
    for (let index = 0; index < checks; index++) {
      const query = `SELECT id, name FROM customers WHERE region = $1 LIMIT ${++limit}`;
      const verdict = guard.check({ ...GUARDED_ARGS, query }, context);
      const settled = verdict instanceof Promise ? await verdict : verdict;
      if (settled.action !== 'pass') throw new Error(`the SQL guard refused ${query}`);
    }
    return ((performance.now() - started) * 1000) / checks;
  };
  await pass(2_000);
  const timings: number[] = [];
  for (let repetition = 0; repetition < 5; repetition++) timings.push(await pass(2_000));
  return round(median(timings), 3);
}

/** Runs the guarded agent once with an event sink and counts its guard checks (see checksObservedPerRun). */
export async function observeGuardChecks(): Promise<number> {
  const events = new RunEvents();
  let checks = 0;
  events.on('guard.checked', () => {
    checks++;
  });
  const probe: Probe = { hold: undefined, arrived: 0, modelCalls: 0, toolCalls: 0 };
  const result = await run(guardedAgent(probe), 'go', { events });
  if (result.status !== 'completed') throw new Error(`the guarded run ended ${result.status}`);
  return checks;
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
        .join(
          ', ',
        )} (sum ${figures.breakdownSumUsPerStep?.toFixed(2)} µs/step, a floor under the measured overhead)`
    : '';
  const firstSight =
    figures.sqlFirstSightUsPerCheck === undefined
      ? ''
      : `\n  a query the SQL guard has not seen (the workload repeats one): +${figures.sqlFirstSightUsPerCheck.toFixed(2)} µs per check`;
  return (
    `every built-in guard on every stage (${figures.checksPerRun} checks per run): ${figures.guardedStepUs.toFixed(2)} µs/step ` +
    `vs ${figures.plainStepUs.toFixed(2)} plain = +${(figures.overheadUs ?? 0).toFixed(2)} µs/step (${figures.ratioToPlain}×); ${peer}${breakdown}${firstSight}`
  );
}
