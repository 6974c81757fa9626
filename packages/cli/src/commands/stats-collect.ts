import { type RunIndexEntry, readRunIndex, readTrace, type SpanRecord } from '@baton/telemetry';

/** What `baton stats` knows of one run, from its trace. */
export interface RunFigures {
  runId: string;
  name: string;
  kind: 'workflow' | 'agent';
  status: string;
  startMs: number;
  durationMs: number;
  steps: number;
  tokens: number;
  costUsd: number;
  /** Calls and failures per tool, the runs it started included. */
  tools: Record<string, { calls: number; errors: number }>;
  /** The run needed a person: it paused for approval, or an agent asked one (ask_human). */
  escalated: boolean;
  bundle?: string;
}

export interface CollectOptions {
  /** Only runs started at or after this time (epoch ms). */
  sinceMs?: number;
  /** `top` (default): runs nothing else started — teams, and agents run on their own. */
  kind?: 'top' | 'team' | 'agent' | 'all';
  /** At most this many of the latest runs. */
  limit?: number;
}

export interface Collected {
  runs: RunFigures[];
  /** Index entries whose span is not in the trace files (still running, or not flushed). */
  missing: number;
}

const RUN_SPAN = /^invoke_(agent|workflow) /;
const ESCALATION_TOOL = 'ask_human';

/** The recent runs of a trace directory, each with its figures read from its spans. */
export function collectRuns(dir: string, options: CollectOptions = {}): Collected {
  const kind = options.kind ?? 'top';
  let entries = latestPerRun(readRunIndex(dir)).filter(
    (entry) => options.sinceMs === undefined || entry.startMs >= options.sinceMs,
  );
  if (kind === 'team') entries = entries.filter((entry) => entry.kind === 'workflow');
  if (kind === 'agent') entries = entries.filter((entry) => entry.kind === 'agent');
  const traces = new Map<string, TraceIndex>();
  const runs: RunFigures[] = [];
  let missing = 0;
  for (const entry of entries) {
    let trace = traces.get(entry.traceId);
    if (!trace) {
      trace = indexTrace(readTrace(dir, entry.traceId));
      traces.set(entry.traceId, trace);
    }
    const span = trace.byId.get(entry.spanId);
    if (!span) {
      missing++;
      continue;
    }
    if (kind === 'top' && insideAnotherRun(span, trace)) continue;
    runs.push(figuresOf(entry, span, trace));
  }
  runs.sort((a, b) => a.startMs - b.startMs);
  const limit = options.limit;
  return { runs: limit !== undefined && runs.length > limit ? runs.slice(-limit) : runs, missing };
}

interface TraceIndex {
  byId: Map<string, SpanRecord>;
  children: Map<string, SpanRecord[]>;
}

function indexTrace(spans: SpanRecord[]): TraceIndex {
  const byId = new Map<string, SpanRecord>();
  const children = new Map<string, SpanRecord[]>();
  for (const span of spans) {
    byId.set(span.spanId, span);
    if (span.parentSpanId === undefined) continue;
    const siblings = children.get(span.parentSpanId);
    if (siblings) siblings.push(span);
    else children.set(span.parentSpanId, [span]);
  }
  return { byId, children };
}

/** The index may list a run twice (a resume): its latest line wins. */
function latestPerRun(entries: RunIndexEntry[]): RunIndexEntry[] {
  const byRun = new Map<string, RunIndexEntry>();
  for (const entry of entries) byRun.set(`${entry.traceId}:${entry.spanId}`, entry);
  return [...byRun.values()];
}

function insideAnotherRun(span: SpanRecord, trace: TraceIndex): boolean {
  let parent = span.parentSpanId === undefined ? undefined : trace.byId.get(span.parentSpanId);
  for (let depth = 0; parent && depth < 1_000; depth++) {
    if (RUN_SPAN.test(parent.name)) return true;
    parent = parent.parentSpanId === undefined ? undefined : trace.byId.get(parent.parentSpanId);
  }
  return false;
}

function figuresOf(entry: RunIndexEntry, span: SpanRecord, trace: TraceIndex): RunFigures {
  const attributes = span.attributes;
  const status = str(attributes['baton.run.status']) ?? entry.status ?? 'unknown';
  const tools: RunFigures['tools'] = {};
  let memberSteps = 0;
  let asked = false;
  for (const inner of descendants(span, trace)) {
    if (inner.name.startsWith('invoke_agent ')) memberSteps += num(inner.attributes['baton.steps']);
    const tool = str(inner.attributes['gen_ai.tool.name']);
    if (tool === undefined || !inner.name.startsWith('execute_tool ')) continue;
    const counts = tools[tool] ?? { calls: 0, errors: 0 };
    counts.calls++;
    if (inner.attributes['baton.tool.ok'] === false || inner.status.code === 2) counts.errors++;
    tools[tool] = counts;
    if (tool === ESCALATION_TOOL) asked = true;
  }
  const figures: RunFigures = {
    runId: entry.runId,
    name: entry.name,
    kind: entry.kind,
    status,
    startMs: entry.startMs,
    durationMs: span.durationMs,
    steps: entry.kind === 'workflow' ? memberSteps : num(attributes['baton.steps']),
    tokens: num(attributes['gen_ai.usage.input_tokens']) + num(attributes['gen_ai.usage.output_tokens']),
    costUsd: num(attributes['baton.cost_usd']),
    tools,
    escalated: asked || status === 'awaiting_approval',
  };
  const bundle = str(attributes['baton.bundle']);
  if (bundle !== undefined) figures.bundle = bundle;
  return figures;
}

function* descendants(root: SpanRecord, trace: TraceIndex): Generator<SpanRecord> {
  const stack = [...(trace.children.get(root.spanId) ?? [])];
  while (stack.length > 0) {
    const span = stack.pop() as SpanRecord;
    yield span;
    stack.push(...(trace.children.get(span.spanId) ?? []));
  }
}

function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
