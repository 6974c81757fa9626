import { randomBytes } from 'node:crypto';
import {
  BatonError,
  type GuardrailsSpec,
  guardrailsToSpec,
  type HandoffContract,
  type RunOptions,
  type RunStatus,
} from '@baton/core';
import { isSpanContextValid, type Span } from '@opentelemetry/api';
import { isSubjectToken } from '../subjects.js';
import type { Bus } from '../transport/types.js';
import { checkInput } from './contract-checks.js';

/**
 * Everything that ends a call before anything is sent, or the input as the contract parsed it
 * (transforms applied).
 */
export function precheck(
  bus: Bus,
  settings: { name: string; contract: HandoffContract; maxHops: number },
  input: unknown,
  options: RunOptions,
  runId: string,
  hop: number,
): { stop: { agent: string; runId: string; error: BatonError; status?: RunStatus } } | { input: unknown } {
  if (bus.status === 'closed')
    return stop(settings, runId, new BatonError('BUS_CLOSED', 'The bus is closed'));
  if (options.runId !== undefined && !isSubjectToken(runId)) {
    return {
      stop: {
        agent: settings.name,
        runId: 'invalid',
        error: new BatonError('CONFIG_INVALID', 'options.runId must be 1–128 letters, digits, "_" or "-"'),
      },
    };
  }
  if (options.signal?.aborted) {
    const reason: unknown = options.signal.reason;
    const error =
      reason instanceof BatonError
        ? reason
        : new BatonError('ABORTED', 'The run was aborted before it started');
    return stop(settings, runId, error, 'aborted');
  }
  const breach = options.budget?.breach();
  if (breach) {
    return stop(
      settings,
      runId,
      new BatonError(breach.code, breach.message, {
        details: { dimension: breach.dimension, limit: breach.limit, used: breach.used },
      }),
    );
  }
  if (hop > settings.maxHops) {
    return stop(
      settings,
      runId,
      new BatonError('HOP_LIMIT', `This handoff would be hop ${hop}; the limit is ${settings.maxHops}`, {
        details: { hop, max: settings.maxHops },
        hint: 'Agents may be handing work to each other in a loop',
      }),
    );
  }
  const checked = checkInput(settings.contract, input);
  return checked.ok ? { input: checked.input } : stop(settings, runId, checked.error);
}

/**
 * The caller's guardrails as recipes for the worker to rebuild (undefined when there are none), or the
 * error that ends the call: a guard with no recipe would be missing in the member's process, and the
 * member must not run with part of its guards — fail closed, nothing sent.
 */
export function guardRecipes(
  name: string,
  options: RunOptions,
): { guards: GuardrailsSpec | undefined } | { error: BatonError } {
  const guardrails = options.guardrails;
  if (guardrails === undefined) return { guards: undefined };
  const { spec, notPortable } = guardrailsToSpec(guardrails);
  if (notPortable.length > 0) {
    return {
      error: new BatonError(
        'GUARD_NOT_PORTABLE',
        `The remote member "${name}" cannot get these guards: ${notPortable.join('; ')}`,
        {
          details: { agent: name, guards: notPortable },
          hint: 'Make the guard with a factory registered by portableGuard() in a module both processes import, with plain-data options',
        },
      ),
    };
  }
  return { guards: Object.keys(spec).length > 0 ? spec : undefined };
}

function stop(
  settings: { name: string },
  runId: string,
  error: BatonError,
  status?: RunStatus,
): { stop: { agent: string; runId: string; error: BatonError; status?: RunStatus } } {
  const base = { agent: settings.name, runId, error };
  return { stop: status === undefined ? base : { ...base, status } };
}

const INVALID_TRACE_ID = '00000000000000000000000000000000';

/** True when the span carries a trace worth propagating (cheap test first: tracing off is the common case). */
export function hasTrace(span: Span): boolean {
  const spanContext = span.spanContext();
  return spanContext.traceId !== INVALID_TRACE_ID && isSpanContextValid(spanContext);
}

/** Keep part of the time for the reply: the worker stops a little before the caller gives up. */
export function reserveFor(remainingMs: number): number {
  return Math.min(250, Math.max(5, remainingMs * 0.05), remainingMs / 2);
}

export function abortReasonOf(signal: AbortSignal): BatonError {
  const reason: unknown = signal.reason;
  return reason instanceof BatonError
    ? reason
    : new BatonError('ABORTED', 'The caller aborted the run', { cause: reason });
}

/** Trace and span ids for a result made on this side: the send span's, or fresh ones without tracing. */
export function resultIds(span: Span | undefined): { traceId: string; spanId: string } {
  const spanContext = span?.spanContext();
  if (spanContext && isSpanContextValid(spanContext)) {
    return { traceId: spanContext.traceId, spanId: spanContext.spanId };
  }
  return { traceId: randomBytes(16).toString('hex'), spanId: randomBytes(8).toString('hex') };
}
