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
import type { ToolCallRow } from './wire.js';

export function tools(
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
