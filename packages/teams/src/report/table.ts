import type { UnpricedUsage } from '@baton/core';
import type { TeamResult } from '@baton/supervisor';

export interface Column {
  header: string;
  /** Numbers read best right-aligned. Default left. */
  align?: 'left' | 'right';
}

/** A plain-text table: a header row, a rule, then the rows, columns padded to their widest cell. */
export function renderTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  const widths = columns.map((column, index) =>
    Math.max(column.header.length, ...rows.map((row) => (row[index] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    columns
      .map((column, index) => {
        const cell = cells[index] ?? '';
        const width = widths[index] as number;
        return column.align === 'right' ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  const rule = widths.map((width) => '─'.repeat(width)).join('  ');
  return [line(columns.map((column) => column.header)), rule, ...rows.map(line)].join('\n');
}

export function formatTokens(tokens: number): string {
  return Math.round(tokens).toLocaleString('en-US');
}

/** Dollars; a cost with unpriced steps is "unknown" (or "$x + ?" when part of it is known), never $0. */
export function formatCost(usd: number, unpriced?: UnpricedUsage): string {
  if (!unpriced || unpriced.steps === 0) return `$${usd.toFixed(4)}`;
  return usd > 0 ? `$${usd.toFixed(4)} + ?` : 'unknown';
}

export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  return `${(ms / 1_000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

const MEMBER_COLUMNS: readonly Column[] = [
  { header: 'agent' },
  { header: 'status' },
  { header: 'runs', align: 'right' },
  { header: 'steps', align: 'right' },
  { header: 'tokens', align: 'right' },
  { header: 'cost', align: 'right' },
  { header: 'time', align: 'right' },
];

/**
 * One row per member (status of its last run, invocations, steps, tokens, cost, time) and a total row
 * whose time is the team's wall time. A member that failed at least once shows it next to its status.
 */
export function memberTable(result: TeamResult): string {
  const reports = Object.values(result.members);
  const rows = reports.map((report) => [
    report.agent,
    report.failures > 0 ? `${report.status} (${report.failures} failed)` : report.status,
    String(report.invocations),
    String(report.steps),
    formatTokens(report.usage.inputTokens + report.usage.outputTokens),
    formatCost(report.costUsd, report.unpriced),
    formatDuration(report.durationMs),
  ]);
  rows.push([
    'team',
    result.status,
    String(reports.reduce((sum, report) => sum + report.invocations, 0)),
    String(reports.reduce((sum, report) => sum + report.steps, 0)),
    formatTokens(result.usage.inputTokens + result.usage.outputTokens),
    formatCost(result.costUsd, result.unpriced),
    formatDuration(result.durationMs),
  ]);
  return renderTable(MEMBER_COLUMNS, rows);
}
