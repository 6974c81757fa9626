import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BatonMetric } from '@baton/core';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ALERT_RULES } from '../src/commands/stats-rules.js';

const RULES_FILE = fileURLToPath(new URL('../../../ops/prometheus/baton-rules.yml', import.meta.url));

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** What the Prometheus exporter calls each instrument: its series names. */
function exportedSeries(): Set<string> {
  const series = new Set<string>();
  for (const name of Object.values(BatonMetric)) {
    const base = name.replaceAll('.', '_');
    for (const suffix of ['_total', '_bucket', '_sum', '_count']) series.add(`${base}${suffix}`);
  }
  return series;
}

describe('ops/prometheus/baton-rules.yml', () => {
  const doc = parse(readFileSync(RULES_FILE, 'utf8')) as { groups: { name: string; rules: Rule[] }[] };
  const rules = doc.groups.flatMap((group) => group.rules);

  it('is a Prometheus rules file: groups of named alerts with an expression, a duration and a summary', () => {
    expect(doc.groups.length).toBeGreaterThan(0);
    const names = new Set<string>();
    for (const rule of rules) {
      expect(rule.alert).toMatch(/^[A-Za-z][A-Za-z0-9_]*$/);
      expect(names.has(rule.alert), rule.alert).toBe(false);
      names.add(rule.alert);
      expect(rule.expr.trim().length).toBeGreaterThan(0);
      expect(rule.for ?? '0m').toMatch(/^\d+[smh]$/);
      expect(rule.annotations?.summary).toBeDefined();
      // Balanced parentheses and braces: the cheapest syntax check without promtool.
      for (const [open, close] of [
        ['(', ')'],
        ['{', '}'],
        ['[', ']'],
      ] as const) {
        expect(rule.expr.split(open).length, `${rule.alert} ${open}`).toBe(rule.expr.split(close).length);
      }
    }
  });

  it('uses only series the runtime exports', () => {
    const exported = exportedSeries();
    let checked = 0;
    for (const rule of rules) {
      for (const series of rule.expr.match(/baton_[a-z_]+(?=[[{])/g) ?? []) {
        expect(exported.has(series), `${rule.alert}: ${series}`).toBe(true);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(rules.length);
  });

  it('carries the same thresholds `baton stats` evaluates', () => {
    const byRule: Record<string, string> = {
      success_rate: 'BatonAgentSuccessRateLow',
      avg_steps: 'BatonAgentStepsHigh',
      p99_latency: 'BatonAgentLatencyP99High',
      avg_tokens: 'BatonAgentTokensHigh',
      avg_cost: 'BatonAgentCostHigh',
      tool_error_rate: 'BatonToolErrorRateHigh',
      escalation_rate: 'BatonEscalationRateHigh',
    };
    for (const threshold of ALERT_RULES) {
      const rule = rules.find((candidate) => candidate.alert === byRule[threshold.id]);
      expect(rule, threshold.id).toBeDefined();
      const match = /\)\s*([<>])\s*([\d.]+)\s*$/.exec(rule?.expr.trim() ?? '');
      expect(match?.[1], threshold.id).toBe(threshold.op);
      expect(Number(match?.[2]), threshold.id).toBe(threshold.threshold);
    }
  });
});
