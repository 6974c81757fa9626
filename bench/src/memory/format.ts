/**
 * The printed table of the memory benchmark (kept apart from index.ts so the runner can print it without
 * loading Baton).
 */
interface RunRow {
  status: string;
  steps: number;
  modelCalls: number;
  inputTokens: number;
  facts: number;
  success: boolean;
}

interface WorkloadRow {
  name: string;
  facts: number;
  full: RunRow;
  compacted: RunRow;
  ratio: number;
}

export function formatMemory(figures: Record<string, unknown>): string {
  const p6 = figures.p6 as
    | {
        error?: string;
        fullHistoryInputTokens: number;
        compactedInputTokens: number;
        ratio: number;
        successFull: boolean;
        successCompacted: boolean;
        met: boolean;
        workloads: WorkloadRow[];
        control: WorkloadRow;
      }
    | undefined;
  if ('error' in figures || !p6) return `memory.p6: ${String(figures.error ?? 'not measured')}`;
  const row = (workload: WorkloadRow, label = workload.name) => [
    label,
    `${workload.full.inputTokens} (${workload.full.steps} steps, ${workload.full.facts}/${workload.facts})`,
    `${workload.compacted.inputTokens} (${workload.compacted.steps} steps, ${workload.compacted.facts}/${workload.facts})`,
    `${workload.ratio}`,
    `${workload.full.success ? 'ok' : 'FAILED'} / ${workload.compacted.success ? 'ok' : 'FAILED'}`,
  ];
  const rows = [
    [
      'memory.p6',
      'full history: input tokens',
      'compacted: input tokens',
      'ratio',
      'success full / compacted',
    ],
    ...p6.workloads.map((workload) => row(workload)),
    [
      'total',
      `${p6.fullHistoryInputTokens}`,
      `${p6.compactedInputTokens}`,
      `${p6.ratio}`,
      `${p6.successFull} / ${p6.successCompacted}`,
    ],
    row(p6.control, `${p6.control.name} (not in total)`),
  ];
  const widths =
    rows[0]?.map((_, column) => Math.max(...rows.map((cells) => cells[column]?.length ?? 0))) ?? [];
  const lines = rows.map((cells) => cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  '));
  lines.push(`goal: ratio ≤ 0.5 with the same success: ${p6.met ? 'met' : 'MISSED'}`);
  lines.push(formatCacheFigures(figures.cache));
  return lines.join('\n');
}

/** One line for `memory.cache` (cache.ts): hit rate and tokens saved on the repeated-question workload. */
function formatCacheFigures(cache: unknown): string {
  const c = cache as
    | {
        questions: number;
        distinct: number;
        requests: number;
        hits: number;
        hitRate: number;
        tokensWithout: number;
        tokensWith: number;
        tokensSaved: number;
        savedRatio: number;
        sameAnswers: boolean;
      }
    | undefined;
  if (!c || typeof c.hits !== 'number') return 'memory.cache: not measured';
  return (
    `memory.cache: ${c.questions} questions (${c.distinct} distinct), ${c.hits}/${c.requests} model calls from ` +
    `the cache (hit rate ${c.hitRate}); tokens ${c.tokensWithout} → ${c.tokensWith} (saved ${c.tokensSaved}, ` +
    `${c.savedRatio}); same answers: ${c.sameAnswers}`
  );
}
