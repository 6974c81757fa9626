/**
 * The guards of a run's input and final answer, and what they let the run show of its model's text:
 * with output guards, an answer streams and reaches `partial.text` only as the guards passed it.
 */

import type { Agent } from '../agent.js';
import type { RunEventSink } from '../events/emitter.js';
import { type GuardRunContext, guardsFor, runGuards } from '../guards/run.js';
import type { Guard } from '../guards/types.js';
import type { AbortLike } from '../util/run-signal.js';
import { type LongTimer, setLongTimeout } from '../util/timers.js';
import type { ModelDelta } from './model-step.js';
import type { LoopState } from './state.js';
import type { RunOptions } from './types.js';

/** A run's guards of its input and final answer, and their context (tool guards ride on the tool step). */
export interface RunGuards {
  input: Guard[];
  output: Guard[];
  context: GuardRunContext;
}

/** What the output guards have let through of the model's text, step by step. */
export interface AnswerGuard {
  /**
   * Deltas are held until the text they spell may be shown: with output guards, an answer streams only
   * once the guards passed it (a UI would otherwise show the card number the guard then redacts).
   */
  holdDeltas: boolean;
  /** The final answer's text as the output guards passed (or rewrote) it. */
  passed: string | undefined;
}

/**
 * The guards of a run's input and final answer, or undefined when the run has none at all (the common
 * case costs one check). Tool guards are looked up by the tool step.
 */
export function guardContextOf(
  agent: Agent,
  options: RunOptions,
  state: LoopState,
  signal: AbortLike,
  events: RunOptions['events'],
): RunGuards | undefined {
  if (!options.guardrails && !agent.config.guardrails) return undefined;
  const context: GuardRunContext = { runId: state.runId, agent: agent.name, signal, events };
  if (options.userId !== undefined) context.userId = options.userId;
  if (options.tenantId !== undefined) context.tenantId = options.tenantId;
  return {
    input: guardsFor('input', options.guardrails, agent.config.guardrails),
    output: guardsFor('output', options.guardrails, agent.config.guardrails),
    context,
  };
}

/** Emits deltas held back during the model call, in the order they arrived. */
export function releaseDeltas(
  held: readonly ModelDelta[] | undefined,
  events: RunEventSink | undefined,
): void {
  if (!held || !events) return;
  for (const delta of held) events.emit(delta);
}

export function textOf(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
}

/** How long the output guards get to check the last text of a run that was stopped (its time is up). */
const PARTIAL_TEXT_GRACE_MS = 1_000;

/**
 * Puts the last model text of a run that did not complete through the output guards: what they pass (or
 * rewrite) stays in `partial.text`; a trip, a failure, or no verdict within the grace of a stopped run
 * leaves none (fail closed). The run's status stays what it was: this is about what the result shows.
 */
export async function guardPartialText(
  state: LoopState,
  guards: RunGuards,
  signal: AbortLike,
): Promise<void> {
  const text = state.lastText;
  state.lastText = undefined;
  let timer: LongTimer | undefined;
  try {
    // Never rejects (a guard that fails passes nothing), so a failure after the grace is not unhandled.
    const checking = runGuards(guards.output, 'output', text, guards.context).catch(() => undefined);
    const checked = signal.aborted
      ? await Promise.race([
          checking,
          new Promise<undefined>((resolve) => {
            timer = setLongTimeout(() => resolve(undefined), PARTIAL_TEXT_GRACE_MS);
          }),
        ])
      : await checking;
    if (checked && !checked.tripped) state.lastText = textOf(checked.value);
  } finally {
    timer?.clear();
  }
}

/**
 * One delta of the rewritten answer stands for the held ones: the redacted text, never the original
 * (nor the reasoning, which may quote it).
 */
export function releaseRewritten(
  held: readonly ModelDelta[] | undefined,
  text: string,
  events: RunEventSink | undefined,
): void {
  const first = held?.[0];
  if (!first || !events) return;
  events.emit({ ...first, at: Date.now(), kind: 'text', text });
}
