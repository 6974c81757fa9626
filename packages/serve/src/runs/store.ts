import { BatonError } from '@baton/core';
import { isFinalStatus } from '../schemas.js';
import type { RunRecord } from './record.js';

/** A change to a record: the new record, or undefined to leave it as it is. */
export type RecordChange = (current: RunRecord) => RunRecord | undefined;

/**
 * Where the gateway keeps its runs. In memory (one gateway), or in a KV bucket per tenant on NATS, so
 * every gateway instance reads, polls and cancels every run, and a restarted one finds its jobs.
 */
export interface RunStore {
  /** True when records outlive the process (the work queue re-submits what was accepted). */
  readonly durable: boolean;
  /** Stores a new run; DUPLICATE when the tenant has a run with this id. */
  create(record: RunRecord): Promise<void>;
  get(tenant: string, id: string): Promise<RunRecord | undefined>;
  /** Applies `change` as a compare-and-set (retried on a race); the record after it, undefined when none. */
  update(tenant: string, id: string, change: RecordChange): Promise<RunRecord | undefined>;
  /** Calls `listener` with the id of every run of `tenant` that gets a cancel request, from any gateway. */
  onCancel(tenant: string, listener: (id: string) => void): () => void;
  /** Async runs accepted and not started: what a restarted gateway puts on the work queue again. */
  queued(tenant: string): Promise<RunRecord[]>;
  /** The tenant's runs, newest first, at most `query.limit`, optionally of one status. */
  list(tenant: string, query: RunListQuery): Promise<RunRecord[]>;
  close(): Promise<void>;
}

export interface RunListQuery {
  limit: number;
  status?: RunRecord['status'];
}

/** Newest first, filtered by status, cut to the limit: one rule for every store. */
export function selectRuns(records: Iterable<RunRecord>, tenant: string, query: RunListQuery): RunRecord[] {
  const chosen: RunRecord[] = [];
  for (const record of records) {
    if (record.tenant !== tenant) continue;
    if (query.status !== undefined && record.status !== query.status) continue;
    chosen.push(record);
  }
  chosen.sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1));
  return chosen.slice(0, query.limit);
}

export function duplicateRun(id: string): BatonError {
  return new BatonError('DUPLICATE', `A run with id "${id}" exists`, {
    details: { id },
    hint: 'Give another id, or leave "id" out to get a generated one',
  });
}

export interface MemoryRunStoreOptions {
  /** Finished runs older than this are forgotten. */
  retentionMs: number;
  /** Most runs kept; the oldest finished ones go first. */
  max: number;
}

/**
 * Runs in this process's memory, bounded by age and count: a long-lived gateway does not grow without
 * limit. Open runs are never evicted (their number is bounded by what runs at once).
 */
export function memoryRunStore(options: MemoryRunStoreOptions): RunStore {
  const runs = new Map<string, RunRecord>();
  const listeners = new Map<string, Set<(id: string) => void>>();
  const key = (tenant: string, id: string) => `${tenant}\u0000${id}`;
  // Shallow copies: a record is replaced whole on every change (never mutated in place, nested values
  // included), so sharing the nested values is safe and a deep copy per read would cost every request.
  const copy = (record: RunRecord): RunRecord => ({ ...record });
  let lastSweep = 0;

  // Age once a second (a pass over the map); count on every insert, from the head of the map — the
  // oldest — so each eviction costs O(1) amortized (open runs there are few: they are what runs now).
  const sweep = (now: number) => {
    if (now - lastSweep >= 1_000) {
      lastSweep = now;
      for (const [k, record] of runs) {
        if (isFinalStatus(record.status) && now - (record.endedAt ?? record.updatedAt) > options.retentionMs)
          runs.delete(k);
      }
    }
    if (runs.size < options.max) return;
    for (const [k, record] of runs) {
      if (runs.size < options.max) break;
      if (isFinalStatus(record.status)) runs.delete(k);
    }
  };

  return {
    durable: false,
    async create(record) {
      sweep(Date.now());
      const k = key(record.tenant, record.id);
      if (runs.has(k)) throw duplicateRun(record.id);
      runs.set(k, copy(record));
    },
    async get(tenant, id) {
      const record = runs.get(key(tenant, id));
      return record ? copy(record) : undefined;
    },
    async update(tenant, id, change) {
      const k = key(tenant, id);
      const current = runs.get(k);
      if (!current) return undefined;
      const next = change(copy(current));
      if (!next) return copy(current);
      runs.set(k, copy(next));
      if (next.cancelRequested && !current.cancelRequested) {
        for (const listener of listeners.get(tenant) ?? []) listener(id);
      }
      return copy(next);
    },
    onCancel(tenant, listener) {
      let set = listeners.get(tenant);
      if (!set) {
        set = new Set();
        listeners.set(tenant, set);
      }
      set.add(listener);
      return () => {
        set.delete(listener);
      };
    },
    async queued(tenant) {
      return [...runs.values()]
        .filter((record) => record.tenant === tenant && record.mode === 'async' && record.status === 'queued')
        .map(copy);
    },
    async list(tenant, query) {
      return selectRuns(runs.values(), tenant, query).map(copy);
    },
    async close() {
      listeners.clear();
    },
  };
}
