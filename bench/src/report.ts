export interface Figures {
  stepOverheadUs: number;
  heapPerRunBytes: number;
  version: string;
  /** Each timed repetition's µs per step; stepOverheadUs is their median. */
  repetitionsUs: number[];
  /** Heap per run still retained after the held runs completed (≈ 0 unless something leaks or caches). */
  residualPerRunBytes: number;
  /** Time for the 2,000 held runs to finish once released. */
  drainMs: number;
}

export type Entry = Figures | { error: string; version?: string };

/** The error of a target left out with --only. */
export const NOT_MEASURED = 'not measured in this run (--only)';

export type PeerKey = 'openaiAgents' | 'langgraph' | 'mastra';

export interface RunConfig {
  warmupRuns: number;
  warmupMs: number;
  repetitions: number;
  runsPerRepetition: number;
  concurrentRuns: number;
}

/** The protocol issue 2 asks for: ≥ 3 repetitions of ≥ 5,000 runs, 2,000 concurrent runs. */
export function isFullProtocol(config: RunConfig): boolean {
  return config.repetitions >= 3 && config.runsPerRepetition >= 5_000 && config.concurrentRuns >= 2_000;
}

export function isFigures(entry: Entry | undefined): entry is Figures {
  return entry !== undefined && 'stepOverheadUs' in entry;
}

export interface Comparison {
  ratios: {
    /** Baton's µs per step / the fastest measured peer's. Goal: ≤ 0.1. */
    stepVsFastestPeer: number | null;
    /** Baton's bytes per in-flight run / the smallest measured peer's. Goal: ≤ 0.25. */
    heapVsSmallestPeer: number | null;
    fastestPeer: PeerKey | null;
    smallestPeer: PeerKey | null;
    stepVsFloor: number | null;
    heapVsFloor: number | null;
  };
  goals: {
    stepOverheadUs: '<= fastest peer / 10';
    heapPerRunBytes: '<= smallest peer / 4';
    stepMet: boolean;
    heapMet: boolean;
    /** Both goals met, against all three peers, with the full protocol. */
    met: boolean;
    peersMeasured: number;
    note?: string;
  };
}

export function compare(
  baton: Entry,
  floor: Entry,
  peers: Record<PeerKey, Entry>,
  fullProtocol: boolean,
): Comparison {
  const measured = (Object.entries(peers) as [PeerKey, Entry][]).filter((pair): pair is [PeerKey, Figures] =>
    isFigures(pair[1]),
  );
  const fastest = minBy(measured, (figures) => figures.stepOverheadUs);
  const smallest = minBy(measured, (figures) => figures.heapPerRunBytes);
  const ok = isFigures(baton);
  const stepVsFastestPeer = ok && fastest ? ratio(baton.stepOverheadUs, fastest[1].stepOverheadUs) : null;
  const heapVsSmallestPeer =
    ok && smallest ? ratio(baton.heapPerRunBytes, smallest[1].heapPerRunBytes) : null;
  const stepMet = stepVsFastestPeer !== null && stepVsFastestPeer <= 0.1;
  const heapMet = heapVsSmallestPeer !== null && heapVsSmallestPeer <= 0.25;
  const notes: string[] = [];
  if (!ok) notes.push('Baton was not measured');
  if (measured.length < 3) notes.push(`only ${measured.length} of 3 peers measured`);
  if (!fullProtocol) notes.push('reduced protocol (fewer runs than issue 2 asks for): orientation only');
  const goals: Comparison['goals'] = {
    stepOverheadUs: '<= fastest peer / 10',
    heapPerRunBytes: '<= smallest peer / 4',
    stepMet,
    heapMet,
    met: stepMet && heapMet && measured.length === 3 && fullProtocol,
    peersMeasured: measured.length,
  };
  if (notes.length > 0) goals.note = notes.join('; ');
  return {
    ratios: {
      stepVsFastestPeer,
      heapVsSmallestPeer,
      fastestPeer: fastest?.[0] ?? null,
      smallestPeer: smallest?.[0] ?? null,
      stepVsFloor: ok && isFigures(floor) ? ratio(baton.stepOverheadUs, floor.stepOverheadUs) : null,
      heapVsFloor: ok && isFigures(floor) ? ratio(baton.heapPerRunBytes, floor.heapPerRunBytes) : null,
    },
    goals,
  };
}

/** A plain-text table of the figures, for the terminal. */
export function formatTable(rows: { label: string; entry: Entry }[], baton: Entry): string {
  const header = [
    'framework',
    'version',
    'µs/step',
    'repetitions (µs/step)',
    'heap/run',
    'left/run',
    'vs Baton',
  ];
  const body = rows.map(({ label, entry }) => {
    if (!isFigures(entry)) {
      const skipped = entry.error === NOT_MEASURED;
      return [
        label,
        entry.version ?? '-',
        skipped ? 'skipped' : 'FAILED',
        skipped ? '' : oneLine(entry.error),
        '',
        '',
        '',
      ];
    }
    const versus = isFigures(baton)
      ? `${fixed(entry.stepOverheadUs / baton.stepOverheadUs)}× / ${fixed(entry.heapPerRunBytes / baton.heapPerRunBytes)}×`
      : '';
    return [
      label,
      entry.version,
      fixed(entry.stepOverheadUs),
      entry.repetitionsUs.map(fixed).join(' '),
      kib(entry.heapPerRunBytes),
      kib(entry.residualPerRunBytes),
      versus,
    ];
  });
  const widths = header.map((title, column) =>
    Math.max(title.length, ...body.map((row) => row[column]!.length)),
  );
  const line = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column]!)).join('  ');
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...body.map(line)].join('\n');
}

function minBy<T>(pairs: [PeerKey, T][], value: (item: T) => number): [PeerKey, T] | undefined {
  let best: [PeerKey, T] | undefined;
  for (const pair of pairs) if (!best || value(pair[1]) < value(best[1])) best = pair;
  return best;
}

function ratio(a: number, b: number): number | null {
  return b > 0 ? round(a / b, 4) : null;
}

export function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

function fixed(value: number): string {
  if (value >= 100) return value.toFixed(0);
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

function oneLine(text: string): string {
  const first = text.split('\n')[0] ?? '';
  return first.length > 80 ? `${first.slice(0, 77)}...` : first;
}
