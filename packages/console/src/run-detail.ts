import {
  type ApprovalRecord,
  BatonAttr,
  effectiveStatus,
  GenAI,
  GenAIOperation,
  type JournalEntry,
} from '@baton/core';
import type { SpanRecord } from '@baton/telemetry';
import { redact } from './redact.js';
import { finalResult, numberAttr, type RunData, statusOfSpan } from './runs.js';
import type { RunSummary } from './types.js';

export interface WaterfallSpan {
  spanId: string;
  parentSpanId?: string;
  name: string;
  /** `invoke_workflow`, `handoff`, `invoke_agent`, `chat`, `execute_tool`, or `other`. */
  operation: string;
  depth: number;
  /** Start relative to the trace's first span, ms. */
  offsetMs: number;
  durationMs: number;
  status: 'ok' | 'error' | 'unset';
  statusMessage?: string;
  /** The run status an agent or team span recorded. */
  runStatus?: string;
  agent?: string;
  tool?: string;
  model?: string;
  runId?: string;
  tokens?: { input: number; output: number };
  costUsd?: number;
  service: string;
  pid: number;
  attributes: Record<string, unknown>;
  events: { name: string; offsetMs: number; attributes: Record<string, unknown> }[];
}

export interface HandoffRow {
  round?: number;
  from: string;
  to: string;
  contract?: string;
  status?: string;
  durationMs?: number;
  runId?: string;
  input?: unknown;
  output?: unknown;
}

export interface AgentRow {
  agent: string;
  status: string;
  invocations: number;
  failures: number;
  steps: number;
  tokens: { input: number; output: number };
  costUsd?: number;
  durationMs: number;
}

export interface ToolCallRow {
  agent: string;
  runId?: string;
  toolCallId: string;
  tool: string;
  risk?: string;
  status: 'ok' | 'error' | 'running' | 'awaiting_approval';
  durationMs?: number;
  args?: unknown;
  result?: unknown;
  error?: unknown;
  approval?: { status: string; by?: string; at?: number };
}

export interface RunDetail {
  run: RunSummary;
  traceStartMs?: number;
  traceDurationMs: number;
  spans: WaterfallSpan[];
  handoffs: HandoffRow[];
  agents: AgentRow[];
  tools: ToolCallRow[];
  stopReason?: { kind: string; message?: string };
  budget?: { limits: Record<string, number>; used: Record<string, number> };
  output?: unknown;
  approvals: ApprovalRecord[];
  /** The members' journals were read (payloads and tool arguments come from them). */
  journaled: boolean;
}

const OPERATIONS = new Set<string>(Object.values(GenAIOperation));

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

function toWaterfall(spans: readonly SpanRecord[]): WaterfallSpan[] {
  if (spans.length === 0) return [];
  const start = Math.min(...spans.map((span) => span.startMs));
  const ids = new Set(spans.map((span) => span.spanId));
  const children = new Map<string, SpanRecord[]>();
  const roots: SpanRecord[] = [];
  for (const span of spans) {
    if (span.parentSpanId && ids.has(span.parentSpanId)) {
      const list = children.get(span.parentSpanId) ?? [];
      list.push(span);
      children.set(span.parentSpanId, list);
    } else roots.push(span);
  }
  const out: WaterfallSpan[] = [];
  const visit = (span: SpanRecord, depth: number) => {
    out.push(toRow(span, depth, start));
    for (const child of (children.get(span.spanId) ?? []).sort((a, b) => a.startMs - b.startMs))
      visit(child, depth + 1);
  };
  for (const span of roots.sort((a, b) => a.startMs - b.startMs)) visit(span, 0);
  return out;
}

