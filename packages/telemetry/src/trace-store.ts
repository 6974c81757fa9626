import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BatonError } from '@baton/core';
import {
  INDEX_FILE,
  type RunIndexEntry,
  runIndexEntrySchema,
  type SpanRecord,
  spanRecordSchema,
} from './records.js';

/** Every run the index knows, oldest first. Lines that do not parse (a torn last line) are skipped. */
export function readRunIndex(dir: string): RunIndexEntry[] {
  return readLines(join(dir, INDEX_FILE)).flatMap((line) => {
    const parsed = runIndexEntrySchema.safeParse(parseJson(line));
    return parsed.success ? [parsed.data] : [];
  });
}

/** Trace ids that have at least one file in `dir`. */
export function listTraceIds(dir: string): string[] {
  const ids = new Set<string>();
  for (const file of listDir(dir)) {
    const match = /^([0-9a-f]{32})\.\d+\.jsonl$/.exec(file);
    if (match) ids.add(match[1] as string);
  }
  return [...ids];
}

export interface ResolvedTrace {
  traceId: string;
  /** The run the reference named (or the latest team run for `last`), when the index has it. */
  run?: RunIndexEntry;
}

/**
 * Finds the trace a reference names: `last` (the latest team run, else the latest run), a trace id
 * (or a unique prefix of at least 6 characters), or a run id from the index. Anything else is an
 * INPUT_INVALID error that says what is recorded.
 */
export function resolveTrace(dir: string, reference: string): ResolvedTrace {
  const index = readRunIndex(dir);
  const traces = listTraceIds(dir);
  const ref = reference.trim();
  if (ref === 'last') {
    const latest = latestRun(index);
    if (latest) return { traceId: latest.traceId, run: latest };
    throw new BatonError('INPUT_INVALID', `No runs recorded in ${dir} yet`, {
      hint: 'Run a team first: baton run research',
    });
  }
  const lower = ref.toLowerCase();
  if (traces.includes(lower)) return withRun(lower, index);
  const byRun = [...index].reverse().find((entry) => entry.runId === ref);
  if (byRun) return { traceId: byRun.traceId, run: byRun };
  if (/^[0-9a-f]{6,31}$/.test(lower)) {
    const matches = traces.filter((id) => id.startsWith(lower));
    if (matches.length === 1) return withRun(matches[0] as string, index);
    if (matches.length > 1) {
      throw new BatonError(
        'INPUT_INVALID',
        `"${ref}" matches ${matches.length} traces: give more characters`,
        {
          details: { matches },
        },
      );
    }
  }
  const latest = latestRun(index);
  throw new BatonError('INPUT_INVALID', `No trace or run "${ref}" in ${dir}`, {
    hint:
      traces.length === 0
        ? 'No traces are recorded there yet. Run a team first: baton run research'
        : `${traces.length} trace${traces.length === 1 ? '' : 's'} recorded; the latest team run is ${latest ? `${latest.runId} (trace ${latest.traceId})` : 'unknown'}. List them: baton trace ls`,
    details: { reference: ref, dir },
  });
}

/** Every span of a trace, from every process that wrote one, sorted by start time. */
export function readTrace(dir: string, traceId: string): SpanRecord[] {
  const spans: SpanRecord[] = [];
  const seen = new Set<string>();
  for (const file of listDir(dir)) {
    if (!file.startsWith(`${traceId}.`) || !file.endsWith('.jsonl')) continue;
    for (const line of readLines(join(dir, file))) {
      const parsed = spanRecordSchema.safeParse(parseJson(line));
      if (!parsed.success || seen.has(parsed.data.spanId)) continue;
      seen.add(parsed.data.spanId);
      spans.push(parsed.data as SpanRecord);
    }
  }
  return spans.sort((a, b) => a.startMs - b.startMs);
}

function latestRun(index: readonly RunIndexEntry[]): RunIndexEntry | undefined {
  const byStart = [...index].sort((a, b) => a.startMs - b.startMs);
  return byStart.filter((entry) => entry.kind === 'workflow').at(-1) ?? byStart.at(-1);
}

function withRun(traceId: string, index: readonly RunIndexEntry[]): ResolvedTrace {
  const runs = index.filter((entry) => entry.traceId === traceId);
  const run = runs.find((entry) => entry.kind === 'workflow') ?? runs[0];
  return run ? { traceId, run } : { traceId };
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function readLines(path: string): string[] {
  try {
    return readFileSync(path, 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '');
  } catch {
    return [];
  }
}

function parseJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

/**
 * The recorded runs people start, newest first: every team run, and agent runs that are not a team's
 * member (an agent served alone). `limit` caps the list.
 */
export function listRuns(dir: string, options: { limit?: number } = {}): RunIndexEntry[] {
  const index = readRunIndex(dir);
  const teamTraces = new Set(
    index.filter((entry) => entry.kind === 'workflow').map((entry) => entry.traceId),
  );
  const roots = index.filter((entry) => entry.kind === 'workflow' || !teamTraces.has(entry.traceId));
  const newestFirst = roots.sort((a, b) => b.startMs - a.startMs);
  return options.limit === undefined ? newestFirst : newestFirst.slice(0, options.limit);
}
