import {
  auditConflict,
  decodeAuditEntry,
  encodeAuditEntry,
  parseAuditText,
  sameTail,
  tailOf,
} from './codec.js';
import type { AuditEntry, AuditSink, AuditTail } from './types.js';

export interface MemoryAuditSink extends AuditSink {
  /** The stored entries as text, one per entry (what a file would hold): tests read and tamper with them. */
  readonly lines: string[];
}

/**
 * Audit entries in memory, for tests and benchmarks. Pass the same `lines` to a second sink to "reopen"
 * the log, or to have two logs share it. Entries are stored as text, so what is read back went through
 * JSON exactly as with a file.
 */
export function memoryAuditSink(options: { lines?: string[] } = {}): MemoryAuditSink {
  const lines = options.lines ?? [];
  const storedTail = (): AuditTail | undefined => {
    const last = lines.at(-1);
    return last === undefined
      ? undefined
      : tailOf(decodeAuditEntry(parseAuditText(last), `memory entry ${lines.length}`));
  };
  return {
    lines,
    async tail() {
      return storedTail();
    },
    async append(entry: AuditEntry, after: AuditTail | undefined) {
      const found = storedTail();
      if (!sameTail(found, after)) throw auditConflict('memoryAuditSink', found, after);
      lines.push(encodeAuditEntry(entry));
    },
    async readRaw() {
      return lines.map(parseAuditText);
    },
    async close() {},
  };
}
