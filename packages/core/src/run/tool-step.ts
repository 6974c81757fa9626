import { type Context, SpanStatusCode, type Tracer } from '@opentelemetry/api';
import type { Agent } from '../agent.js';
import type { Budget } from '../budget.js';
import { abortReason, BatonError } from '../errors.js';
import type { RunEventSink } from '../events/emitter.js';
import type { ToolCall } from '../model/types.js';
import { formatToolResult } from '../tools/format.js';
import { invokeTool, type ToolInvocation } from '../tools/invoke.js';
import { type ToolResult, toolFailure } from '../tools/result.js';
import { type PreparedCall, prepareToolCall } from '../tools/validate.js';
import { BatonAttr, GenAI, GenAIOperation } from '../tracing/attributes.js';
import { contextWithSpan, startSpan, withContext } from '../tracing/spans.js';
import { raceAbort } from '../util/abort.js';
import { canonicalJson, digest } from '../util/canonical.js';
import { mapConcurrent } from '../util/concurrency.js';
import type { LoopState } from './state.js';
import { stoppedStatus } from './stop-status.js';
import type { ApprovalDecision, RunOptions, RunStatus, ToolRecord } from './types.js';

export interface ToolStepContext {
  agent: Agent;
  state: LoopState;
  options: RunOptions;
  tracer: Tracer;
  parent: Context;
  events: RunEventSink | undefined;
  signal: AbortSignal;
  /** The run's lease: what tools that start other runs draw from. */
  budget: Budget | undefined;
}

interface CallOutcome {
  content: string;
  isError: boolean;
  record: ToolRecord;
}

export type ToolStepOutcome = { stop: false } | { stop: true; status: RunStatus; error?: BatonError };

/** How a run stopped from outside ends (see stoppedStatus). */
export function stopOnAbort(signal: AbortSignal): { stop: true; status: RunStatus; error: BatonError } {
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

  const decided = state.pending?.decided ?? {};
  const keys = calls.map((call, index) => actionKey(call, prepared[index] as PreparedCall));
  if (!state.pending) {
    const repeated = findRepeatedAction(calls, keys, state, agent.limits);
    if (repeated) return { stop: true, status: 'repeated_action', error: repeated };
  }

  const approval = await settleApprovals(calls, prepared, decided, ctx);
  if (approval) return approval;
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
  }
  // Tools stopped by the run's timer or an abort failed for that reason, not for lack of progress.
  if (ctx.signal.aborted) return stopOnAbort(ctx.signal);
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

/**
 * Asks the approval handler about every call that needs it. A denial stops the run (`denied`): a person
 * said no, and the agent must not route around it. No handler, or a handler with no answer yet, pauses the
 * run (`awaiting_approval`) with the step kept in the state so `resume` continues exactly here.
 */
async function settleApprovals(
  calls: ToolCall[],
  prepared: PreparedCall[],
  decided: Record<string, ApprovalDecision>,
  ctx: ToolStepContext,
): Promise<ToolStepOutcome | undefined> {
  const { state, options } = ctx;
  const awaiting: string[] = [];
  for (const [index, call] of calls.entries()) {
    const entry = prepared[index] as PreparedCall;
    if (!entry.ok || !entry.tool.needsApproval(entry.args as never)) continue;
    let decision: ApprovalDecision | undefined = decided[call.id];
    if (!decision && options.approve) {
      emitApproval(ctx, 'approval.requested', call);
      decision = await raceAbort(
        Promise.resolve(
          options.approve({
            runId: state.runId,
            agent: ctx.agent.name,
            toolCallId: call.id,
            tool: call.name,
            risk: entry.tool.risk,
            args: entry.args,
          }),
        ),
        ctx.signal,
      );
      if (decision) {
        decided[call.id] = decision;
        emitApproval(ctx, 'approval.resolved', call, decision.decision);
      }
    }
    if (!decision) {
      // Nobody can answer in this process: say so, so whoever watches the events can ask a person.
      if (!options.approve) emitApproval(ctx, 'approval.requested', call);
      awaiting.push(call.id);
      continue;
    }
    if (decision.decision === 'deny') {
      const reason = decision.reason ? `: ${decision.reason}` : '';
      state.pending = undefined;
      return {
        stop: true,
        status: 'denied',
        error: new BatonError('APPROVAL_DENIED', `The call to "${call.name}" was denied${reason}`, {
          details: { tool: call.name, toolCallId: call.id },
        }),
      };
    }
    if (decision.decision === 'edit') {
      prepared[index] = prepareToolCall(
        { ...call, arguments: decision.args },
        ctx.agent.tools,
        options.toolPolicy,
      );
    }
  }
  if (awaiting.length === 0) return undefined;
  state.pending = { toolCalls: calls, awaiting, decided };
  return {
    stop: true,
    status: 'awaiting_approval',
    error: new BatonError('APPROVAL_REQUIRED', `Waiting for approval of ${awaiting.length} tool call(s)`, {
      details: { toolCallIds: awaiting },
    }),
  };
}

function emitApproval(
  ctx: ToolStepContext,
  type: 'approval.requested' | 'approval.resolved',
  call: ToolCall,
  decision?: ApprovalDecision['decision'],
): void {
  if (!ctx.events?.listens(type)) return;
  const base = {
    runId: ctx.state.runId,
    agent: ctx.agent.name,
    at: Date.now(),
    toolCallId: call.id,
    tool: call.name,
  };
  if (type === 'approval.requested') ctx.events.emit({ ...base, type, args: call.arguments });
  else ctx.events.emit({ ...base, type, decision: decision ?? 'approve' });
}

