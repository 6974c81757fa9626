/**
 * The seed guide's alert thresholds (observability chapter), evaluated by `baton stats` over recent runs
 * and shipped as Prometheus rules in `ops/prometheus/baton-rules.yml` over the same definitions.
 */
export interface AlertRule {
  id:
    | 'success_rate'
    | 'avg_steps'
    | 'p99_latency'
    | 'avg_tokens'
    | 'avg_cost'
    | 'tool_error_rate'
    | 'escalation_rate';
  label: string;
  /** The value alerts when it is below (`<`) or above (`>`) the threshold. */
  op: '<' | '>';
  threshold: number;
  unit: 'ratio' | 'steps' | 'seconds' | 'tokens' | 'usd';
  /** How the value is computed, for the table's legend and the docs. */
  definition: string;
}

export const ALERT_RULES: readonly AlertRule[] = [
  {
    id: 'success_rate',
    label: 'success rate',
    op: '<',
    threshold: 0.9,
    unit: 'ratio',
    definition: 'completed runs ÷ runs that ended (runs waiting for approval have not ended)',
  },
  {
    id: 'avg_steps',
    label: 'avg steps / run',
    op: '>',
    threshold: 8,
    unit: 'steps',
    definition: 'model calls per run, averaged (a team run counts every member step)',
  },
  {
    id: 'p99_latency',
    label: 'p99 latency',
    op: '>',
    threshold: 15,
    unit: 'seconds',
    definition: '99th percentile (nearest rank) of run wall time',
  },
  {
    id: 'avg_tokens',
    label: 'avg tokens / run',
    op: '>',
    threshold: 10_000,
    unit: 'tokens',
    definition: 'input + output tokens per run, averaged',
  },
  {
    id: 'avg_cost',
    label: 'avg cost / run',
    op: '>',
    threshold: 0.1,
    unit: 'usd',
    definition: 'US dollars per run of the priced usage, averaged (unpriced usage is unknown, not $0)',
  },
  {
    id: 'tool_error_rate',
    label: 'tool error rate',
    op: '>',
    threshold: 0.05,
    unit: 'ratio',
    definition: 'failed ÷ all calls, per tool: alerts when any tool is over (the worst is shown)',
  },
  {
    id: 'escalation_rate',
    label: 'escalation rate',
    op: '>',
    threshold: 0.2,
    unit: 'ratio',
    definition: 'runs that needed a person (paused for approval, or asked one with ask_human) ÷ runs',
  },
];

export function fires(rule: AlertRule, value: number): boolean {
  return rule.op === '<' ? value < rule.threshold : value > rule.threshold;
}

export function formatValue(unit: AlertRule['unit'], value: number): string {
  switch (unit) {
    case 'ratio':
      return `${(value * 100).toFixed(1)}%`;
    case 'seconds':
      return `${value.toFixed(2)} s`;
    case 'usd':
      return `$${value.toFixed(4)}`;
    case 'tokens':
      return String(Math.round(value));
    case 'steps':
      return value.toFixed(2);
  }
}
