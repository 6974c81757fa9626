/**
 * Planning benchmark (`planning`, issue 14): the same ten tasks as ReAct and as plan-and-execute, with
 * scripted models (see workload.ts): model steps, tokens (counted with the real tokenizer on every
 * request actually sent), tool calls and success, in the same run. Deterministic: no timing is compared.
 *
 * Called by bench/src/run.ts in its own child; the figures land under `planning`.
 */
import { type RunEvent, RunEvents, run } from '@baton/core';
import {
  agentFor,
  LIMITS,
  type Meter,
  type Mode,
  type PlanningTask,
  succeeded,
  TASKS,
  taskText,
  WANDER,
} from './workload.js';

export interface ModeFigures {
  status: string;
  success: boolean;
  steps: number;
  tokens: number;
  toolCalls: number;
  plans?: number;
  refusedPlans?: number;
  replans?: number;
}

export interface ModeTotals {
  succeeded: number;
  steps: number;
  tokens: number;
  toolCalls: number;
  statuses: Record<string, number>;
}

async function runTask(task: PlanningTask, mode: Mode): Promise<ModeFigures> {
  const meter: Meter = { calls: 0, inputTokens: 0, outputTokens: 0 };
  const counter = { calls: 0 };
  const events = new RunEvents();
  const seen: RunEvent[] = [];
  events.on('*', (event) => seen.push(event));
  const result = await run(agentFor(task, mode, meter, counter), taskText(task), { events });
  const figures: ModeFigures = {
    status: result.status,
    success: result.status === 'completed' && succeeded(task, result.output),
    steps: result.steps,
    tokens: meter.inputTokens + meter.outputTokens,
    toolCalls: counter.calls,
  };
  if (mode === 'plan-execute') {
    const verdicts = seen.filter((event) => event.type === 'plan.validated');
    figures.plans = verdicts.filter((event) => event.type === 'plan.validated' && event.valid).length;
    figures.refusedPlans = verdicts.length - figures.plans;
    figures.replans = seen.filter((event) => event.type === 'plan.replanned').length;
  }
  return figures;
}

function totals(rows: readonly ModeFigures[]): ModeTotals {
  const statuses: Record<string, number> = {};
  for (const row of rows) statuses[row.status] = (statuses[row.status] ?? 0) + 1;
  return {
    succeeded: rows.filter((row) => row.success).length,
    steps: rows.reduce((sum, row) => sum + row.steps, 0),
    tokens: rows.reduce((sum, row) => sum + row.tokens, 0),
    toolCalls: rows.reduce((sum, row) => sum + row.toolCalls, 0),
    statuses,
  };
}

const round3 = (value: number) => Math.round(value * 1_000) / 1_000;

export async function measurePlanning(): Promise<Record<string, unknown>> {
  const tasks: {
    name: string;
    services: number;
    react: ModeFigures;
    reactSteady: ModeFigures;
    planExecute: ModeFigures;
  }[] = [];
  for (const task of TASKS) {
    tasks.push({
      name: task.name,
      services: task.subjects.length,
      react: await runTask(task, 'react'),
      reactSteady: await runTask(task, 'react-steady'),
      planExecute: await runTask(task, 'plan-execute'),
    });
  }
  const react = totals(tasks.map((row) => row.react));
  const planExecute = totals(tasks.map((row) => row.planExecute));
  // The control: ReAct that never wanders. What plan-execute saves over it is the per-step context, not luck.
  const reactSteady = totals(tasks.map((row) => row.reactSteady));
  return {
    workload: {
      tasks: TASKS.length,
      services: TASKS.map((task) => task.subjects.length),
      limits: LIMITS,
      reactWander: WANDER,
      description:
        'Ten lookups of one attribute for 3–8 services (a search and a read each); one archived document fails to read in both modes. ' +
        `Scripted models: ReAct makes one call per step and re-searches something it already found with probability ${WANDER} per step; ` +
        'the planner writes the whole plan at once (tasks t3 and t7 start with a broken plan that validation refuses) and re-plans around the archived document.',
    },
    react,
    reactSteady,
    planExecute: {
      ...planExecute,
      refusedPlans: tasks.reduce((sum, row) => sum + (row.planExecute.refusedPlans ?? 0), 0),
      replans: tasks.reduce((sum, row) => sum + (row.planExecute.replans ?? 0), 0),
    },
    ratios: {
      steps: round3(planExecute.steps / react.steps),
      tokens: round3(planExecute.tokens / react.tokens),
      toolCalls: round3(planExecute.toolCalls / react.toolCalls),
      stepsVsSteady: round3(planExecute.steps / reactSteady.steps),
      tokensVsSteady: round3(planExecute.tokens / reactSteady.tokens),
    },
    tasks,
    measuredAt: new Date().toISOString(),
  };
}