function toRow(span: SpanRecord, depth: number, start: number): WaterfallSpan {
  const attributes = span.attributes;
  const op = attributes[GenAI.OPERATION_NAME];
  const operation =
    typeof op === 'string' && OPERATIONS.has(op) ? op : span.name.startsWith('handoff') ? 'handoff' : 'other';
  const row: WaterfallSpan = {
    spanId: span.spanId,
    name: span.name,
    operation,
    depth,
    offsetMs: span.startMs - start,
    durationMs: span.durationMs,
    status: span.status.code === 2 ? 'error' : span.status.code === 1 ? 'ok' : 'unset',
    service: span.service,
    pid: span.pid,
    attributes: redact(attributes) as Record<string, unknown>,
    events: span.events.map((event) => ({
      name: event.name,
      offsetMs: event.timeMs - start,
      attributes: redact(event.attributes) as Record<string, unknown>,
    })),
  };
  if (span.parentSpanId) row.parentSpanId = span.parentSpanId;
  if (span.status.message) row.statusMessage = span.status.message;
  const runStatus = attributes[BatonAttr.RUN_STATUS];
  if (typeof runStatus === 'string') row.runStatus = runStatus;
  const agent =
    attributes[GenAI.AGENT_NAME] ??
    (operation === 'handoff' ? attributes['messaging.destination.name'] : undefined);
  if (typeof agent === 'string') row.agent = agent;
  const tool = attributes[GenAI.TOOL_NAME];
  if (typeof tool === 'string') row.tool = tool;
  const model = attributes[GenAI.RESPONSE_MODEL] ?? attributes[GenAI.REQUEST_MODEL];
  if (typeof model === 'string') row.model = model;
  const runId = attributes[BatonAttr.RUN_ID];
  if (typeof runId === 'string') row.runId = runId;
  const input = numberAttr(span, GenAI.USAGE_INPUT_TOKENS);
  const output = numberAttr(span, GenAI.USAGE_OUTPUT_TOKENS);
  if (input !== undefined || output !== undefined) row.tokens = { input: input ?? 0, output: output ?? 0 };
  const cost = numberAttr(span, BatonAttr.COST_USD);
  if (cost !== undefined) row.costUsd = cost;
  return row;
}

/** The member runs of a team run (run id → member name), from its journal, else from its result. */
function memberRunIds(
  entries: readonly JournalEntry[],
  result: Record<string, unknown> | undefined,
  runId: string,
): Map<string, string> {
  const ids = new Map<string, string>();
  for (const { record } of entries) {
    if (record.type === 'handoff.sent') ids.set(record.memberRunId, record.member);
  }
  for (const step of transcriptOf(result)) {
    if (typeof step.runId === 'string' && typeof step.to === 'string') ids.set(step.runId, step.to);
  }
  // An agent run on its own is its own member.
  if (ids.size === 0 && entries[0]?.record.type === 'run.started' && entries[0].record.kind === 'agent') {
    ids.set(runId, entries[0].record.name);
  }
  return ids;
}

function transcriptOf(result: Record<string, unknown> | undefined): Record<string, unknown>[] {
  const transcript = result?.transcript;
  return Array.isArray(transcript)
    ? transcript.filter((step): step is Record<string, unknown> => step !== null && typeof step === 'object')
    : [];
}

