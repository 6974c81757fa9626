import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { BatonAttr, GenAI, GenAIOperation } from '@baton/core';
import type { Attributes, HrTime } from '@opentelemetry/api';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import {
  type AttributeValue,
  INDEX_FILE,
  type RunIndexEntry,
  type SpanRecord,
  traceFileName,
} from './records.js';

type ExportCallback = Parameters<SpanExporter['export']>[1];

export interface JsonlSpanExporterOptions {
  /** The directory of trace files, created on first export. */
  dir: string;
  /** Default `process.pid`. */
  pid?: number;
}

/**
 * Writes finished spans as JSON lines: `<dir>/<traceId>.<pid>.jsonl`, one file per process and trace,
 * and an index line (`index.jsonl`) for every team and agent run, so `baton trace <runId>` finds its
 * trace. Each process appends to its own files; every line is one `write`, so readers never see half
 * a span from a live process. Use it behind a BatchSpanProcessor.
 */
export class JsonlSpanExporter implements SpanExporter {
  readonly dir: string;
  private readonly pid: number;
  private ready = false;
  private closed = false;

  constructor(options: JsonlSpanExporterOptions) {
    this.dir = options.dir;
    this.pid = options.pid ?? process.pid;
  }

  export(spans: ReadableSpan[], done: ExportCallback): void {
    if (this.closed) {
      done({ code: 1, error: new Error('JsonlSpanExporter is shut down') });
      return;
    }
    try {
      if (!this.ready) {
        mkdirSync(this.dir, { recursive: true });
        this.ready = true;
      }
      const byTrace = new Map<string, string[]>();
      const index: string[] = [];
      for (const span of spans) {
        const record = toSpanRecord(span, this.pid);
        const lines = byTrace.get(record.traceId) ?? [];
        lines.push(JSON.stringify(record));
        byTrace.set(record.traceId, lines);
        const entry = indexEntry(record);
        if (entry) index.push(JSON.stringify(entry));
      }
      for (const [traceId, lines] of byTrace) {
        appendFileSync(join(this.dir, traceFileName(traceId, this.pid)), `${lines.join('\n')}\n`);
      }
      if (index.length > 0) appendFileSync(join(this.dir, INDEX_FILE), `${index.join('\n')}\n`);
      done({ code: 0 });
    } catch (error) {
      done({ code: 1, error: error instanceof Error ? error : new Error(String(error)) });
    }
  }

  async shutdown(): Promise<void> {
    this.closed = true;
  }

  async forceFlush(): Promise<void> {
    // Every export is written synchronously: nothing is buffered here.
  }
}

export function toSpanRecord(span: ReadableSpan, pid: number = process.pid): SpanRecord {
  const context = span.spanContext();
  const record: SpanRecord = {
    traceId: context.traceId,
    spanId: context.spanId,
    name: span.name,
    kind: span.kind,
    startMs: toMs(span.startTime),
    durationMs: toMs(span.duration),
    status: span.status.message
      ? { code: span.status.code, message: span.status.message }
      : { code: span.status.code },
    attributes: plain(span.attributes),
    events: span.events.map((event) => ({
      name: event.name,
      timeMs: toMs(event.time),
      attributes: plain(event.attributes ?? {}),
    })),
    service: String(span.resource.attributes['service.name'] ?? 'unknown'),
    pid,
  };
  const parent = span.parentSpanContext?.spanId;
  if (parent) record.parentSpanId = parent;
  return record;
}

function indexEntry(record: SpanRecord): RunIndexEntry | undefined {
  const operation = record.attributes[GenAI.OPERATION_NAME];
  const runId = record.attributes[BatonAttr.RUN_ID];
  if (typeof runId !== 'string') return undefined;
  let kind: RunIndexEntry['kind'];
  let name: unknown;
  if (operation === GenAIOperation.INVOKE_WORKFLOW) {
    kind = 'workflow';
    name = record.attributes[BatonAttr.TEAM];
  } else if (operation === GenAIOperation.INVOKE_AGENT) {
    kind = 'agent';
    name = record.attributes[GenAI.AGENT_NAME];
  } else return undefined;
  const status = record.attributes[BatonAttr.RUN_STATUS];
  const entry: RunIndexEntry = {
    runId,
    traceId: record.traceId,
    spanId: record.spanId,
    kind,
    name: typeof name === 'string' ? name : record.name,
    startMs: record.startMs,
    pid: record.pid,
  };
  if (typeof status === 'string') entry.status = status;
  entry.durationMs = record.durationMs;
  const input = record.attributes[GenAI.USAGE_INPUT_TOKENS];
  const output = record.attributes[GenAI.USAGE_OUTPUT_TOKENS];
  const cost = record.attributes[BatonAttr.COST_USD];
  if (typeof input === 'number') entry.inputTokens = input;
  if (typeof output === 'number') entry.outputTokens = output;
  if (typeof cost === 'number') entry.costUsd = cost;
  return entry;
}

function toMs(time: HrTime): number {
  return time[0] * 1_000 + time[1] / 1_000_000;
}

function plain(attributes: Attributes): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined) continue;
    out[key] = Array.isArray(value)
      ? value.map((item) => (item === undefined ? null : item))
      : (value as string | number | boolean);
  }
  return out;
}
