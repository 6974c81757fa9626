import { renderTable } from '@baton/teams';
import { defaultTraceDir } from '@baton/telemetry';
import { CliError, EXIT } from '../errors.js';
import type { Io } from '../io.js';
import { collectRuns } from './stats-collect.js';
import { evaluateRuns, type RuleResult } from './stats-evaluate.js';
import { formatValue } from './stats-rules.js';

export interface StatsFlags {
  /** Trace files directory (default `.baton/traces`). */
  dir?: string;
  /** `30m`, `24h`, `7d` back from now, or a date (default 24h). */
  since?: string;
  kind?: 'top' | 'team' | 'agent' | 'all';
  limit?: number;
  json?: boolean;
}

/** An alert fired: the exit code CI and cron jobs check (1, like `baton eval` below its threshold). */
export const STATS_ALERT_EXIT = EXIT.NOT_COMPLETED;

/**
 * `baton stats`: the seed's alert thresholds over the recent runs recorded in the local trace files —
 * success rate, steps, p99 latency, tokens, cost, tool error rate, escalation rate — as a table with
 * OK / ALERT per rule (or JSON). Exits 1 when any rule alerts, 0 otherwise (no runs: nothing alerts).
 */
export async function statsCommand(flags: StatsFlags, io: Io, now: number = Date.now()): Promise<number> {
  const dir = flags.dir ?? defaultTraceDir();
  const sinceMs = parseSince(flags.since ?? '24h', now);
  const { runs, missing } = collectRuns(dir, {
    sinceMs,
    kind: flags.kind ?? 'top',
    ...(flags.limit === undefined ? {} : { limit: flags.limit }),
  });
  const report = evaluateRuns(runs);
  if (flags.json) {
    io.out(
      JSON.stringify(
        { dir, since: new Date(sinceMs).toISOString(), kind: flags.kind ?? 'top', missing, ...report },
        null,
        2,
      ),
    );
    return report.alerts > 0 ? STATS_ALERT_EXIT : EXIT.OK;
  }
  if (runs.length === 0) {
    io.out(`No runs recorded in ${dir} since ${new Date(sinceMs).toISOString()}.`);
    io.out('Run a team first (e.g. `baton run research`), or widen --since.');
    return EXIT.OK;
  }
  io.out(
    `${runs.length} run(s) since ${new Date(sinceMs).toISOString()} in ${dir}` +
      `${missing > 0 ? ` (${missing} more without spans yet)` : ''}:`,
  );
  io.out('');
  io.out(
    renderTable(
      [
        { header: 'rule' },
        { header: 'value', align: 'right' },
        { header: 'threshold', align: 'right' },
        { header: 'state' },
        { header: 'over' },
      ],
      report.rules.map((rule) => [
        rule.label,
        rule.value === undefined ? '-' : formatValue(rule.unit, rule.value),
        `${rule.op} ${formatValue(rule.unit, rule.threshold)}`,
        rule.state,
        rule.detail,
      ]),
    ),
  );
  const firing = report.rules.filter((rule) => rule.state === 'ALERT');
  io.out('');
  io.out(
    firing.length === 0 ? 'All rules OK.' : `${firing.length} alert(s): ${firing.map(describe).join('; ')}`,
  );
  return firing.length > 0 ? STATS_ALERT_EXIT : EXIT.OK;
}

function describe(rule: RuleResult): string {
  return `${rule.label} ${formatValue(rule.unit, rule.value as number)} ${rule.op} ${formatValue(rule.unit, rule.threshold)}`;
}

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `90s`, `30m`, `24h`, `7d`, `2w` back from `now`, or an ISO date; anything else is a usage error. */
export function parseSince(raw: string, now: number): number {
  const match = /^(\d+(?:\.\d+)?)\s*([smhdw])$/.exec(raw.trim());
  if (match) return now - Number(match[1]) * (UNITS[match[2] as string] as number);
  const date = Date.parse(raw);
  if (Number.isFinite(date) && /^\d{4}-\d{2}-\d{2}/.test(raw.trim())) return date;
  throw new CliError(
    `--since: "${raw}" is neither a duration (30m, 24h, 7d) nor a date (2026-01-31)`,
    EXIT.USAGE,
  );
}