function handoffs(
  entries: readonly JournalEntry[],
  result: Record<string, unknown> | undefined,
  spans: readonly SpanRecord[],
): HandoffRow[] {
  const transcript = transcriptOf(result);
  if (transcript.length > 0) {
    return transcript.map((step) => {
      const row: HandoffRow = { from: String(step.from ?? '?'), to: String(step.to ?? '?') };
      if (typeof step.round === 'number') row.round = step.round;
      if (typeof step.contract === 'string') row.contract = step.contract;
      if (typeof step.status === 'string') row.status = step.status;
      if (typeof step.durationMs === 'number') row.durationMs = step.durationMs;
      if (typeof step.runId === 'string') row.runId = step.runId;
      if ('input' in step) row.input = redact(step.input);
      if ('output' in step) row.output = redact(step.output);
      return row;
    });
  }
  // A run still going (or paused): the handoffs its journal recorded so far.
  const sent = entries.flatMap(({ record }) => (record.type === 'handoff.sent' ? [record] : []));
  if (sent.length > 0) {
    const done = new Map(
      entries.flatMap(({ record }) =>
        record.type === 'handoff.done' ? [[record.key, record.result] as const] : [],
      ),
    );
    return sent.map((record) => {
      const row: HandoffRow = {
        from: record.from,
        to: record.member,
        runId: record.memberRunId,
        input: redact(record.input),
      };
      const outcome = done.get(record.key) as Record<string, unknown> | undefined;
      row.status = outcome ? String(outcome.status ?? 'done') : 'running';
      if (outcome && 'output' in outcome) row.output = redact(outcome.output);
      return row;
    });
  }
  // No journal: the handoff spans (no payloads unless content capture put them on the span).
  return spans
    .filter((span) => span.name.startsWith('handoff'))
    .map((span) => {
      const row: HandoffRow = {
        from: String(span.attributes['baton.handoff.from'] ?? '?'),
        to: String(span.attributes['messaging.destination.name'] ?? span.name.replace(/^handoff\s*/, '')),
        durationMs: span.durationMs,
        status: span.status.code === 2 ? 'failed' : 'completed',
      };
      const contract = span.attributes['baton.handoff.contract'];
      if (typeof contract === 'string') row.contract = contract;
      return row;
    });
}

function agents(result: Record<string, unknown> | undefined, spans: readonly SpanRecord[]): AgentRow[] {
  const members = result?.members;
  if (members && typeof members === 'object') {
    return Object.values(members as Record<string, Record<string, unknown>>).map((member) => {
      const usage = (member.usage ?? {}) as { inputTokens?: number; outputTokens?: number };
      const row: AgentRow = {
        agent: String(member.agent ?? '?'),
        status: String(member.status ?? 'unknown'),
        invocations: Number(member.invocations ?? 0),
        failures: Number(member.failures ?? 0),
        steps: Number(member.steps ?? 0),
        tokens: { input: usage.inputTokens ?? 0, output: usage.outputTokens ?? 0 },
        durationMs: Number(member.durationMs ?? 0),
      };
      if (typeof member.costUsd === 'number') row.costUsd = member.costUsd;
      return row;
    });
  }
  const rows = new Map<string, AgentRow>();
  for (const span of spans) {
    if (span.attributes[GenAI.OPERATION_NAME] !== GenAIOperation.INVOKE_AGENT) continue;
    const agent = String(span.attributes[GenAI.AGENT_NAME] ?? span.name);
    const row = rows.get(agent) ?? {
      agent,
      status: 'completed',
      invocations: 0,
      failures: 0,
      steps: 0,
      tokens: { input: 0, output: 0 },
      durationMs: 0,
    };
    const status = statusOfSpan(span);
    row.invocations++;
    if (status !== 'completed') row.failures++;
    row.status = status;
    row.steps += numberAttr(span, BatonAttr.STEPS) ?? 0;
    row.tokens.input += numberAttr(span, GenAI.USAGE_INPUT_TOKENS) ?? 0;
    row.tokens.output += numberAttr(span, GenAI.USAGE_OUTPUT_TOKENS) ?? 0;
    const cost = numberAttr(span, BatonAttr.COST_USD);
    if (cost !== undefined) row.costUsd = (row.costUsd ?? 0) + cost;
    row.durationMs += span.durationMs;
    rows.set(agent, row);
  }
  return [...rows.values()];
}

