import type { Agent } from '../agent.js';
import type { BudgetCharge } from '../budget.js';
import { bundleOf } from '../bundle/bundle.js';
import type { BatonError } from '../errors.js';
import type { LoopState } from './state.js';
import { okToolNames, toRunState } from './state.js';
import type { PartialResult, RunResult, RunStatus } from './types.js';

const REASONS: Record<RunStatus, string> = {
  completed: 'completed',
  max_steps: 'reached its step limit',
  timeout: 'ran out of time',
  budget_exceeded: 'exhausted its budget',
  repeated_action: 'repeated the same action',
  no_progress: 'stopped making progress',
  guardrail_tripped: 'tripped a guardrail',
  awaiting_approval: 'is waiting for approval',
  denied: 'was denied an action',
  aborted: 'was aborted',
  failed: 'failed',
};

export interface ResultParts {
  status: RunStatus;
  output?: unknown;
  error?: BatonError;
  spanId: string;
  durationMs: number;
  /** Signs the RunState of a paused run. */
  stateKey?: string | undefined;
}

export function buildResult<O>(agent: Agent, state: LoopState, parts: ResultParts): RunResult<O> {
  const result: RunResult<O> = {
    status: parts.status,
    output: parts.status === 'completed' ? (parts.output as O) : undefined,
    partial: buildPartial(agent, state, parts.status, parts.error),
    steps: state.step,
    usage: state.usage,
    costUsd: state.costUsd,
    durationMs: parts.durationMs,
    runId: state.runId,
    traceId: state.traceId,
    spanId: parts.spanId,
    agent: agent.name,
    bundle: bundleOf(agent).hash,
  };
  if (parts.error) result.error = parts.error.toJSON();
  if (state.previews?.length) result.previews = state.previews;
  if (state.unpricedSteps) {
    result.unpriced = { steps: state.unpricedSteps, models: [...(state.unpricedModels ?? [])] };
  }
  if (parts.status === 'awaiting_approval') result.state = toRunState(agent, state, parts.stateKey);
  return result;
}

/** What was found, what was not, and why the run stopped — in one paragraph a person can read. */
function buildPartial(
  agent: Agent,
  state: LoopState,
  status: RunStatus,
  error: BatonError | undefined,
): PartialResult {
  const okTools = okToolNames(state);
  const missing = (agent.config.requiredTools ?? []).filter((name) => !okTools.has(name));
  const partial: PartialResult = { summary: '', toolResults: state.toolRecords, missing };
  if (state.lastText) partial.text = state.lastText;
  if (status === 'completed') {
    partial.summary = `${agent.name} completed in ${state.step} step(s).`;
    return partial;
  }
  const parts = [
    `${agent.name} ${REASONS[status]} after ${state.step} step(s)${error ? `: ${error.message}` : ''}.`,
  ];
  const ok = state.toolRecords.filter((record) => record.ok);
  const failed = state.toolRecords.filter((record) => !record.ok);
  if (state.toolRecords.length === 0) {
    parts.push('No tool was called.');
  } else {
    parts.push(
      `Found: ${ok.length} successful tool result(s)${ok.length ? ` (${countBy(ok.map((r) => r.tool))})` : ''}.`,
    );
    if (failed.length > 0) {
      parts.push(`Failed: ${failed.map((r) => `${r.tool} (${r.error?.code ?? 'error'})`).join(', ')}.`);
    }
  }
  if (missing.length > 0) parts.push(`Not done: required tool(s) ${missing.join(', ')} never succeeded.`);
  parts.push(state.lastText ? 'The last model text is in partial.text.' : 'No final answer was produced.');
  partial.summary = parts.join(' ');
  return partial;
}

function countBy(names: string[]): string {
  const counts = new Map<string, number>();
  for (const name of names) counts.set(name, (counts.get(name) ?? 0) + 1);
  return [...counts].map(([name, count]) => (count > 1 ? `${name} ×${count}` : name)).join(', ');
}

/** What a result says its run spent (the runs its tools started included), as a ledger charge. */
export function spentOf(result: RunResult): BudgetCharge {
  if (result.spent) return { ...result.spent };
  const charge: BudgetCharge = { steps: result.steps, usage: result.usage, costUsd: result.costUsd };
  if (result.unpriced) charge.unpricedSteps = result.unpriced.steps;
  return charge;
}
