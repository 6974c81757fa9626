/**
 * The `planning` target of `npm run bench` (issue 14), measured in its own child like the others and kept
 * here so the runner gains only a few lines. Loads no Baton code in the runner's process.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runChild } from '../spawn.js';

const MODULE = fileURLToPath(new URL('./index.js', import.meta.url));
const TIME_LIMIT_MS = 10 * 60_000;

export async function measurePlanningTarget(env: NodeJS.ProcessEnv): Promise<Record<string, unknown>> {
  process.stdout.write('measuring planning ... ');
  const started = Date.now();
  const outcome = await runChild({ kind: 'planning', module: MODULE }, TIME_LIMIT_MS, env);
  process.stdout.write(`${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  return outcome.ok ? outcome.result : { error: outcome.error };
}

/**
 * The planning figures are token counts and step counts from deterministic models, not timings: a run
 * that measured them alone (`--only planning`, which writes partial.json) also records them in
 * latest.json, stamped with their own `measuredAt`.
 */
export function recordPlanningInLatest(
  latest: string,
  written: string,
  planning: Record<string, unknown>,
): void {
  if ('error' in planning || written === latest || !existsSync(latest)) return;
  const results = JSON.parse(readFileSync(latest, 'utf8')) as Record<string, unknown>;
  results.planning = planning;
  writeFileSync(latest, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`recorded planning in ${latest}`);
}

interface Totals {
  succeeded: number;
  steps: number;
  tokens: number;
  toolCalls: number;
  statuses: Record<string, number>;
  refusedPlans?: number;
  replans?: number;
}

/** The printed table of the planning benchmark. */
export function formatPlanning(figures: Record<string, unknown>): string {
  if ('error' in figures) return `planning: ${String(figures.error)}`;
  const react = figures.react as Totals;
  const plan = figures.planExecute as Totals;
  const steady = figures.reactSteady as Totals;
  const ratios = figures.ratios as {
    steps: number;
    tokens: number;
    toolCalls: number;
    stepsVsSteady: number;
    tokensVsSteady: number;
  };
  const tasks = (figures.workload as { tasks: number }).tasks;
  const statuses = (totals: Totals) =>
    Object.entries(totals.statuses)
      .map(([status, count]) => `${status} ${count}`)
      .join(', ');
  const rows = [
    ['planning (10 tasks)', 'succeeded', 'model steps', 'tokens', 'tool calls', 'statuses'],
    [
      'ReAct',
      `${react.succeeded}/${tasks}`,
      `${react.steps}`,
      `${react.tokens}`,
      `${react.toolCalls}`,
      statuses(react),
    ],
    [
      'ReAct, never wandering (control)',
      `${steady.succeeded}/${tasks}`,
      `${steady.steps}`,
      `${steady.tokens}`,
      `${steady.toolCalls}`,
      statuses(steady),
    ],
    [
      'plan-execute',
      `${plan.succeeded}/${tasks}`,
      `${plan.steps}`,
      `${plan.tokens}`,
      `${plan.toolCalls}`,
      statuses(plan),
    ],
    ['plan-execute ÷ ReAct', '', `${ratios.steps}`, `${ratios.tokens}`, `${ratios.toolCalls}`, ''],
    ['plan-execute ÷ control', '', `${ratios.stepsVsSteady}`, `${ratios.tokensVsSteady}`, '', ''],
  ];
  const widths =
    rows[0]?.map((_, column) => Math.max(...rows.map((cells) => cells[column]?.length ?? 0))) ?? [];
  const lines = rows.map((cells) => cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  '));
  lines.push(
    `plan-execute: ${plan.refusedPlans ?? 0} plan(s) refused by validation and fixed, ${plan.replans ?? 0} re-plan(s)`,
  );
  return lines.join('\n');
}
