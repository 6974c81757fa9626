import type { MemoryNamespace, MemoryProvenance, MemoryRecord } from '@baton/core';
import { renderTable } from '@baton/teams';
import { ago, clock } from '../approval-text.js';

/** `tenant acme · user ada · scope default`, or `tenant acme (tenant-wide) · scope default`. */
export function namespaceLine(ns: MemoryNamespace): string {
  const who = ns.user === undefined ? ' (tenant-wide)' : ` · user ${ns.user}`;
  return `tenant ${ns.tenant}${who}${ns.scope === undefined ? '' : ` · scope ${ns.scope}`}`;
}

/** `agent, untrusted · run r-1 · agent assistant · session s1`. */
export function provenanceLine(provenance: MemoryProvenance): string {
  return [
    `${provenance.source}, ${provenance.trusted ? 'trusted' : 'untrusted'}`,
    provenance.runId && `run ${provenance.runId}`,
    provenance.agent && `agent ${provenance.agent}`,
    provenance.sessionId && `session ${provenance.sessionId}`,
  ]
    .filter(Boolean)
    .join(' · ');
}

/** One line, at most `max` characters: a value in a table cell. */
export function clip(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function expires(record: MemoryRecord, now: number): string {
  if (record.expiresAt === undefined) return 'never';
  return record.expiresAt > now ? `in ${ago(now, record.expiresAt)}` : 'expired';
}

/** The records as a table: scope, key, kind, version, who wrote it, when, expiry and the value (cut short). */
export function recordsTable(records: readonly MemoryRecord[], now = Date.now()): string {
  return renderTable(
    [
      { header: 'scope' },
      { header: 'key' },
      { header: 'kind' },
      { header: 'v', align: 'right' },
      { header: 'source' },
      { header: 'updated', align: 'right' },
      { header: 'expires' },
      { header: 'value' },
    ],
    records.map((record) => [
      record.namespace.scope ?? 'default',
      clip(record.key, 40),
      record.kind,
      String(record.version),
      `${record.provenance.source}${record.provenance.trusted ? ' ✓' : ''}`,
      `${ago(record.updatedAt, now)} ago`,
      expires(record, now),
      clip(record.value, 60),
    ]),
  );
}

const indent = (text: string, by = '  ') =>
  text
    .split('\n')
    .map((line) => `${by}${line}`)
    .join('\n');

/** One record in full: namespace, kind, version, times, provenance, metadata, value, then its history. */
export function recordDetail(
  record: MemoryRecord,
  history: readonly MemoryRecord[],
  now = Date.now(),
): string {
  const meta = Object.entries(record.metadata ?? {})
    .map(([key, value]) => `${key}=${value}`)
    .join(', ');
  const lines = [
    `Key:        ${record.key}`,
    `Namespace:  ${namespaceLine(record.namespace)}`,
    `Kind:       ${record.kind}`,
    `Version:    ${record.version}`,
    `Created:    ${clock(record.createdAt)} (${ago(record.createdAt, now)} ago)`,
    `Updated:    ${clock(record.updatedAt)} (${ago(record.updatedAt, now)} ago)`,
    `Expires:    ${record.expiresAt === undefined ? 'never' : `${clock(record.expiresAt)} (${expires(record, now)})`}`,
    `Provenance: ${provenanceLine(record.provenance)}`,
  ];
  if (meta) lines.push(`Metadata:   ${meta}`);
  lines.push('Value:', indent(record.value));
  if (history.length === 0) {
    lines.push('History:    none (this is the first version)');
  } else {
    const count = `${history.length} earlier version${history.length === 1 ? '' : 's'}`;
    lines.push(`History (${count}, oldest first):`);
    for (const old of history) {
      lines.push(`  v${old.version}  ${clock(old.updatedAt)}  ${provenanceLine(old.provenance)}`);
      lines.push(indent(old.value, '      '));
    }
  }
  return lines.join('\n');
}

/**
 * The current version of every key among `records` (an export holds every version), most recently
 * updated first.
 */
export function currentVersions(records: readonly MemoryRecord[]): MemoryRecord[] {
  const latest = new Map<string, MemoryRecord>();
  for (const record of records) {
    const id = JSON.stringify([record.namespace.scope, record.key]);
    const seen = latest.get(id);
    if (!seen || record.version > seen.version) latest.set(id, record);
  }
  return [...latest.values()].sort((a, b) => b.updatedAt - a.updatedAt);
}

/** An export: each key's current version with its earlier ones, grouped. */
export interface MemoryExport {
  format: 'baton-memory-export';
  v: 1;
  exportedAt: string;
  subject: { tenant: string; user: string };
  backend: string;
  optedOut: boolean;
  /** How many keys, and how many versions in all. */
  counts: { memories: number; versions: number };
  memories: { record: MemoryRecord; history: MemoryRecord[] }[];
}

export function exportDocument(
  subject: { tenant: string; user: string },
  backend: string,
  optedOut: boolean,
  records: readonly MemoryRecord[],
): MemoryExport {
  const memories = currentVersions(records)
    .sort(
      (a, b) =>
        (a.namespace.scope ?? '').localeCompare(b.namespace.scope ?? '') || a.key.localeCompare(b.key),
    )
    .map((record) => ({
      record,
      history: records
        .filter(
          (old) =>
            old.key === record.key &&
            old.namespace.scope === record.namespace.scope &&
            old.version < record.version,
        )
        .sort((a, b) => a.version - b.version),
    }));
  return {
    format: 'baton-memory-export',
    v: 1,
    exportedAt: new Date().toISOString(),
    subject: { tenant: subject.tenant, user: subject.user },
    backend,
    optedOut,
    counts: { memories: memories.length, versions: records.length },
    memories,
  };
}
