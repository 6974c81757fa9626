import type { Agent } from '../agent.js';
import { abortReason, BatonError } from '../errors.js';
import { runGuards } from '../guards/run.js';
import type { ToolCall } from '../model/types.js';
import { type PreparedCall, prepareToolCall } from '../tools/validate.js';
import { canonicalJson } from '../util/canonical.js';
import { mapConcurrent } from '../util/concurrency.js';
import type { AbortLike } from '../util/run-signal.js';
import { mayNeedApproval, settleApprovals } from './approval-step.js';
import type { LoopState } from './state.js';
import { stoppedStatus } from './stop-status.js';
import { type CallOutcome, executeCall, type ToolStepContext } from './tool-call.js';
import type { RunStatus, ToolRecord } from './types.js';

export type { ToolStepContext } from './tool-call.js';

export type ToolStepOutcome = { stop: false } | { stop: true; status: RunStatus; error?: BatonError };

/** How a run stopped from outside ends (see stoppedStatus). */
export function stopOnAbort(signal: AbortLike): { stop: true; status: RunStatus; error: BatonError } {
  const error = abortReason(signal);
  return { stop: true, status: stoppedStatus(error.code), error };
}

/**
 * Executes the tool calls of one step: validation, repeated-action detection, approvals, then the calls
 * themselves concurrently (bounded). Results are appended as tool messages in the order of the calls.
 */
export async function runToolStep(calls: ToolCall[], ctx: ToolStepContext): Promise<ToolStepOutcome> {
  const { agent, state } = ctx;
  const prepared = calls.map((call) => prepareToolCall(call, agent.tools, ctx.options.toolPolicy));

  const decided = state.pending?.decided ?? { ...ctx.options.decisions };
  const keys = calls.map((call, index) => actionKey(call, prepared[index] as PreparedCall));
  if (!state.pending) {
    const repeated = findRepeatedAction(calls, keys, state, agent.limits);
    if (repeated) return { stop: true, status: 'repeated_action', error: repeated };
  }

  // Awaited only when there is something to check: two awaits per step add up over thousands of runs.
  if (ctx.guards && ctx.guards.toolInput.length > 0) {
    const guarded = await guardArguments(calls, prepared, ctx);
    if (guarded) return guarded;
  }
  if (mayNeedApproval(prepared, ctx)) {
    const approval = await settleApprovals(calls, prepared, decided, ctx);
    if (approval) return approval;
  }
  state.pending = undefined;

  const before = state.seen?.length ?? 0;
  const results = await mapConcurrent(calls, agent.limits.toolConcurrency, (call, index) =>
    executeCall(call, prepared[index] as PreparedCall, ctx),
  );
  // Results enter the conversation and the record in call order, whatever order they finished in.
  for (const [index, call] of calls.entries()) {
    const { content, isError, record } = results[index] as CallOutcome;
    state.messages.push({ role: 'tool', toolCallId: call.id, toolName: call.name, content, isError });
    state.toolRecords.push(record);
    noteRetryable(state, keys[index] as string, record);
    const entry = prepared[index] as PreparedCall;
    // A read tool's result (a page, an email, a document) may carry instructions: from here on the run
    // has read untrusted content, and writes need the untrusted-content policy's consent.
    if (record.ok && entry.ok && entry.tool.untrustedOutput) state.tainted = true;
  }
  // Tools stopped by the run's timer or an abort failed for that reason, not for lack of progress.
  if (ctx.signal.aborted) return stopOnAbort(ctx.signal);
  const tripped = results.find((result) => result?.tripped)?.tripped;
  if (tripped) return { stop: true, status: 'guardrail_tripped', error: tripped };
  state.stepsWithoutProgress = (state.seen?.length ?? 0) > before ? 0 : state.stepsWithoutProgress + 1;
  if (state.stepsWithoutProgress >= agent.limits.noProgressSteps) {
    return {
      stop: true,
      status: 'no_progress',
      error: new BatonError(
        'NO_PROGRESS',
        `${state.stepsWithoutProgress} steps in a row brought no new information (limit ${agent.limits.noProgressSteps})`,
      ),
    };
  }
  return { stop: false };
}

/**
 * Argument guards run before approvals (a person approves what would really run) and before anything
 * executes; a rewrite is validated against the tool's schema again. Calls whose outcome the journal
 * holds are not checked: they will not run.
 */
async function guardArguments(
  calls: ToolCall[],
  prepared: PreparedCall[],
  ctx: ToolStepContext,
): Promise<ToolStepOutcome | undefined> {
  const guards = ctx.guards;
  if (!guards || guards.toolInput.length === 0) return undefined;
  for (const [index, call] of calls.entries()) {
    const entry = prepared[index] as PreparedCall;
    if (!entry.ok || ctx.journal?.outcome(call.id)) continue;
    const checked = await runGuards(guards.toolInput, 'toolInput', entry.args, {
      ...guards.context,
      tool: call.name,
    });
    if (checked.tripped) return { stop: true, status: 'guardrail_tripped', error: checked.error };
    if (checked.rewrittenBy.length > 0) {
      prepared[index] = prepareToolCall(
        { ...call, arguments: checked.value },
        ctx.agent.tools,
        ctx.options.toolPolicy,
      );
    }
  }
  return undefined;
}

function actionKey(call: ToolCall, prepared: PreparedCall): string {
  return `${call.name}:${canonicalJson(prepared.ok ? prepared.args : call.arguments)}`;
}

/**
 * The same tool with the same arguments again is a loop — unless its last try failed with a retryable
 * error (a timeout, a rate limit, a flaky API): then trying again is what a careful agent does, and
 * `maxRetryRepeats` such retries pass. Hammering a call that keeps failing still stops the run.
 */
function findRepeatedAction(
  calls: ToolCall[],
  keys: string[],
  state: LoopState,
  limits: Agent['limits'],
): BatonError | undefined {
  for (const [index, call] of calls.entries()) {
    const key = keys[index] as string;
    state.actionCounts ??= {};
    const count = (state.actionCounts[key] ?? 0) + 1;
    if (count > limits.maxRepeats && state.retryable?.includes(key)) {
      const retries = state.retries?.[key] ?? 0;
      if (retries < limits.maxRetryRepeats) {
        state.retries ??= {};
        state.retries[key] = retries + 1;
        continue;
      }
    }
    state.actionCounts[key] = count;
    if (count > limits.maxRepeats) {
      return new BatonError(
        'REPEATED_ACTION',
        `"${call.name}" was called again with the same arguments (${count} times, limit ${limits.maxRepeats})`,
        { details: { tool: call.name, args: call.arguments, count } },
      );
    }
  }
  return undefined;
}

function noteRetryable(state: LoopState, key: string, record: ToolRecord): void {
  const retryable = !record.ok && record.error?.retryable === true;
  const listed = state.retryable?.includes(key) ?? false;
  if (retryable && !listed) {
    state.retryable ??= [];
    state.retryable.push(key);
  } else if (!retryable && listed) state.retryable = state.retryable?.filter((entry) => entry !== key);
}
