import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { EvalReport, MetricBucket, MetricPoint, Metrics, RunSummary } from './wire.js';

/**
 * Per-run series (latency, steps, tokens, cost) and the success rate over time, from the finished runs
 * the console knows. Computed from the run index and traces, so it works with no metrics backend.
 */
export function metricsOf(runs: readonly RunSummary[], buckets = 24): Metrics {
  const finished = runs.filter((run) => !run.live).sort((a, b) => a.startedMs - b.startedMs);
  const points = finished.map((run) => {
    const point: MetricPoint = {
      runId: run.runId,
      name: run.name,
      startedMs: run.startedMs,
      status: run.status,
      ok: run.status === 'completed',
    };
    if (run.durationMs !== undefined) point.durationMs = run.durationMs;
    if (run.steps !== undefined) point.steps = run.steps;
    if (run.tokens) point.tokens = run.tokens.input + run.tokens.output;
    if (run.costUsd !== undefined) point.costUsd = run.costUsd;
    return point;
  });
  const first = points[0]?.startedMs ?? 0;
  const last = points.at(-1)?.startedMs ?? 0;
  const span = Math.max(last - first, 60_000);
  const bucketMs = Math.ceil(span / buckets);
  const rows: MetricBucket[] = [];
  for (const point of points) {
    const start = first + Math.min(buckets - 1, Math.floor((point.startedMs - first) / bucketMs)) * bucketMs;
    let row = rows.at(-1);
    if (!row || row.startMs !== start) {
      row = { startMs: start, runs: 0, completed: 0, successRate: 0 };
      rows.push(row);
    }
    row.runs++;
    if (point.ok) row.completed++;
    row.successRate = row.completed / row.runs;
  }
  const priced = points.filter((point) => point.costUsd !== undefined);
  const totals: Metrics['totals'] = {
    runs: points.length,
    completed: points.filter((point) => point.ok).length,
    tokens: points.reduce((sum, point) => sum + (point.tokens ?? 0), 0),
  };
  // Usage without a price is unknown, never $0: a total only when every run has a cost.
  if (priced.length === points.length && points.length > 0) {
    totals.costUsd = priced.reduce((sum, point) => sum + (point.costUsd ?? 0), 0);
  }
  return { source: 'run-index', points, buckets: rows, bucketMs, totals };
}

/** The eval and A/B reports in `dir` (`eval-*.json`, `ab-*.json`), newest first; unreadable files skipped. */
export function evalReports(dir: string | undefined, limit = 50): EvalReport[] {
  if (!dir) return [];
  let files: string[];
  try {
    files = readdirSync(dir).filter((file) => /^(eval|ab)-.*\.json$/.test(file));
  } catch {
    return [];
  }
  const reports: EvalReport[] = [];
  for (const file of files) {
    const path = join(dir, file);
    try {
      const stats = statSync(path);
      if (stats.size > 5_000_000) continue;
      reports.push({ file, modifiedMs: stats.mtimeMs, report: JSON.parse(readFileSync(path, 'utf8')) });
    } catch {
      // A report being written or not JSON: not shown.
    }
  }
  return reports.sort((a, b) => b.modifiedMs - a.modifiedMs).slice(0, limit);
}
