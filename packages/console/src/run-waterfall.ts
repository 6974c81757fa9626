import { BatonAttr, GenAI, GenAIOperation } from '@baton/core';
import type { SpanRecord } from '@baton/telemetry';
import { redact } from './redact.js';
import { numberAttr } from './runs.js';
import type { WaterfallSpan } from './wire.js';

const OPERATIONS = new Set<string>(Object.values(GenAIOperation));

export function toWaterfall(spans: readonly SpanRecord[]): WaterfallSpan[] {
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
