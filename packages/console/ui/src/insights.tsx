import { useCallback, useEffect, useState } from 'preact/hooks';
import { api, type EvalReport, type MetricPoint, type Metrics } from './api';
import { formatCost, formatMs, formatTime, json, useLive } from './util';

/** A small line chart: one point per run (or bucket), in time order, with its axis range in words. */
function Chart({
  title,
  values,
  format,
}: {
  title: string;
  values: { x: number; y: number | undefined; label: string }[];
  format: (n: number) => string;
}) {
  const known = values.filter(
    (value): value is { x: number; y: number; label: string } => value.y !== undefined,
  );
  const width = 320;
  const height = 120;
  const max = Math.max(...known.map((value) => value.y), 0);
  const minX = Math.min(...known.map((value) => value.x));
  const maxX = Math.max(...known.map((value) => value.x));
  const px = (x: number) => (maxX === minX ? width / 2 : 8 + ((x - minX) / (maxX - minX)) * (width - 16));
  const py = (y: number) => height - 10 - (max === 0 ? 0 : (y / max) * (height - 24));
  const id = title.replace(/\W+/g, '-').toLowerCase();
  return (
    <figure class="chart">
      <figcaption id={id}>
        {title}{' '}
        <span class="muted">
          {known.length === 0
            ? 'no data'
            : `max ${format(max)}, ${known.length} run${known.length === 1 ? '' : 's'}`}
        </span>
      </figcaption>
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-labelledby={id}>
        <title>{title}</title>
        <line x1="8" y1={height - 10} x2={width - 8} y2={height - 10} stroke="#cbd5e1" />
        {known.length > 1 && (
          <polyline
            fill="none"
            stroke="#4f46e5"
            stroke-width="1.5"
            points={known.map((value) => `${px(value.x)},${py(value.y)}`).join(' ')}
          />
        )}
        {known.map((value) => (
          <circle key={`${value.x}-${value.label}`} cx={px(value.x)} cy={py(value.y)} r="3" fill="#4f46e5">
            <title>{`${value.label}: ${format(value.y)}`}</title>
          </circle>
        ))}
      </svg>
    </figure>
  );
}

export function InsightsPage() {
  const [metrics, setMetrics] = useState<Metrics | undefined>();
  const [reports, setReports] = useState<EvalReport[]>([]);
  const [error, setError] = useState('');
  const load = useCallback(async () => {
    try {
      const [m, e] = await Promise.all([api<Metrics>('metrics'), api<{ reports: EvalReport[] }>('evals')]);
      setMetrics(m);
      setReports(e.reports);
      setError('');
    } catch (failure) {
      setError((failure as Error).message);
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);
  useLive(load);
  const points = metrics?.points ?? [];
  const series = (pick: (point: MetricPoint) => number | undefined) =>
    points.map((point) => ({
      x: point.startedMs,
      y: pick(point),
      label: `${point.runId} (${formatTime(point.startedMs)})`,
    }));
  return (
    <>
      <h1 tabIndex={-1}>Evals &amp; metrics</h1>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      <section aria-labelledby="metrics-title">
        <h2 id="metrics-title">Runs over time</h2>
        {metrics && (
          <p>
            {metrics.totals.runs} finished runs, {metrics.totals.completed} completed (
            {metrics.totals.runs > 0 ? Math.round((metrics.totals.completed / metrics.totals.runs) * 100) : 0}
            %), {metrics.totals.tokens.toLocaleString('en')} tokens, cost {formatCost(metrics.totals.costUsd)}
            . <span class="muted">Computed from the run index and traces.</span>
          </p>
        )}
        <div class="charts">
          <Chart
            title="Success rate"
            values={(metrics?.buckets ?? []).map((bucket) => ({
              x: bucket.startMs,
              y: bucket.successRate * 100,
              label: `${bucket.runs} runs from ${formatTime(bucket.startMs)}`,
            }))}
            format={(n) => `${Math.round(n)}%`}
          />
          <Chart title="Latency" values={series((point) => point.durationMs)} format={formatMs} />
          <Chart
            title="Steps (model calls)"
            values={series((point) => point.steps)}
            format={(n) => String(n)}
          />
          <Chart
            title="Tokens"
            values={series((point) => point.tokens)}
            format={(n) => n.toLocaleString('en')}
          />
          <Chart title="Cost" values={series((point) => point.costUsd)} format={(n) => formatCost(n)} />
        </div>
      </section>
      <section aria-labelledby="evals-title">
        <h2 id="evals-title">Eval and A/B reports</h2>
        {reports.length === 0 ? (
          <p class="muted">
            No reports yet: <code>baton eval</code> and <code>baton ab</code> write them to{' '}
            <code>bench/results</code>.
          </p>
        ) : (
          reports.map((report) => (
            <details key={report.file}>
              <summary>
                <strong>{report.file}</strong> <span class="muted">{formatTime(report.modifiedMs)}</span>{' '}
                <EvalHeadline report={report.report} />
              </summary>
              <pre class="code">{json(report.report)}</pre>
            </details>
          ))
        )}
      </section>
    </>
  );
}

/** The numbers people look for first, when the report has them at its top level or under `summary`. */
function EvalHeadline({ report }: { report: unknown }) {
  if (report === null || typeof report !== 'object') return null;
  const top = report as Record<string, unknown>;
  const source = (top.summary && typeof top.summary === 'object' ? top.summary : top) as Record<
    string,
    unknown
  >;
  const facts = Object.entries(source)
    .filter(([, value]) => typeof value === 'number' || typeof value === 'string')
    .slice(0, 6)
    .map(
      ([key, value]) =>
        `${key} ${typeof value === 'number' && !Number.isInteger(value) ? value.toFixed(3) : value}`,
    );
  return facts.length > 0 ? <span>— {facts.join(' · ')}</span> : null;
}
