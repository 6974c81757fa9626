import type { Agent } from '../agent.js';
import { Budget, type BudgetDimension, breachError } from '../budget.js';
import type { BatonError } from '../errors.js';
import type { RunEventSink } from '../events/emitter.js';
import { costOf } from '../model/pricing.js';
import type { ModelResponse } from '../model/types.js';
import { addUsage, totalTokens } from '../model/usage.js';
import type { LoopState } from './state.js';
import type { RunOptions, RunResult, RunStatus } from './types.js';

/**
 * The run's own lease: the agent's token and dollar limits, drawn from the ledger it was given. Nested
 * runs started by its tools draw from it too, so the agent's limits hold for everything it sets off.
 * A run with no ledger and no such limit has nothing to enforce and skips the allocation.
 */
export function leaseFor(agent: Agent, state: LoopState, parent: Budget | undefined): Budget | undefined {
  const { maxTokens, maxCostUsd } = agent.limits;
  if (!parent && maxTokens === undefined && maxCostUsd === undefined) return undefined;
  const limits: { maxTokens?: number; maxCostUsd?: number } = {};
  // A resumed run has spent part of its own limits already.
  if (maxTokens !== undefined) limits.maxTokens = Math.max(0, maxTokens - totalTokens(state.usage));
  if (maxCostUsd !== undefined) limits.maxCostUsd = Math.max(0, maxCostUsd - state.costUsd);
  return new Budget(limits, parent);
}

export function statusOfBreach(code: string): RunStatus {
  if (code === 'DEADLINE_EXCEEDED') return 'timeout';
  if (code === 'PRICE_UNKNOWN') return 'failed';
  return 'budget_exceeded';
}

export function notePriceUnknown(state: LoopState, model: string): void {
  state.unpricedSteps = (state.unpricedSteps ?? 0) + 1;
  state.unpricedModels ??= [];
  if (!state.unpricedModels.includes(model)) state.unpricedModels.push(model);
}

/** What the lease spent beyond the run's own steps: runs its tools started, charged here. */
export function addSpent(result: RunResult, lease: Budget): void {
  const used = lease.used;
  if (used.steps === result.steps && used.tokens === totalTokens(result.usage)) return;
  result.spent = { steps: used.steps, tokens: used.tokens, costUsd: used.costUsd };
  if (used.unpricedSteps) result.spent.unpricedSteps = used.unpricedSteps;
}

export function warnNearLimits(agent: Agent, state: LoopState, options: RunOptions): void {
  const { limits } = agent;
  const checks: [BudgetDimension, number, number | undefined][] = [
    ['steps', state.step, limits.maxSteps],
    ['tokens', totalTokens(state.usage), limits.maxTokens],
    ['cost', state.costUsd, limits.maxCostUsd],
    ['time', state.elapsedBeforeMs + Date.now() - state.startedAt, limits.timeoutMs],
  ];
  const shared = options.budget?.pressure();
  if (shared && shared.fraction > 0) checks.push([shared.dimension, shared.used, shared.limit]);
  for (const [limit, used, max] of checks) {
    if (max === undefined || used < max * limits.warnAt || state.warned?.includes(limit)) continue;
    state.warned ??= [];
    state.warned.push(limit);
    options.events?.emit({
      type: 'limit.warning',
      runId: state.runId,
      agent: agent.name,
      at: Date.now(),
      limit,
      used,
      max,
    });
  }
}

/**
 * One model step's usage and cost, added to the run and charged to its lease (the loop's steps and the
 * planning side steps alike). Returns the step's cost, undefined when its price is unknown.
 */
export function chargeModelStep(
  state: LoopState,
  lease: Budget | undefined,
  response: ModelResponse,
): number | undefined {
  const cost = response.costUsd ?? costOf(response.model, response.usage);
  addUsage(state.usage, response.usage);
  if (cost !== undefined) state.costUsd += cost;
  else notePriceUnknown(state, response.model);
  if (lease) {
    const charge: Parameters<Budget['charge']>[0] = { steps: 1 };
    if (response.usage) charge.usage = response.usage;
    if (cost === undefined) charge.unpricedSteps = 1;
    else charge.costUsd = cost;
    lease.charge(charge);
  }
  return cost;
}

/**
 * A cost limit that cannot be enforced is a configuration error, said at the first unpriced call: the
 * error to stop on when this step had no price and the lease limits cost.
 */
export function unpricedUnderCostLimit(
  lease: Budget | undefined,
  cost: number | undefined,
): BatonError | undefined {
  if (cost !== undefined || !lease?.limitsCost) return undefined;
  const unknown = lease.breach();
  return unknown?.code === 'PRICE_UNKNOWN' ? breachError(unknown) : undefined;
}

/** The `step.end` event of a model step, when someone listens. */
export function emitStepEnd(
  events: RunEventSink | undefined,
  state: LoopState,
  agent: string,
  step: number,
  response: ModelResponse,
  cost: number | undefined,
  toolCalls: number,
): void {
  if (!events?.listens('step.end')) return;
  const event = {
    type: 'step.end' as const,
    runId: state.runId,
    agent,
    at: Date.now(),
    step,
    costUsd: cost,
    toolCalls,
  };
  events.emit(response.usage ? { ...event, usage: response.usage } : event);
}
