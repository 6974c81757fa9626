import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BatonAttr, GenAI, GenAIOperation, type JournalEntry, type RunJournal } from '@baton/core';
import { type RunIndexEntry, readRunIndex, readTrace, type SpanRecord } from '@baton/telemetry';
import type { RunSummary } from './types.js';

/** A run started from this console and not ended yet. */
export interface ActiveRun {
  runId: string;
  team: string;
  user: string;
  startedMs: number;
}

/** How a journal ended (or that it did not). */
interface JournalState {
  runId: string;
  kind: 'team' | 'agent';
  name: string;
  parentRunId?: string;
  traceId?: string;
  startedMs: number;
  status: string;
  finished: boolean;
  entries: JournalEntry[];
}

/**
 * The run data on disk (trace files, journals), read on demand and cached by file size and mtime, so a
 * live view polling every half second reads only what changed.
 */
export class RunData {
  private readonly traces = new Map<string, { signature: string; spans: SpanRecord[] }>();
  private readonly finishedJournals = new Map<string, JournalState>();
  private index: { signature: string; entries: RunIndexEntry[] } | undefined;

  constructor(
    readonly traceDir: string,
    readonly journal: RunJournal | undefined,
  ) {}

  /** Trace file names and sizes, by trace id: the signature of what is on disk. */
  traceFiles(): Map<string, string> {
    const byTrace = new Map<string, string>();
    let files: string[] = [];
    try {
      files = readdirSync(this.traceDir);
    } catch {
      return byTrace;
    }
    for (const file of files.sort()) {
      const match = /^([0-9a-f]{32})\.\d+\.jsonl$/.exec(file);
      if (!match) continue;
      const id = match[1] as string;
      byTrace.set(id, `${byTrace.get(id) ?? ''}${file}:${sizeOf(join(this.traceDir, file))};`);
    }
    return byTrace;
  }

  runIndex(): RunIndexEntry[] {
    const signature = String(sizeOf(join(this.traceDir, 'index.jsonl')));
    if (this.index?.signature !== signature) {
      this.index = { signature, entries: readRunIndex(this.traceDir) };
    }
    return this.index.entries;
  }

  spans(traceId: string, files = this.traceFiles()): SpanRecord[] {
    const signature = files.get(traceId) ?? '';
    const cached = this.traces.get(traceId);
    if (cached && cached.signature === signature) return cached.spans;
    const spans = signature === '' ? [] : readTrace(this.traceDir, traceId);
    this.traces.set(traceId, { signature, spans });
    return spans;
  }

  /** A journaled run as it stands; undefined when there is no journal or no such run. */
  async journalState(runId: string): Promise<JournalState | undefined> {
    const done = this.finishedJournals.get(runId);
    if (done) return done;
    if (!this.journal) return undefined;
    const entries = await this.journal.read(runId).catch(() => [] as JournalEntry[]);
    const state = stateOf(runId, entries);
    if (state?.finished) this.finishedJournals.set(runId, state);
    return state;
  }

  /** Every run people start (teams, and agents run on their own), newest first. */
  async list(
    active: ReadonlyMap<string, ActiveRun>,
    startedBy: ReadonlyMap<string, string> = new Map(),
  ): Promise<RunSummary[]> {
    const files = this.traceFiles();
    const index = this.runIndex();
    const byRun = new Map<string, RunSummary>();
    const teamTraces = new Set(index.filter((entry) => entry.kind === 'workflow').map((e) => e.traceId));
    for (const entry of index) {
      // A member's agent run is part of its team's row.
      if (entry.kind === 'agent' && teamTraces.has(entry.traceId)) continue;
      const spans = this.spans(entry.traceId, files);
      const root = spans.find((span) => span.spanId === entry.spanId);
      if (root && typeof root.attributes[BatonAttr.PARENT_RUN_ID] === 'string') continue;
      byRun.set(entry.runId, summaryFromTrace(entry, root, spans));
    }
    if (this.journal) {
      const ids = await this.journal.runs({ limit: 500 }).catch(() => [] as string[]);
      for (const runId of ids) {
        const state = await this.journalState(runId);
        if (!state || state.parentRunId !== undefined) continue;
        const known = byRun.get(runId);
        if (known) {
          known.sources.push('journal');
          // The journal knows a paused or resumed run's current state; a trace only its last span.
          if (!state.finished || known.status === 'awaiting_approval') {
            known.status = state.status;
            known.live = !state.finished;
          }
          continue;
        }
        byRun.set(runId, summaryFromJournal(state));
      }
    }
    for (const run of active.values()) {
      const known = byRun.get(run.runId);
      if (known) {
        known.live = true;
        known.user ??= run.user;
        if (!known.sources.includes('console')) known.sources.push('console');
        continue;
      }
      byRun.set(run.runId, {
        runId: run.runId,
        kind: 'team',
        name: run.team,
        status: 'running',
        live: true,
        startedMs: run.startedMs,
        user: run.user,
        sources: ['console'],
      });
    }
    for (const run of byRun.values()) {
      const user = startedBy.get(run.runId);
      if (user !== undefined) run.user ??= user;
    }
    return [...byRun.values()].sort((a, b) => b.startedMs - a.startedMs);
  }
}