function tools(
  members: ReadonlyMap<string, string>,
  journals: ReadonlyMap<string, JournalEntry[]>,
  spans: readonly SpanRecord[],
  approvals: readonly ApprovalRecord[],
): ToolCallRow[] {
  const rows: ToolCallRow[] = [];
  const seen = new Set<string>();
  const approvalOf = (runId: string, callId: string) =>
    approvals.find((record) => record.runId === runId && record.toolCallId === callId);
  for (const [runId, agent] of members) {
    const byCall = new Map<string, ToolCallRow>();
    for (const { record } of journals.get(runId) ?? []) {
      if (record.type === 'tool.intent' || record.type === 'approval.requested') {
        const row = byCall.get(record.toolCallId) ?? {
          agent,
          runId,
          toolCallId: record.toolCallId,
          tool: record.tool,
          status: record.type === 'approval.requested' ? 'awaiting_approval' : 'running',
          args: redact(record.args),
        };
        byCall.set(record.toolCallId, row);
      } else if (record.type === 'approval.decided') {
        const row = byCall.get(record.toolCallId);
        if (row && row.status === 'awaiting_approval') row.status = 'running';
      } else if (record.type === 'tool.outcome') {
        const row: ToolCallRow = {
          agent,
          runId,
          toolCallId: record.toolCallId,
          tool: record.tool,
          status: record.ok ? 'ok' : 'error',
          durationMs: record.durationMs,
          args: redact(record.args),
        };
        if (record.ok) row.result = redact(record.data !== undefined ? record.data : record.content);
        else row.error = redact(record.error);
        byCall.set(record.toolCallId, row);
      }
    }
    for (const row of byCall.values()) {
      const approval = approvalOf(runId, row.toolCallId);
      if (approval) {
        row.risk = approval.risk;
        row.approval = { status: effectiveStatus(approval) };
        if (approval.decidedBy) row.approval.by = approval.decidedBy;
        if (approval.decidedAt) row.approval.at = approval.decidedAt;
      }
      seen.add(`${runId}\u0000${row.toolCallId}`);
      rows.push(row);
    }
  }
  // Calls no journal holds (the run was not journaled): what their spans say.
  for (const span of spans) {
    if (span.attributes[GenAI.OPERATION_NAME] !== GenAIOperation.EXECUTE_TOOL) continue;
    const runId = String(span.attributes[BatonAttr.RUN_ID] ?? '');
    const callId = String(span.attributes[GenAI.TOOL_CALL_ID] ?? span.spanId);
    if (seen.has(`${runId}\u0000${callId}`)) continue;
    const agentSpan = spans.find(
      (other) =>
        other.attributes[GenAI.OPERATION_NAME] === GenAIOperation.INVOKE_AGENT &&
        other.attributes[BatonAttr.RUN_ID] === runId,
    );
    const row: ToolCallRow = {
      agent: String(agentSpan?.attributes[GenAI.AGENT_NAME] ?? members.get(runId) ?? '?'),
      runId,
      toolCallId: callId,
      tool: String(span.attributes[GenAI.TOOL_NAME] ?? span.name),
      status: span.attributes[BatonAttr.TOOL_OK] === false || span.status.code === 2 ? 'error' : 'ok',
      durationMs: span.durationMs,
    };
    const risk = span.attributes[BatonAttr.TOOL_RISK];
    if (typeof risk === 'string') row.risk = risk;
    const args = span.attributes[GenAI.TOOL_CALL_ARGUMENTS];
    if (args !== undefined) row.args = redact(parseMaybe(args));
    const result = span.attributes[GenAI.TOOL_CALL_RESULT];
    if (result !== undefined) row.result = redact(parseMaybe(result));
    rows.push(row);
  }
  return rows;
}

function parseMaybe(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
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
  // Spans that carry their limits (`baton.budget.limit.*` / `baton.budget.used.*`).
  if (!root) return undefined;
  const limits: Record<string, number> = {};
  const used: Record<string, number> = {};
  for (const [key, value] of Object.entries(root.attributes)) {
    if (typeof value !== 'number') continue;
    if (key.startsWith('baton.budget.limit.')) limits[key.slice('baton.budget.limit.'.length)] = value;
    if (key.startsWith('baton.budget.used.')) used[key.slice('baton.budget.used.'.length)] = value;
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
