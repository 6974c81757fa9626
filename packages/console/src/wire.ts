// What the console's API sends the browser, as types only. The server builds these rows and the UI
// (packages/console/ui, compiled for the browser without Node's types) imports this very file, so the two
// cannot drift apart. Keep it to types, and import only types: the bundler drops the whole file.
import type { ApprovalRecord } from '@baton/core';

/** A team the console can start (the catalogue's, or one the embedder adds). */
export interface ConsoleTeam {
  name: string;
  description: string;
  /** The agents it hands work to, in the order they usually run. */
  members: readonly string[];
}

/** Where the console learnt of a run: its trace files, its journal, or it started the run itself. */
export type RunSource = 'trace' | 'journal' | 'console';

/** One row of the runs list. */
export interface RunSummary {
  runId: string;
  traceId?: string;
  kind: 'team' | 'agent';
  /** The team's or the agent's name. */
  name: string;
  status: string;
  /** True while the run is going (started here and not ended, or journaled without an end yet). */
  live: boolean;
  startedMs: number;
  durationMs?: number;
  tokens?: { input: number; output: number };
  costUsd?: number;
  steps?: number;
  user?: string;
  tenant?: string;
  bundle?: string;
  /** `service.name` of the process that ran it. */
  service?: string;
  sources: RunSource[];
}

/** One span of a run's waterfall. */
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

/** One handoff of a team run. */
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

/** One member of a team run (or the agent of a single run). */
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

/** One tool call of a run, with the decision it waited for. */
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

/**
 * A durable approval as the browser sees it: `@baton/core`'s record, with its arguments and preview
 * redacted and its status as of now (an expired call reads `expired`).
 */
export type ApprovalRow = ApprovalRecord;

/** Everything the run page shows. */
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
  approvals: ApprovalRow[];
  /** The members' journals were read (payloads and tool arguments come from them). */
  journaled: boolean;
}

/** One finished run on the insights page. */
export interface MetricPoint {
  runId: string;
  name: string;
  startedMs: number;
  status: string;
  ok: boolean;
  durationMs?: number;
  steps?: number;
  tokens?: number;
  costUsd?: number;
}

export interface MetricBucket {
  /** Start of the bucket, epoch ms. */
  startMs: number;
  runs: number;
  completed: number;
  successRate: number;
}

export interface Metrics {
  source: 'run-index';
  points: MetricPoint[];
  buckets: MetricBucket[];
  bucketMs: number;
  totals: { runs: number; completed: number; tokens: number; costUsd?: number };
}

/** An eval or A/B report file. */
export interface EvalReport {
  file: string;
  modifiedMs: number;
  report: unknown;
}
