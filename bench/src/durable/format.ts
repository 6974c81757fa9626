/**
 * The printed table of the durable benchmark (kept apart from index.ts so the runner can print it
 * without loading Baton).
 */
export function formatDurable(figures: Record<string, unknown>): string {
  if ('error' in figures) return `durable.journalOverhead: ${String(figures.error)}`;
  const f = figures as {
    ratio: number;
    pairRatioP50: number;
    met: boolean;
    pairs: number;
    recordsPerRun: number;
    usPerRecord: number;
    plainMs: { p50: number; p90: number };
    journaledMs: { p50: number; p90: number };
    namedRunId?: { p50: number; p90: number; ratio: number; pairRatioP50: number };
    append: {
      p50Us: number;
      p99Us: number;
      floorP50Us: number;
      floorP99Us: number;
      ratio: number;
      samples: number;
    };
  };
  const rows = [
    ['durable.journalOverhead', 'p50', 'p90/p99', 'ratio', 'note'],
    [
      'research team, not journaled',
      `${f.plainMs.p50} ms`,
      `${f.plainMs.p90} ms`,
      '',
      `${f.pairs} rounds, order rotating`,
    ],
    [
      'research team, natsJournal',
      `${f.journaledMs.p50} ms`,
      `${f.journaledMs.p90} ms`,
      `${f.ratio}×`,
      `a new run; goal ≤ 1.3×: ${f.met ? 'met' : 'MISSED'}; round median ${f.pairRatioP50}×; ${f.recordsPerRun} records/run`,
    ],
    ...(f.namedRunId
      ? [
          [
            'research team, natsJournal, named runId',
            `${f.namedRunId.p50} ms`,
            `${f.namedRunId.p90} ms`,
            `${f.namedRunId.ratio}×`,
            `resume-or-start: reads the run's journal first; round median ${f.namedRunId.pairRatioP50}×`,
          ],
        ]
      : []),
    ['raw JetStream publish-ack', `${f.append.floorP50Us} µs`, `${f.append.floorP99Us} µs`, '', 'floor'],
    [
      'journal append',
      `${f.append.p50Us} µs`,
      `${f.append.p99Us} µs`,
      `${f.append.ratio}×`,
      `${f.append.samples} each, interleaved`,
    ],
  ];
  const widths =
    rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  return rows
    .map((row, index) => {
      const line = row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ');
      return index === 0 ? `${line}\n${widths.map((width) => '-'.repeat(width)).join('  ')}` : line;
    })
    .join('\n');
}
