import type { ApprovalRecord } from '@baton/core';
import { selfCommand } from './io.js';
import { shellCommand } from './stores.js';

/** Arguments as one line of JSON, cut to `max` characters (with an ellipsis) so a table stays readable. */
export function argsLine(args: unknown, max = 120): string {
  let text: string;
  try {
    text = JSON.stringify(args) ?? 'undefined';
  } catch {
    text = String(args);
  }
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** How long ago `at` was, in a word a person reads at a glance: `12s`, `4m`, `3h`, `2d`. */
export function ago(at: number, now = Date.now()): string {
  return span(Math.max(0, now - at));
}

function span(ms: number): string {
  const seconds = Math.round(ms / 1_000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours}h`;
  return `${Math.round(hours / 24)}d`;
}

/** `in 25m`, `expired 3m ago`, or `never`. */
export function expiry(record: ApprovalRecord, now = Date.now()): string {
  if (record.expiresAt === undefined) return 'never';
  return record.expiresAt > now
    ? `in ${span(record.expiresAt - now)}`
    : `expired ${ago(record.expiresAt, now)} ago`;
}

/** A moment as local date and time to the second, e.g. `2026-03-02 14:05:09`. */
export function clock(at: number): string {
  const date = new Date(at);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

/** What was decided, in words: `approved by alice@host 2026-… (4m ago)`. */
export function decisionLine(record: ApprovalRecord): string {
  const by = record.decidedBy ? ` by ${record.decidedBy}` : '';
  const when =
    record.decidedAt !== undefined ? ` at ${clock(record.decidedAt)} (${ago(record.decidedAt)} ago)` : '';
  const decision = record.decision;
  const detail =
    decision?.decision === 'deny' && decision.reason
      ? `: ${decision.reason}`
      : decision?.decision === 'edit'
        ? ` to ${argsLine(decision.args, 200)}`
        : '';
  return `${record.status}${by}${when}${detail}`;
}

/** Longest arguments put into a copy-pasteable `edit` command; longer ones get a placeholder. */
const MAX_EDIT_TEMPLATE = 2_000;

/** The commands a person runs to decide one call, with the store flags that reach the same records. */
export function decisionCommands(
  call: { runId: string; toolCallId: string; args: unknown },
  storeFlags: readonly string[],
): { approve: string; deny: string; edit: string } {
  const baton = selfCommand();
  const target = [call.runId, call.toolCallId];
  const json = argsLine(call.args, Number.POSITIVE_INFINITY);
  const template = json.length <= MAX_EDIT_TEMPLATE ? json : '<json>';
  return {
    approve: `${baton} ${shellCommand(['approvals', 'approve', ...target, ...storeFlags])}`,
    deny: `${baton} ${shellCommand(['approvals', 'deny', ...target, '--reason', '…', ...storeFlags])}`,
    edit: `${baton} ${shellCommand(['approvals', 'edit', ...target, '--args', template, ...storeFlags])}`,
  };
}