async function executeCall(
  call: ToolCall,
  prepared: PreparedCall,
  ctx: ToolStepContext,
): Promise<CallOutcome> {
  const { state, agent, events } = ctx;
  const span = startSpan(ctx.tracer, `execute_tool ${call.name}`, ctx.parent);
  const recording = span.isRecording();
  if (recording) {
    span.setAttributes({
      [GenAI.OPERATION_NAME]: GenAIOperation.EXECUTE_TOOL,
      [GenAI.TOOL_NAME]: call.name,
      [GenAI.TOOL_CALL_ID]: call.id,
      [GenAI.TOOL_TYPE]: 'function',
      [BatonAttr.RUN_ID]: state.runId,
      [BatonAttr.STEP]: state.step,
    });
    if (prepared.tool) span.setAttribute(BatonAttr.TOOL_RISK, prepared.tool.risk);
    if (ctx.options.captureContent)
      span.setAttribute(GenAI.TOOL_CALL_ARGUMENTS, JSON.stringify(call.arguments));
  }
  const label = prepared.ok ? progressLabel(prepared, 'start', prepared.args) : undefined;
  if (events?.listens('tool.start')) {
    const event = {
      type: 'tool.start' as const,
      runId: state.runId,
      agent: agent.name,
      at: Date.now(),
      step: state.step,
      toolCallId: call.id,
      tool: call.name,
      args: prepared.ok ? prepared.args : call.arguments,
    };
    events.emit(label === undefined ? event : { ...event, label });
  }

  const started = performance.now();
  let result: ToolResult;
  let attempts = 0;
  let cached = false;
  if (prepared.ok) {
    const invocation: ToolInvocation = {
      runId: state.runId,
      agent: agent.name,
      step: state.step,
      toolCallId: call.id,
      signal: ctx.signal,
      callCounts: state.toolCallCounts,
      budget: ctx.budget,
    };
    if (ctx.options.userId !== undefined) invocation.userId = ctx.options.userId;
    if (ctx.options.sessionId !== undefined) invocation.sessionId = ctx.options.sessionId;
    const outcome = recording
      ? await withContext(contextWithSpan(ctx.parent, span), () =>
          invokeTool(prepared.tool, prepared.args, invocation),
        )
      : await invokeTool(prepared.tool, prepared.args, invocation);
    ({ result, attempts, cached } = outcome);
  } else {
    result = { ok: false, error: prepared.error };
  }
  const durationMs = performance.now() - started;

  const maxTokens = prepared.tool?.maxResultTokens ?? 2_000;
  let formatted: { content: string; truncated: boolean };
  try {
    formatted = await formatToolResult(call.name, result, maxTokens);
  } catch (error) {
    // A result JSON cannot carry (a BigInt, a cycle) is the tool's fault; the model gets a clean failure.
    result = toolFailure(
      'TOOL_OUTPUT_INVALID',
      `"${call.name}" returned a value that cannot be sent as JSON: ${String(error)}`,
      {
        hint: 'This is a fault in the tool. Continue without this result.',
      },
    );
    formatted = await formatToolResult(call.name, result, maxTokens);
  }
  if (result.ok) {
    const seen = digest(formatted.content);
    state.seen ??= [];
    if (!state.seen.includes(seen)) state.seen.push(seen);
  }
  const record: ToolRecord = result.ok
    ? {
        step: state.step,
        toolCallId: call.id,
        tool: call.name,
        args: call.arguments,
        ok: true,
        data: result.data,
        durationMs,
      }
    : {
        step: state.step,
        toolCallId: call.id,
        tool: call.name,
        args: call.arguments,
        ok: false,
        error: result.error,
        durationMs,
      };

  if (events?.listens('tool.end')) {
    const doneLabel = prepared.ok && result.ok ? progressLabel(prepared, 'done', result.data) : undefined;
    const event = {
      type: 'tool.end' as const,
      runId: state.runId,
      agent: agent.name,
      at: Date.now(),
      step: state.step,
      toolCallId: call.id,
      tool: call.name,
      result,
      durationMs,
    };
    events.emit(doneLabel === undefined ? event : { ...event, label: doneLabel });
  }
  if (recording) {
    span.setAttribute(BatonAttr.TOOL_OK, result.ok);
    if (attempts > 1) span.setAttribute(BatonAttr.TOOL_ATTEMPTS, attempts);
    if (cached) span.setAttribute(BatonAttr.TOOL_CACHED, true);
    if (formatted.truncated) span.setAttribute(BatonAttr.TOOL_TRUNCATED, true);
    if (!result.ok) {
      span.setAttribute(BatonAttr.ERROR_CODE, result.error.code);
      span.setAttribute('error.type', result.error.code);
      span.setStatus({ code: SpanStatusCode.ERROR, message: result.error.message });
    }
    if (ctx.options.captureContent) span.setAttribute(GenAI.TOOL_CALL_RESULT, formatted.content);
  }
  span.end();
  return { content: formatted.content, isError: !result.ok, record };
}

function progressLabel(
  prepared: PreparedCall & { ok: true },
  phase: 'start' | 'done',
  value: unknown,
): string | undefined {
  const progress = prepared.tool.progress;
  const describe = phase === 'start' ? progress?.start : progress?.done;
  if (!describe) return undefined;
  try {
    return describe(value as never);
  } catch {
    return undefined;
  }
}
