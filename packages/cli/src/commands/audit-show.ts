import { type AuditHead, type AuditRecord, decodeAuditEntry } from '@baton/core';
import { EXIT } from '../errors.js';
import type { Io } from '../io.js';
import { type AuditSourceFlags, readAuditSource } from './audit-source.js';

export interface AuditShowFlags extends AuditSourceFlags {
  run?: string;
  last?: number;
  json?: boolean;
}

type Line = { record: AuditRecord } | { head: AuditHead } | { invalid: number };

/**
 * `baton audit show <file>`: the records one per line, for people. It shows, it does not judge: an entry
 * that is not a valid record is shown as such, and `baton audit verify` says whether the log holds.
 */
export async function auditShowCommand(
  source: string | undefined,
  flags: AuditShowFlags,
  io: Io,
): Promise<number> {
  const { raw } = await readAuditSource(source, flags);
  let lines: Line[] = raw.map((entry, index) => {
    try {
      return decodeAuditEntry(entry, `entry ${index + 1}`);
    } catch {
      return { invalid: index + 1 };
    }
  });
  // Heads sign the whole log, so they say nothing about one run.
  if (flags.run !== undefined)
    lines = lines.filter((line) => 'record' in line && line.record.runId === flags.run);
  if (flags.last !== undefined) {
    let records = 0;
    let start = lines.length;
    while (start > 0 && records < flags.last) if (!('head' in lines[--start]!)) records++;
    lines = lines.slice(start);
  }
  for (const line of lines) {
    if (flags.json) io.out(JSON.stringify('invalid' in line ? { invalid: raw[line.invalid - 1] } : line));
    else io.out(describe(line));
  }
  return EXIT.OK;
}

function describe(line: Line): string {
  if ('invalid' in line) return `#?     entry ${line.invalid} is not a valid audit record`;
  if ('head' in line) {
    const { seq, keyId, at } = line.head;
    return `—      signed head at seq ${seq} · key ${keyId} · ${time(at)}`;
  }
  const r = line.record;
  const who = [r.tenantId && `tenant=${r.tenantId}`, r.userId && `user=${r.userId}`]
    .filter(Boolean)
    .join(' ');
  const head = `#${String(r.seq).padEnd(5)} ${time(r.at)}  ${r.kind.padEnd(17)} ${r.agent} run=${r.runId}`;
  return [head, detail(r), who].filter(Boolean).join('  ');
}

function detail(r: AuditRecord): string {
  const call = r.toolCallId ? ` call=${r.toolCallId}` : '';
  const args = r.args === undefined ? '' : ` args=${clip(JSON.stringify(r.args), 80)}`;
  const reason = r.reason ? `: ${r.reason}` : '';
  switch (r.kind) {
    case 'tool.call':
      return `${r.tool} ${r.outcome}${r.errorCode ? ` (${r.errorCode})` : ''}${call}${args}`;
    case 'approval.decision':
      return `${r.tool} ${r.decision}${r.decidedBy ? ` by ${r.decidedBy}` : ''}${call}${args}${reason}`;
    case 'guard.trip':
      return `${r.guard}${r.tool ? ` on ${r.tool}` : ''}${reason}`;
    case 'run.end':
      return `status=${r.status}`;
  }
}

function time(at: number): string {
  return new Date(at).toISOString();
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
