import { type AbMetric, type AbReport, formatP, percent } from './ab.js';
import type { EvalReport, MetricSummary } from './runner.js';
import type { BootstrapInterval } from './stats.js';

/** The eval report as Markdown: the summary table, then every case with each check and its reason. */
export function evalMarkdown(report: EvalReport): string {
  const s = report.summary;
  const lines = [
    `# Eval: ${report.suite}`,
    '',
    `Variant **${report.variant.label}**${report.variant.model ? ` (model ${report.variant.model})` : ''}${report.variant.bundle ? `, bundle \`${report.variant.bundle}\`` : ''} · ${report.startedAt} · ${(report.durationMs / 1000).toFixed(1)} s`,
    '',
    `**${report.ok ? 'PASS' : 'FAIL'}**: success rate ${percent(s.successRate)} (${s.passed}/${s.samples} runs, ${s.casesPassed}/${s.cases} cases), threshold ${percent(report.threshold)}`,
    '',
    '| metric | mean | p50 | p95 | total |',
    '| --- | ---: | ---: | ---: | ---: |',
    metricRow('steps', s.steps),
    metricRow('tokens', s.tokens),
    s.costUsd ? metricRow('cost (USD)', s.costUsd, 4) : '| cost (USD) | unknown | | | |',
    metricRow('latency (ms)', s.latencyMs, 0),
    '',
    '| check kind | passed |',
    '| --- | ---: |',
    ...Object.entries(s.checks).map(([kind, count]) => `| ${kind} | ${count.passed}/${count.total} |`),
    '',
    '## Cases',
    '',
  ];
  for (const c of report.cases) {
    lines.push(
      `### ${c.passed === c.samples.length ? '✅' : '❌'} ${c.id}${c.name ? ` — ${c.name}` : ''}`,
      '',
    );
    for (const sample of c.samples) {
      const replay = sample.replay
        ? `, replay ${sample.replay.mode} (${sample.replay.hits} recorded, ${sample.replay.misses} live)`
        : '';
      lines.push(
        `Sample ${sample.sample}: ${sample.passed ? 'pass' : 'fail'} · status ${sample.status} · ${sample.steps} steps · ${sample.tokens} tokens · ${sample.costUsd === null ? 'cost unknown' : `$${sample.costUsd.toFixed(4)}`} · ${sample.latencyMs} ms${replay}${sample.runId ? ` · run ${sample.runId}` : ''}`,
        '',
      );
      if (sample.error) lines.push(`- ⚠️ ${sample.error.code}: ${oneLine(sample.error.message)}`);
      for (const check of sample.checks)
        lines.push(`- ${check.passed ? '✅' : '❌'} ${oneLine(check.name)}: ${oneLine(check.reason)}`);
      lines.push('');
    }
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

function metricRow(name: string, m: MetricSummary, digits = 1): string {
  return `| ${name} | ${m.mean.toFixed(digits)} | ${m.p50.toFixed(digits)} | ${m.p95.toFixed(digits)} | ${m.total.toFixed(digits)} |`;
}

const METRIC_LABELS: Record<AbMetric, string> = {
  passRate: 'success rate',
  steps: 'steps',
  tokens: 'tokens',
  costUsd: 'cost (USD)',
  latencyMs: 'latency (ms)',
};

/** The A/B report as Markdown: both arms, McNemar, the bootstrap CIs, the sample-size warning. */
export function abMarkdown(report: AbReport): string {
  const { a, b, mcnemar } = report;
  const lines = [
    `# A/B: ${report.suite}`,
    '',
    `A = **${a.label}**${a.bundle ? ` (bundle \`${a.bundle}\`)` : ''}, B = **${b.label}**${b.bundle ? ` (bundle \`${b.bundle}\`)` : ''} · ${report.samplesPerCase} sample(s) per case · ${report.perVariant} runs per arm · ${report.startedAt}`,
    '',
  ];
  if (report.warning) lines.push(`> ⚠️ ${report.warning}`, '');
  lines.push(
    `**Verdict:** ${report.verdict}`,
    '',
    '| | A | B |',
    '| --- | ---: | ---: |',
    `| success rate | ${percent(a.summary.successRate)} | ${percent(b.summary.successRate)} |`,
    `| mean steps | ${a.summary.steps.mean.toFixed(2)} | ${b.summary.steps.mean.toFixed(2)} |`,
    `| mean tokens | ${a.summary.tokens.mean.toFixed(0)} | ${b.summary.tokens.mean.toFixed(0)} |`,
    `| mean cost (USD) | ${a.summary.costUsd ? a.summary.costUsd.mean.toFixed(4) : 'unknown'} | ${b.summary.costUsd ? b.summary.costUsd.mean.toFixed(4) : 'unknown'} |`,
    `| mean latency (ms) | ${a.summary.latencyMs.mean.toFixed(0)} | ${b.summary.latencyMs.mean.toFixed(0)} |`,
    '',
    `**McNemar (exact):** b = ${mcnemar.b} (A pass, B fail), c = ${mcnemar.c} (A fail, B pass), p = ${formatP(mcnemar.pValue)} (α = ${report.alpha})`,
    '',
    `**Paired bootstrap, B − A** (case as the unit; ${firstInterval(report)?.iterations ?? 0} resamples, seed ${firstInterval(report)?.seed ?? 0}):`,
    '',
    '| metric | mean Δ | CI low | CI high |',
    '| --- | ---: | ---: | ---: |',
    ...(Object.keys(METRIC_LABELS) as AbMetric[]).map((metric) =>
      intervalRow(METRIC_LABELS[metric], report.deltas[metric]),
    ),
    '',
    '## Cases',
    '',
    '| case | A | B | replayed tool results (A / B) |',
    '| --- | --- | --- | --- |',
    ...report.cases.map(
      (c) =>
        `| ${c.id} | ${marks(c.a)} | ${marks(c.b)} | ${c.replay ? `${c.replay.a.hits} recorded, ${c.replay.a.misses} live / ${c.replay.b.hits} recorded, ${c.replay.b.misses} live` : '—'} |`,
    ),
  );
  return `${lines.join('\n')}\n`;
}

function firstInterval(report: AbReport): BootstrapInterval | undefined {
  return Object.values(report.deltas).find((interval): interval is BootstrapInterval => interval !== null);
}

function intervalRow(label: string, interval: BootstrapInterval | null): string {
  if (!interval) return `| ${label} | unknown | | |`;
  const digits = label.startsWith('cost') ? 5 : label === 'success rate' ? 3 : 1;
  return `| ${label} | ${interval.mean.toFixed(digits)} | ${interval.low.toFixed(digits)} | ${interval.high.toFixed(digits)} |`;
}

function marks(passes: readonly boolean[]): string {
  return passes.map((passed) => (passed ? '✅' : '❌')).join(' ');
}

function oneLine(text: string): string {
  return text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');
}
