import type { RunFigures } from './stats-collect.js';
import { ALERT_RULES, type AlertRule, fires } from './stats-rules.js';

export interface RuleResult {
  id: AlertRule['id'];
  label: string;
  op: AlertRule['op'];
  threshold: number;
  unit: AlertRule['unit'];
  /** Undefined when no run (or no tool call) gives the figure. */
  value: number | undefined;
  state: 'OK' | 'ALERT' | 'NO DATA';
  /** What the value was computed over, and for tool errors which tool. */
  detail: string;
}

export interface StatsReport {
  runs: number;
  ended: number;
  from?: number;
  to?: number;
  rules: RuleResult[];
  tools: Record<string, { calls: number; errors: number; errorRate: number }>;
  alerts: number;
}

/** The seed's thresholds over `runs`: one row per rule, OK, ALERT, or NO DATA when nothing measures it. */
export function evaluateRuns(runs: readonly RunFigures[]): StatsReport {
  const ended = runs.filter((run) => run.status !== 'awaiting_approval');
  const tools: StatsReport['tools'] = {};
  for (const run of runs) {
    for (const [tool, counts] of Object.entries(run.tools)) {
      const total = tools[tool] ?? { calls: 0, errors: 0, errorRate: 0 };
      total.calls += counts.calls;
      total.errors += counts.errors;
      total.errorRate = total.errors / total.calls;
      tools[tool] = total;
    }
  }
  const worstTool = Object.entries(tools).sort((a, b) => b[1].errorRate - a[1].errorRate)[0];
  const values: Record<AlertRule['id'], { value: number | undefined; detail: string }> = {
    success_rate: {
      value:
        ended.length === 0
          ? undefined
          : ended.filter((run) => run.status === 'completed').length / ended.length,
      detail: `${ended.filter((run) => run.status === 'completed').length}/${ended.length} ended runs completed`,
    },
    avg_steps: { value: mean(runs.map((run) => run.steps)), detail: `over ${runs.length} runs` },
    p99_latency: {
      value: percentile(
        runs.map((run) => run.durationMs / 1_000),
        0.99,
      ),
      detail: `over ${runs.length} runs`,
    },
    avg_tokens: { value: mean(runs.map((run) => run.tokens)), detail: `over ${runs.length} runs` },
    avg_cost: { value: mean(runs.map((run) => run.costUsd)), detail: `over ${runs.length} runs` },
    tool_error_rate: {
      value: worstTool?.[1].errorRate,
      detail: worstTool
        ? `worst: ${worstTool[0]} ${worstTool[1].errors}/${worstTool[1].calls}`
        : 'no tool calls',
    },
    escalation_rate: {
      value: runs.length === 0 ? undefined : runs.filter((run) => run.escalated).length / runs.length,
      detail: `${runs.filter((run) => run.escalated).length}/${runs.length} runs needed a person`,
    },
  };
  const rules = ALERT_RULES.map((rule): RuleResult => {
    const { value, detail } = values[rule.id];
    const state = value === undefined ? 'NO DATA' : fires(rule, value) ? 'ALERT' : 'OK';
    return {
      id: rule.id,
      label: rule.label,
      op: rule.op,
      threshold: rule.threshold,
      unit: rule.unit,
      value,
      state,
      detail,
    };
  });
  const report: StatsReport = {
    runs: runs.length,
    ended: ended.length,
    rules,
    tools,
    alerts: rules.filter((rule) => rule.state === 'ALERT').length,
  };
  if (runs.length > 0) {
    report.from = runs[0]?.startMs as number;
    report.to = runs.at(-1)?.startMs as number;
  }
  return report;
}

function mean(values: number[]): number | undefined {
  return values.length === 0 ? undefined : values.reduce((sum, value) => sum + value, 0) / values.length;
}

/** Nearest rank: the smallest value with at least `q` of the values at or below it. */
export function percentile(values: number[], q: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}
