import { type BatonError, RUN_STATUSES, type RunResult, type RunStatus, runResultSchema } from '@baton/core';

import { explainWith } from '../issues.js';

/** Lives in core, beside RunResult; re-exported here where the bus reads results off the wire. */
export { runResultSchema };

const STATUS_SET: ReadonlySet<string> = new Set(RUN_STATUSES);

function isCount(value: unknown): value is number {
  return typeof value === 'number' && value >= 0 && value <= Number.MAX_VALUE;
}

function isOptionalCount(value: unknown): boolean {
  return value === undefined || isCount(value);
}

/** The value as a RunResult when it has the shape of one, else undefined. */
export function readRunResult(value: unknown): RunResult | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const r = value as Record<string, unknown>;
  if (typeof r.status !== 'string' || !STATUS_SET.has(r.status)) return undefined;
  const partial = r.partial as Record<string, unknown> | null;
  if (typeof partial !== 'object' || partial === null || typeof partial.summary !== 'string')
    return undefined;
  if (partial.text !== undefined && typeof partial.text !== 'string') return undefined;
  if (!Array.isArray(partial.toolResults) || !Array.isArray(partial.missing)) return undefined;
  for (const item of partial.missing) if (typeof item !== 'string') return undefined;
  if (r.error !== undefined) {
    const error = r.error as Record<string, unknown> | null;
    if (typeof error !== 'object' || error === null || Array.isArray(error)) return undefined;
    if (typeof error.code !== 'string' || typeof error.message !== 'string') return undefined;
  }
  if (!(Number.isSafeInteger(r.steps) && (r.steps as number) >= 0)) return undefined;
  const usage = r.usage as Record<string, unknown> | null;
  if (typeof usage !== 'object' || usage === null || Array.isArray(usage)) return undefined;
  if (!isCount(usage.inputTokens) || !isCount(usage.outputTokens)) return undefined;
  if (!isOptionalCount(usage.cachedInputTokens) || !isOptionalCount(usage.cacheCreationInputTokens)) {
    return undefined;
  }
  if (!isOptionalCount(usage.reasoningTokens)) return undefined;
  if (!isCount(r.costUsd) || !isCount(r.durationMs)) return undefined;
  if (r.unpriced !== undefined && !isUnpriced(r.unpriced)) return undefined;
  if (r.spent !== undefined && !isSpent(r.spent)) return undefined;
  if (typeof r.runId !== 'string' || typeof r.traceId !== 'string') return undefined;
  if (typeof r.spanId !== 'string' || typeof r.agent !== 'string') return undefined;
  return value as unknown as RunResult;
}

function isUnpriced(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const u = value as Record<string, unknown>;
  return (
    Number.isSafeInteger(u.steps) &&
    (u.steps as number) >= 0 &&
    Array.isArray(u.models) &&
    u.models.every((model) => typeof model === 'string')
  );
}

function isSpent(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const s = value as Record<string, unknown>;
  return (
    Number.isSafeInteger(s.steps) &&
    (s.steps as number) >= 0 &&
    isCount(s.tokens) &&
    isCount(s.costUsd) &&
    (s.unpricedSteps === undefined ||
      (Number.isSafeInteger(s.unpricedSteps) && (s.unpricedSteps as number) >= 0))
  );
}

export function explainRunResult(value: unknown): string {
  return explainWith(runResultSchema, value);
}

/** The status a run ends with when it stops on `error` before or instead of running. */
export function statusFor(error: BatonError): RunStatus {
  switch (error.code) {
    case 'TIMEOUT':
    case 'DEADLINE_EXCEEDED':
      return 'timeout';
    case 'ABORTED':
    case 'KILLED':
      return 'aborted';
    case 'BUDGET_COST':
    case 'BUDGET_STEPS':
    case 'BUDGET_TOKENS':
      return 'budget_exceeded';
    default:
      return 'failed';
  }
}

export interface LocalResultParts {
  agent: string;
  runId: string;
  traceId: string;
  spanId: string;
  error: BatonError;
  status?: RunStatus;
  durationMs: number;
}

/**
 * A RunResult made on this side of the bus for a run that never produced one of its own (no responders,
 * a rejected handoff, a deadline with no reply): the status says why, and nothing is claimed as done.
 */
export function localResult<O>(parts: LocalResultParts): RunResult<O> {
  const status = parts.status ?? statusFor(parts.error);
  return {
    status,
    output: undefined,
    partial: {
      summary: `${parts.agent} ${describe(status)}: ${parts.error.message}. No result came back from the remote agent.`,
      toolResults: [],
      missing: [],
    },
    error: parts.error.toJSON(),
    steps: 0,
    usage: { inputTokens: 0, outputTokens: 0 },
    costUsd: 0,
    durationMs: parts.durationMs,
    runId: parts.runId,
    traceId: parts.traceId,
    spanId: parts.spanId,
    agent: parts.agent,
  };
}

function describe(status: RunStatus): string {
  switch (status) {
    case 'timeout':
      return 'ran out of time';
    case 'aborted':
      return 'was aborted';
    case 'budget_exceeded':
      return 'had no budget left';
    default:
      return 'failed';
  }
}
