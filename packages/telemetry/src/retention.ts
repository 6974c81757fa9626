import { readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BatonError } from '@baton/core';
import { INDEX_FILE, runIndexEntrySchema } from './records.js';

/** How many traces `.baton/traces` keeps. A limit of `undefined` is no limit. */
export interface TraceRetention {
  /** Keep at most this many traces (the newest). */
  keep?: number;
  /** Remove traces last written longer ago than this, ms. */
  maxAgeMs?: number;
}

const DAY_MS = 86_400_000;

/** Keep the newest 200 traces, none older than 30 days: a few MB for the offline teams. */
export const DEFAULT_TRACE_RETENTION: Readonly<Required<TraceRetention>> = {
  keep: 200,
  maxAgeMs: 30 * DAY_MS,
};

/**
 * The retention the environment asks for: `BATON_TRACE_KEEP` (a count; `0` or `all` = no count limit)
 * and `BATON_TRACE_MAX_AGE` (`30d`, `12h`, `90m`, or days as a bare number; `0` or `off` = no age limit).
 * Unset variables take the defaults; a malformed value is a CONFIG_INVALID error that names it.
 */
export function traceRetentionFromEnv(env: Record<string, string | undefined> = process.env): TraceRetention {
  const retention: TraceRetention = {};
  const keep = parseKeep(env.BATON_TRACE_KEEP, 'BATON_TRACE_KEEP');
  const age = parseMaxAge(env.BATON_TRACE_MAX_AGE, 'BATON_TRACE_MAX_AGE');
  if (keep !== null) retention.keep = keep ?? DEFAULT_TRACE_RETENTION.keep;
  if (age !== null) retention.maxAgeMs = age ?? DEFAULT_TRACE_RETENTION.maxAgeMs;
  return retention;
}

/** A count of traces: a positive integer, `undefined` when not given, `null` for "no limit" (`0`, `all`). */
export function parseKeep(raw: string | undefined, where: string): number | undefined | null {
  const text = raw?.trim().toLowerCase();
  if (!text) return undefined;
  if (text === '0' || text === 'all') return null;
  if (!/^\d+$/.test(text)) {
    throw new BatonError(
      'CONFIG_INVALID',
      `${where} must be a number of traces, or 0 for no limit (got "${raw}")`,
    );
  }
  return Number(text);
}

/** An age: `30d`, `12h`, `90m`, `45s` or days as a bare number; `null` for "no limit" (`0`, `off`). */
export function parseMaxAge(raw: string | undefined, where: string): number | undefined | null {
  const text = raw?.trim().toLowerCase();
  if (!text) return undefined;
  if (text === '0' || text === 'off') return null;
  const match = /^(\d+(?:\.\d+)?)\s*(d|h|m|s)?$/.exec(text);
  if (!match) {
    throw new BatonError(
      'CONFIG_INVALID',
      `${where} must be an age like 30d, 12h or 90m, or 0 for no limit (got "${raw}")`,
    );
  }
  const unit = { d: DAY_MS, h: 3_600_000, m: 60_000, s: 1_000 }[(match[2] ?? 'd') as 'd' | 'h' | 'm' | 's'];
  return Number(match[1]) * unit;
}

export interface PruneOptions {
  /** Report what would go without removing anything. */
  dryRun?: boolean;
  /** Default `Date.now()`. */
  now?: number;
}

export interface PruneResult {
  /** Traces left. */
  kept: number;
  /** Traces removed (or that would be, on a dry run), oldest first. */
  removed: string[];
  /** Trace files removed. */
  files: number;
  /** Index lines dropped with them. */
  indexLines: number;
}

/**
 * Applies a retention to a trace directory: a trace (all of its per-process files) goes when it is past
 * the count of the newest `keep` traces or was last written more than `maxAgeMs` ago; the index loses
 * the lines of the traces that went. Newness is the latest modification of any of the trace's files, so
 * a trace a worker still writes is never the oldest.
 *
 * The index is rewritten through a temporary file and a rename: a line another process appends in the
 * few milliseconds between the read and the rename is lost (its trace is still found by trace id).
 */
export function pruneTraces(dir: string, retention: TraceRetention, options: PruneOptions = {}): PruneResult {
  const now = options.now ?? Date.now();
  const traces = new Map<string, { files: string[]; lastMs: number }>();
  for (const file of listDir(dir)) {
    const match = /^([0-9a-f]{32})\.\d+\.jsonl$/.exec(file);
    if (!match) continue;
    let mtimeMs: number;
    try {
      mtimeMs = statSync(join(dir, file)).mtimeMs;
    } catch {
      continue; // removed meanwhile
    }
    const id = match[1] as string;
    const trace = traces.get(id) ?? { files: [], lastMs: 0 };
    trace.files.push(file);
    trace.lastMs = Math.max(trace.lastMs, mtimeMs);
    traces.set(id, trace);
  }
  const newestFirst = [...traces.entries()].sort((a, b) => b[1].lastMs - a[1].lastMs);
  const removed: string[] = [];
  let files = 0;
  newestFirst.forEach(([id, trace], position) => {
    const tooMany = retention.keep !== undefined && position >= retention.keep;
    const tooOld = retention.maxAgeMs !== undefined && now - trace.lastMs > retention.maxAgeMs;
    if (!tooMany && !tooOld) return;
    removed.unshift(id);
    files += trace.files.length;
    if (options.dryRun) return;
    for (const file of trace.files) rmSync(join(dir, file), { force: true });
  });
  const indexLines = removed.length === 0 ? 0 : compactIndex(dir, new Set(removed), options.dryRun === true);
  return { kept: traces.size - removed.length, removed, files, indexLines };
}

function compactIndex(dir: string, gone: ReadonlySet<string>, dryRun: boolean): number {
  const path = join(dir, INDEX_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return 0;
  }
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  const kept = lines.filter((line) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      return false; // a torn line
    }
    const entry = runIndexEntrySchema.safeParse(parsed);
    return entry.success && !gone.has(entry.data.traceId);
  });
  const dropped = lines.length - kept.length;
  if (dryRun || dropped === 0) return dropped;
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, kept.length > 0 ? `${kept.join('\n')}\n` : '');
  renameSync(temporary, path);
  return dropped;
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
