import type { Context } from '@opentelemetry/api';
import type { Agent } from '../agent.js';
import { type Budget, breachError } from '../budget.js';
import { abortReason, BatonError } from '../errors.js';
import type { JournalSession } from '../journal/session.js';
import type { Model, ModelRequest, ModelResponse } from '../model/types.js';
import { toRecorded, toResponse } from '../run/journaled.js';
import { chargeModelStep, emitStepEnd, unpricedUnderCostLimit } from '../run/limits.js';
import { callModel, type ModelStepContext } from '../run/model-step.js';
import type { LoopState } from '../run/state.js';
import { stoppedStatus } from '../run/stop-status.js';
import type { RunOptions, RunStatus } from '../run/types.js';
import { withLazySignal } from '../util/run-signal.js';

/** What the loop gives the planning, review and grounding steps it runs inside a run. */
export interface SideStepContext {
  agent: Agent;
  state: LoopState;
  options: RunOptions;
  lease: Budget | undefined;
  journal: JournalSession | undefined;
  model: ModelStepContext;
  elapsedMs(): number;
}

/** How a run stops: the loop's own outcome shape. */
export interface StopOutcome {
  status: RunStatus;
  output?: unknown;
  error?: BatonError;
}

/**
 * Why no further model step may start — an abort, an exhausted ledger, the step limit — or undefined.
 * Planning, review and synthesis calls are model steps like any other: the same checks, in the same order.
 */
export function stepBlocked(ctx: SideStepContext): StopOutcome | undefined {
  const { signal } = ctx.model;
  if (signal.aborted) {
    const error = abortReason(signal);
    return { status: stoppedStatus(error.code), error };
  }
  const breach = ctx.lease?.breach();
  if (breach) {
    const status: RunStatus =
      breach.code === 'DEADLINE_EXCEEDED'
        ? 'timeout'
        : breach.code === 'PRICE_UNKNOWN'
          ? 'failed'
          : 'budget_exceeded';
    return { status, error: breachError(breach) };
  }
  const limit = ctx.agent.limits.maxSteps;
  if (ctx.state.step >= limit) {
    return {
      status: 'max_steps',
      error: new BatonError('MAX_STEPS', `The run reached its limit of ${limit} steps`),
    };
  }
  return undefined;
}

/** Model steps the run may still take (its own limit and the ledger's, whichever is lower). */
export function stepsLeft(ctx: SideStepContext): number {
  const own = ctx.agent.limits.maxSteps - ctx.state.step;
  const ledger = ctx.lease?.remaining().steps;
  return ledger === undefined ? own : Math.min(own, ledger);
}

/**
 * One model call outside the tool loop (a plan, a review): a step of the run, numbered, journaled and
 * replayed like the loop's, charged to the run and its ledger, inside a `chat` span under `parent`.
 * Its text is not streamed as the answer's deltas: it is not the answer. Throws a BatonError on failure.
 */
export async function sideStep(
  ctx: SideStepContext,
  request: Omit<ModelRequest, 'signal'>,
  options: { model?: Model; parent?: Context } = {},
): Promise<ModelResponse> {
  const { state, agent, journal } = ctx;
  const step = ++state.step;
  const events = ctx.model.events;
  if (events?.listens('step.start')) {
    events.emit({ type: 'step.start', runId: state.runId, agent: agent.name, at: Date.now(), step });
  }
  let response: ModelResponse;
  const recorded = journal?.response(step);
  if (recorded) {
    response = toResponse(recorded);
  } else {
    const model: ModelStepContext = {
      ...ctx.model,
      model: options.model ?? ctx.model.model,
      parent: options.parent ?? ctx.model.parent,
      step,
      events: undefined,
    };
    response = await callModel(withLazySignal({ ...request }, ctx.model.signal), model);
    journal?.append({
      type: 'model.step',
      at: Date.now(),
      elapsedMs: ctx.elapsedMs(),
      step,
      response: toRecorded(response),
    });
  }
  const cost = chargeModelStep(state, ctx.lease, response);
  const unpriced = unpricedUnderCostLimit(ctx.lease, cost);
  if (unpriced) throw unpriced;
  emitStepEnd(events, state, agent.name, step, response, cost, 0);
  return response;
}

/** A side step that failed, as the run's outcome: an abort says why it was aborted. */
export function failedStep(ctx: SideStepContext, caught: unknown): StopOutcome {
  if (ctx.model.signal.aborted) {
    const error = abortReason(ctx.model.signal);
    return { status: stoppedStatus(error.code), error };
  }
  return { status: 'failed', error: BatonError.wrap(caught) };
}
