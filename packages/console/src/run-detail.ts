import { type ApprovalRecord, BatonAttr, GenAI, GenAIOperation, type JournalEntry } from '@baton/core';
import type { SpanRecord } from '@baton/telemetry';
import { redact } from './redact.js';
import { agents } from './run-agents.js';
import { handoffs, memberRunIds } from './run-handoffs.js';
import { tools } from './run-tools.js';
import { toWaterfall } from './run-waterfall.js';
import { finalResult, type RunData } from './runs.js';
import type { RunDetail, RunSummary } from './wire.js';

/** Everything the run page shows, from the trace files and (when the run was journaled) its journals. */
export async function runDetail(
  data: RunData,
  run: RunSummary,
  approvals: readonly ApprovalRecord[],
): Promise<RunDetail> {
  const spans = run.traceId ? data.spans(run.traceId) : [];
  const waterfall = toWaterfall(spans);
  const traceStart = spans.reduce((min, span) => Math.min(min, span.startMs), Number.POSITIVE_INFINITY);
  const traceEnd = spans.reduce((max, span) => Math.max(max, span.startMs + span.durationMs), 0);
  const root = spans.find(
    (span) =>
      span.attributes[BatonAttr.RUN_ID] === run.runId &&
      (span.attributes[GenAI.OPERATION_NAME] === GenAIOperation.INVOKE_WORKFLOW ||
        span.attributes[GenAI.OPERATION_NAME] === GenAIOperation.INVOKE_AGENT),
  );
  const journal = await data.journalState(run.runId);
  const entries = journal?.entries ?? [];
  const result = finalResult(entries);
  const memberIds = memberRunIds(entries, result, run.runId);
  const memberJournals = new Map<string, JournalEntry[]>();
  for (const [memberRunId, agent] of memberIds) {
    const state = await data.journalState(memberRunId);
    if (state) memberJournals.set(memberRunId, state.entries);
    void agent;
  }
  const detail: RunDetail = {
    run,
    traceDurationMs: spans.length > 0 ? traceEnd - traceStart : 0,
    spans: waterfall,
    handoffs: handoffs(entries, result, spans),
    agents: agents(result, spans),
    tools: tools(memberIds, memberJournals, spans, approvals),
    approvals: approvals.filter((record) => record.runId === run.runId || record.teamRunId === run.runId),
    journaled: entries.length > 0,
  };
  if (spans.length > 0) detail.traceStartMs = traceStart;
  const stop = stopReason(result, root);
  if (stop) detail.stopReason = stop;
  const budget = budgetOf(result, root);
  if (budget) detail.budget = budget;
  if (result && 'output' in result) detail.output = redact(result.output);
  return detail;
}

function stopReason(
  result: Record<string, unknown> | undefined,
  root: SpanRecord | undefined,
): RunDetail['stopReason'] {
  const stop = result?.stopReason as { kind?: unknown; message?: unknown } | undefined;
  if (stop && typeof stop.kind === 'string') {
    return typeof stop.message === 'string'
      ? { kind: stop.kind, message: stop.message }
      : { kind: stop.kind };
  }
  const kind = root?.attributes[BatonAttr.STOP_REASON] ?? root?.attributes[BatonAttr.RUN_STATUS];
  if (typeof kind !== 'string') return undefined;
  return root?.status.message ? { kind, message: root.status.message } : { kind };
}

function budgetOf(
  result: Record<string, unknown> | undefined,
  root: SpanRecord | undefined,
): RunDetail['budget'] {
  const budget = result?.budget as { limits?: unknown; used?: unknown } | undefined;
  if (budget && typeof budget.limits === 'object' && typeof budget.used === 'object') {
    return { limits: numbers(budget.limits), used: numbers(budget.used) };
  }
  // Otherwise the root span's, which every traced run and team writes when it ends (`budgetAttributes`).
  if (!root) return undefined;
  const limits: Record<string, number> = {};
  const used: Record<string, number> = {};
  const { BUDGET_LIMIT_PREFIX: LIMIT, BUDGET_USED_PREFIX: USED } = BatonAttr;
  for (const [key, value] of Object.entries(root.attributes)) {
    if (typeof value !== 'number') continue;
    if (key.startsWith(LIMIT)) limits[key.slice(LIMIT.length)] = value;
    if (key.startsWith(USED)) used[key.slice(USED.length)] = value;
  }
  return Object.keys(limits).length > 0 ? { limits, used } : undefined;
}

function numbers(value: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, item] of Object.entries((value ?? {}) as Record<string, unknown>)) {
    if (typeof item === 'number' && Number.isFinite(item)) out[key] = item;
  }
  return out;
}
