import { z } from 'zod';
import { BatonError } from '../errors.js';
import {
  type AuditEntry,
  type AuditHead,
  type AuditRecord,
  type AuditSink,
  type AuditTail,
  auditHeadEntrySchema,
  auditRecordSchema,
} from './types.js';

/** The stored text of one entry: a record as itself, a head wrapped as `{"head": ...}`. */
export function encodeAuditEntry(entry: AuditEntry): string {
  return JSON.stringify('head' in entry ? { head: entry.head } : entry.record);
}

/** One stored line or message body, parsed. Text that is not JSON is kept as it is, for the verifier to report. */
export function parseAuditText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Heads are the only entries with a `head` field (records are strict and have none). */
export function isHeadEntry(raw: unknown): boolean {
  return typeof raw === 'object' && raw !== null && !Array.isArray(raw) && Object.hasOwn(raw, 'head');
}

/** Stored entries as the verifier takes them: records in stored order, and the heads' bodies. */
export function splitAuditEntries(raw: readonly unknown[]): { records: unknown[]; heads: unknown[] } {
  const records: unknown[] = [];
  const heads: unknown[] = [];
  for (const entry of raw) {
    if (isHeadEntry(entry)) heads.push((entry as { head: unknown }).head);
    else records.push(entry);
  }
  return { records, heads };
}

/** One stored entry, validated; `where` names it for a person ("<file> line 3", "stream X seq 9"). */
export function decodeAuditEntry(raw: unknown, where: string): AuditEntry {
  if (isHeadEntry(raw)) {
    const parsed = auditHeadEntrySchema.safeParse(raw);
    if (!parsed.success) throw invalidAuditEntry(where, z.prettifyError(parsed.error));
    return { head: parsed.data.head };
  }
  const parsed = auditRecordSchema.safeParse(raw);
  if (!parsed.success) {
    throw invalidAuditEntry(where, typeof raw === 'string' ? 'not JSON' : z.prettifyError(parsed.error));
  }
  return { record: parsed.data };
}

/** The chain's tail after this entry: a head names the record it signed, so it says as much as the record. */
export function tailOf(entry: AuditEntry): AuditTail {
  const { seq, hash } = 'head' in entry ? entry.head : entry.record;
  return { seq, hash };
}

export function sameTail(a: AuditTail | undefined, b: AuditTail | undefined): boolean {
  return a === undefined || b === undefined ? a === b : a.seq === b.seq && a.hash === b.hash;
}

/**
 * Everything a sink holds, validated, in order. It checks each entry's form, not the chain: `verifyAudit`
 * does that.
 */
export async function readAudit(sink: AuditSink): Promise<AuditEntry[]> {
  return (await sink.readRaw()).map((raw, index) => decodeAuditEntry(raw, `entry ${index + 1}`));
}

/** The records and heads of validated entries, each in stored order. */
export function recordsAndHeads(entries: readonly AuditEntry[]): {
  records: AuditRecord[];
  heads: AuditHead[];
} {
  const records: AuditRecord[] = [];
  const heads: AuditHead[] = [];
  for (const entry of entries) {
    if ('head' in entry) heads.push(entry.head);
    else records.push(entry.record);
  }
  return { records, heads };
}

export function auditConflict(what: string, found: AuditTail | undefined, after: AuditTail | undefined) {
  const show = (tail: AuditTail | undefined) => (tail ? `seq ${tail.seq}` : 'empty');
  return new BatonError(
    'AUDIT_CONFLICT',
    `${what}: another writer appended first (the log ends at ${show(found)}, this writer expected ${show(after)})`,
    { details: { found, expected: after } },
  );
}

export function invalidAuditEntry(where: string, why: string): BatonError {
  return new BatonError('AUDIT_INVALID', `Audit entry at ${where} is invalid: ${why}`, {
    details: { where },
    hint: 'Run `baton audit verify` on the log to see where the chain breaks',
  });
}
