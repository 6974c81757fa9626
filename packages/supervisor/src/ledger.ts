import { createHash } from 'node:crypto';
import type { Invocation } from './team-run.js';

export interface LedgerEntry {
  /** The manager step that delegated. */
  step: number;
  worker: string;
  ok: boolean;
  output?: unknown;
  error?: string;
  /** True when the result brought information the team did not have. */
  isNew: boolean;
}

/**
 * What the supervisor has learned so far. A delegation that fails or returns something already seen is a
 * stall; `stalls` counts them in a row, and any new information resets it.
 */
export class ProgressLedger {
  readonly entries: LedgerEntry[] = [];
  stalls = 0;
  lastStep = 0;
  private readonly seen = new Set<string>();

  record(step: number, worker: string, invocation: Invocation<unknown>): LedgerEntry {
    const { ok, result } = invocation;
    const output = ok ? result.output : undefined;
    const key = ok
      ? createHash('sha256')
          .update(JSON.stringify(output) ?? '')
          .digest('base64url')
      : '';
    const isNew = ok && !this.seen.has(key);
    if (isNew) this.seen.add(key);
    this.stalls = isNew ? 0 : this.stalls + 1;
    this.lastStep = step;
    const entry: LedgerEntry = { step, worker, ok, isNew };
    if (ok) entry.output = output;
    else entry.error = result.error ? `${result.error.code}: ${result.error.message}` : result.status;
    this.entries.push(entry);
    return entry;
  }

  /** The useful results, for a synthesis: what each worker found, and what failed. */
  findings(): { found: { worker: string; output: unknown }[]; failed: { worker: string; error: string }[] } {
    return {
      found: this.entries.filter((e) => e.ok && e.isNew).map((e) => ({ worker: e.worker, output: e.output })),
      failed: this.entries
        .filter((e) => !e.ok)
        .map((e) => ({ worker: e.worker, error: e.error ?? 'failed' })),
    };
  }
}
