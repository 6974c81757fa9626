import {
  defaultTraceDir,
  listRuns,
  listTraceIds,
  parseKeep,
  parseMaxAge,
  pruneTraces,
  type RunIndexEntry,
  type TraceRetention,
  traceRetentionFromEnv,
} from '@baton/telemetry';
import { CliError, EXIT, toCliError } from '../errors.js';
import { type Io, selfCommand } from '../io.js';

export interface TraceLsFlags {
  dir?: string;
  /** How many runs (default 20). */
  limit?: number;
  json?: boolean;
}

/**
 * `baton trace ls`: the recorded runs, newest first — team runs and agents run on their own — with
 * their status, start, duration and tokens, from the run index of the trace directory.
 */
export async function traceLsCommand(flags: TraceLsFlags, io: Io): Promise<number> {
  const dir = flags.dir ?? defaultTraceDir();
  const runs = listRuns(dir, { limit: flags.limit ?? 20 });
  if (flags.json) {
    io.out(JSON.stringify({ dir, runs }, null, 2));
    return EXIT.OK;
  }
  if (runs.length === 0) {
    io.out(`No runs recorded in ${dir} yet.`);
    io.out(`Run a team: ${selfCommand()} run research`);
    return EXIT.OK;
  }
  const total = listRuns(dir).length;
  io.out(table(runs));
  io.out('');
  io.out(
    `${runs.length === total ? plural(total, 'run') : `${runs.length} of ${plural(total, 'run')}`} in ${dir}. ` +
      `Show one: ${selfCommand()} trace ${runs[0]?.runId}`,
  );
  return EXIT.OK;
}

export interface TracePruneFlags {
  dir?: string;
  /** `--keep`: a count, `0`/`all` for no limit. */
  keep?: string;
  /** `--max-age`: `30d`, `12h`, … `0`/`off` for no limit. */
  maxAge?: string;
  dryRun?: boolean;
  json?: boolean;
}

/**
 * `baton trace prune`: applies the retention now (every `baton run` and worker applies it when it
 * starts): the newest `--keep` traces (BATON_TRACE_KEEP, default 200), none older than `--max-age`
 * (BATON_TRACE_MAX_AGE, default 30d).
 */
export async function tracePruneCommand(flags: TracePruneFlags, io: Io): Promise<number> {
  const dir = flags.dir ?? defaultTraceDir();
  let retention: TraceRetention;
  try {
    retention = traceRetentionFromEnv();
    const keep = parseKeep(flags.keep, '--keep');
    const age = parseMaxAge(flags.maxAge, '--max-age');
    if (keep === null) delete retention.keep;
    else if (keep !== undefined) retention.keep = keep;
    if (age === null) delete retention.maxAgeMs;
    else if (age !== undefined) retention.maxAgeMs = age;
  } catch (error) {
    const failure = toCliError(error);
    throw new CliError(failure.message, EXIT.USAGE, `${selfCommand()} trace prune --keep 50 --max-age 7d`);
  }
  const before = listTraceIds(dir).length;
  const result = pruneTraces(dir, retention, { dryRun: flags.dryRun === true });
  if (flags.json) {
    io.out(JSON.stringify({ dir, retention, dryRun: flags.dryRun === true, ...result }, null, 2));
    return EXIT.OK;
  }
  const limits = describeRetention(retention);
  const verb = flags.dryRun ? 'would remove' : 'removed';
  io.out(
    `${dir}: ${plural(before, 'trace')}; ${verb} ${plural(result.removed.length, 'trace')} ` +
      `(${plural(result.files, 'file')}, ${plural(result.indexLines, 'index line')}), keeping ${result.kept} (${limits})`,
  );
  if (flags.dryRun && result.removed.length > 0)
    io.out(`Remove them: ${selfCommand()} ${pruneWords(flags).join(' ')}`);
  return EXIT.OK;
}

function pruneWords(flags: TracePruneFlags): string[] {
  return [
    'trace',
    'prune',
    ...(flags.dir ? ['--dir', flags.dir] : []),
    ...(flags.keep ? ['--keep', flags.keep] : []),
    ...(flags.maxAge ? ['--max-age', flags.maxAge] : []),
  ];
}

function describeRetention(retention: TraceRetention): string {
  const parts = [
    retention.keep === undefined ? 'no count limit' : `the newest ${plural(retention.keep, 'trace')}`,
    retention.maxAgeMs === undefined ? 'no age limit' : `none older than ${age(retention.maxAgeMs)}`,
  ];
  return parts.join(', ');
}

function age(ms: number): string {
  const day = 86_400_000;
  if (ms % day === 0) return plural(ms / day, 'day');
  if (ms % 3_600_000 === 0) return plural(ms / 3_600_000, 'hour');
  if (ms % 60_000 === 0) return plural(ms / 60_000, 'minute');
  return plural(Math.round(ms / 1_000), 'second');
}

/** `1 run`, `2 runs`. */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function table(runs: readonly RunIndexEntry[]): string {
  const header = ['RUN', 'TEAM', 'STATUS', 'STARTED', 'DURATION', 'TOKENS'];
  const rows = runs.map((run) => [
    run.runId,
    run.kind === 'workflow' ? run.name : `${run.name} (agent)`,
    run.status ?? 'running',
    started(run.startMs),
    run.durationMs === undefined ? '-' : duration(run.durationMs),
    run.inputTokens === undefined && run.outputTokens === undefined
      ? '-'
      : ((run.inputTokens ?? 0) + (run.outputTokens ?? 0)).toLocaleString('en-US'),
  ]);
  const right = new Set([4, 5]);
  const widths = header.map((cell, index) =>
    Math.max(cell.length, ...rows.map((row) => row[index]?.length ?? 0)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, index) =>
        right.has(index) ? cell.padStart(widths[index] ?? 0) : cell.padEnd(widths[index] ?? 0),
      )
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** Local time, to the second: what a person compares with their clock. */
function started(ms: number): string {
  const date = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

function duration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1_000)} s`;
}
