import type { Span } from '@opentelemetry/api';
import type { RunEventSink } from '../events/emitter.js';
import { emitPlanning, PlanningAttr } from '../planning/telemetry.js';
import type { AnyTool } from '../tools/define.js';
import { invokeTool, type ToolInvocation, type ToolOutcome } from '../tools/invoke.js';
import type { ToolFailure } from '../tools/result.js';
import { canonicalJson } from '../util/canonical.js';
import type { ToolRecovery } from './config.js';

/**
 * Runs a tool with its recovery strategies beyond backoff: after the tool's own retries, `modifyOnRetry`
 * may change the arguments for up to `modifiedRetries` more attempts (a broader query after an empty
 * result), and then the `fallback` (a backup tool, or a function) is tried once. Each extra attempt has
 * its own call id suffix (so its idempotency key differs: it is a different call), counts against rate
 * limits, and is recorded on the `execute_tool` span and as a `tool.recovered` event. A tool without
 * recovery runs exactly as before.
 */
export function invokeRecovering(
  tool: AnyTool,
  args: unknown,
  call: ToolInvocation,
  span: Span | undefined,
  events: RunEventSink | undefined,
): Promise<ToolOutcome> {
  // Most tools have no recovery: they cost nothing more than the plain call.
  return tool.recovery
    ? recover(tool, tool.recovery, args, call, span, events)
    : invokeTool(tool, args, call);
}

async function recover(
  tool: AnyTool,
  recovery: ToolRecovery,
  args: unknown,
  call: ToolInvocation,
  span: Span | undefined,
  events: RunEventSink | undefined,
): Promise<ToolOutcome> {
  let outcome = await invokeTool(tool, args, call);
  if (outcome.result.ok || call.signal.aborted) return outcome;
  const emitter = { events, runId: call.runId, agent: call.agent };
  const base = { step: call.step, toolCallId: call.toolCallId, tool: tool.name };
  let current = args;
  let modified = 0;
  let attempts = outcome.attempts;
  for (let attempt = 1; recovery.modify && attempt <= recovery.modifiedRetries; attempt++) {
    if (outcome.result.ok || call.signal.aborted) break;
    const next = modifiedArgs(tool, current, { error: outcome.result.error, attempt });
    if (next === undefined) break;
    current = next;
    modified++;
    outcome = await invokeTool(tool, current, { ...call, toolCallId: `${call.toolCallId}~m${attempt}` });
    attempts += outcome.attempts;
    emitPlanning(emitter, {
      type: 'tool.recovered',
      ...base,
      strategy: 'modified_retry',
      attempt,
      ok: outcome.result.ok,
      args: current,
    });
  }
  let fallbackOk: boolean | undefined;
  if (!outcome.result.ok && recovery.fallback && !call.signal.aborted) {
    const fallback = recovery.fallback;
    const parsed = fallback.input.safeParse(current);
    const primary = outcome.result.error;
    const backup = parsed.success
      ? await invokeTool(fallback, parsed.data, { ...call, toolCallId: `${call.toolCallId}~fallback` })
      : undefined;
    fallbackOk = backup?.result.ok === true;
    attempts += backup?.attempts ?? 0;
    emitPlanning(emitter, {
      type: 'tool.recovered',
      ...base,
      strategy: 'fallback',
      attempt: 1,
      ok: fallbackOk,
      fallback: fallback.name,
    });
    if (backup?.result.ok) outcome = backup;
    else {
      const why =
        backup && !backup.result.ok ? backup.result.error.message : 'it does not take these arguments';
      outcome = { ...outcome, result: { ok: false, error: alsoFailed(primary, fallback.name, why) } };
    }
  }
  if (span?.isRecording()) {
    if (modified > 0) span.setAttribute(PlanningAttr.TOOL_MODIFIED_RETRIES, modified);
    if (fallbackOk !== undefined) {
      span.setAttribute(PlanningAttr.TOOL_FALLBACK, recovery.fallback?.name ?? '');
      span.setAttribute(PlanningAttr.TOOL_FALLBACK_OK, fallbackOk);
    }
  }
  return { ...outcome, attempts };
}

/** The next arguments from `modifyOnRetry`, when it gives valid ones that differ from the last. */
function modifiedArgs(
  tool: AnyTool,
  current: unknown,
  failure: { error: ToolFailure; attempt: number },
): unknown {
  let next: unknown;
  try {
    next = tool.recovery?.modify?.(current, failure);
  } catch {
    // A modifier that throws has nothing to offer: the failure stands.
    return undefined;
  }
  if (next === undefined) return undefined;
  const parsed = tool.input.safeParse(next);
  if (!parsed.success || canonicalJson(parsed.data) === canonicalJson(current)) return undefined;
  return parsed.data;
}

function alsoFailed(primary: ToolFailure, fallback: string, why: string): ToolFailure {
  return {
    ...primary,
    message: `${primary.message} (the fallback "${fallback}" failed too: ${why})`,
    retryable: false,
    hint: 'Both the tool and its fallback failed: continue without this result, or try something else.',
  };
}