function summaryFromTrace(
  entry: RunIndexEntry,
  root: SpanRecord | undefined,
  spans: SpanRecord[],
): RunSummary {
  const summary: RunSummary = {
    runId: entry.runId,
    traceId: entry.traceId,
    kind: entry.kind === 'workflow' ? 'team' : 'agent',
    name: entry.name,
    status: entry.status ?? (root ? statusOfSpan(root) : 'unknown'),
    live: false,
    startedMs: entry.startMs,
    sources: ['trace'],
  };
  if (!root) return summary;
  summary.durationMs = root.durationMs;
  summary.service = root.service;
  const input = numberAttr(root, GenAI.USAGE_INPUT_TOKENS);
  const output = numberAttr(root, GenAI.USAGE_OUTPUT_TOKENS);
  if (input !== undefined || output !== undefined)
    summary.tokens = { input: input ?? 0, output: output ?? 0 };
  const cost = numberAttr(root, BatonAttr.COST_USD);
  if (cost !== undefined) summary.costUsd = cost;
  summary.steps = spans.filter(
    (span) => span.attributes[GenAI.OPERATION_NAME] === GenAIOperation.CHAT,
  ).length;
  const user = firstAttr(spans, BatonAttr.USER_ID);
  if (user) summary.user = user;
  const tenant = firstAttr(spans, BatonAttr.TENANT_ID);
  if (tenant) summary.tenant = tenant;
  const bundle = firstAttr(spans, 'baton.bundle.id') ?? firstAttr(spans, 'baton.bundle');
  if (bundle) {
    const version = firstAttr(spans, 'baton.bundle.version');
    summary.bundle = version ? `${bundle}@${version}` : bundle;
  }
  return summary;
}

function summaryFromJournal(state: JournalState): RunSummary {
  const summary: RunSummary = {
    runId: state.runId,
    kind: state.kind,
    name: state.name,
    status: state.status,
    live: !state.finished,
    startedMs: state.startedMs,
    sources: ['journal'],
  };
  if (state.traceId) summary.traceId = state.traceId;
  const result = finalResult(state.entries);
  if (result) {
    if (typeof result.durationMs === 'number') summary.durationMs = result.durationMs;
    if (typeof result.costUsd === 'number') summary.costUsd = result.costUsd;
    const usage = result.usage as { inputTokens?: number; outputTokens?: number } | undefined;
    if (usage) summary.tokens = { input: usage.inputTokens ?? 0, output: usage.outputTokens ?? 0 };
    if (typeof result.traceId === 'string') summary.traceId = result.traceId;
  }
  return summary;
}

export function stateOf(runId: string, entries: JournalEntry[]): JournalState | undefined {
  const first = entries[0]?.record;
  if (first?.type !== 'run.started') return undefined;
  let status = 'running';
  let finished = false;
  for (const { record } of entries) {
    if (record.type === 'run.finished') {
      status = record.status;
      finished = true;
    } else if (record.type === 'run.paused') status = 'awaiting_approval';
    else if (record.type === 'run.resumed') status = 'running';
  }
  const state: JournalState = {
    runId,
    kind: first.kind,
    name: first.name,
    startedMs: first.at,
    status,
    finished,
    entries,
  };
  if (first.parentRunId !== undefined) state.parentRunId = first.parentRunId;
  if (first.traceId !== undefined) state.traceId = first.traceId;
  return state;
}

/** The result a journal's `run.finished` record carries, as a plain object. */
export function finalResult(entries: readonly JournalEntry[]): Record<string, unknown> | undefined {
  for (let i = entries.length - 1; i >= 0; i--) {
    const record = entries[i]?.record;
    if (record?.type === 'run.finished') {
      const result = record.result;
      return result !== null && typeof result === 'object' ? (result as Record<string, unknown>) : undefined;
    }
  }
  return undefined;
}

export function statusOfSpan(span: SpanRecord): string {
  const status = span.attributes[BatonAttr.RUN_STATUS];
  if (typeof status === 'string') return status;
  return span.status.code === 2 ? 'failed' : 'completed';
}

export function numberAttr(span: SpanRecord, key: string): number | undefined {
  const value = span.attributes[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function firstAttr(spans: readonly SpanRecord[], key: string): string | undefined {
  for (const span of spans) {
    const value = span.attributes[key];
    if (typeof value === 'string' && value !== '') return value;
  }
  return undefined;
}

function sizeOf(path: string): string {
  try {
    const stats = statSync(path);
    return `${stats.size}-${stats.mtimeMs}`;
  } catch {
    return 'none';
  }
}
