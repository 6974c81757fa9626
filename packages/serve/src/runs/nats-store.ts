import type { NatsBus } from '@baton/bus';
import { BatonError } from '@baton/core';
import { jetstream } from '@nats-io/jetstream';
import { type KV, type KvEntry, Kvm, KvWatchInclude } from '@nats-io/kv';
import { isFinalStatus } from '../schemas.js';
import { decodeRecord, encodeRecord, type RunRecord } from './record.js';
import { duplicateRun, type RecordChange, type RunStore, selectRuns } from './store.js';

/** The gateway's runs bucket of a namespace (named like the bus's buckets: `BATON_<ns>_*`). */
export function runsBucket(namespace: string): string {
  return `BATON_${namespace}_RUNS`;
}

/** Runs stay readable this long; the server enforces it as the bucket's max age. */
export const NATS_RUN_RETENTION_MS = 24 * 60 * 60 * 1000;

/** Room left in a message for the headers and framing around a record. */
const FRAMING_BYTES = 8 * 1024;

/**
 * Runs in one KV bucket per tenant. Every write is a compare-and-set on the revision read, so a cancel
 * from one gateway and a status change from the gateway running the job never overwrite each other; a
 * watch on the bucket tells every gateway of every cancel request.
 */
export function natsRunStore(bus: NatsBus): RunStore {
  const buckets = new Map<string, Promise<KV>>();
  const watchers = new Map<string, { listeners: Set<(id: string) => void>; stop: () => void }>();
  const maxBytes = () =>
    Math.max(64 * 1024, (bus.connection.info?.max_payload ?? 1024 * 1024) - FRAMING_BYTES);

  const kv = (tenant: string): Promise<KV> => {
    let bucket = buckets.get(tenant);
    if (!bucket) {
      const kvm = new Kvm(jetstream(bus.connection, { timeout: 5_000 }));
      const name = runsBucket(tenant);
      bucket = kvm
        .create(name, { history: 1, ttl: NATS_RUN_RETENTION_MS })
        .catch((error: unknown) => kvm.open(name).catch(() => Promise.reject(error)))
        .catch((error: unknown) => {
          buckets.delete(tenant);
          throw unavailable(`Cannot open the KV bucket ${name}`, error);
        });
      buckets.set(tenant, bucket);
    }
    return bucket;
  };

  // Every record of the tenant's bucket (the bucket's max age bounds how many there are).
  const all = async (tenant: string): Promise<RunRecord[]> => {
    const store = await kv(tenant);
    const keys: string[] = [];
    for await (const key of await store.keys()) keys.push(key);
    const records = await Promise.all(keys.map(async (key) => (await read(tenant, key))?.record));
    return records.filter((record): record is RunRecord => record !== undefined);
  };

  const read = async (tenant: string, id: string) => {
    let entry: KvEntry | null;
    try {
      entry = await (await kv(tenant)).get(id);
    } catch (error) {
      throw unavailable(`Cannot read run ${id}`, error);
    }
    if (entry?.operation !== 'PUT') return undefined;
    const record = decodeRecord(entry.string());
    return record ? { record, revision: entry.revision } : undefined;
  };

  const watch = (tenant: string) => {
    const listeners = new Set<(id: string) => void>();
    let stopped = false;
    let iterator: { stop(): void } | undefined;
    void (async () => {
      // Re-subscribes after a reconnect ends the iterator; gives up only when stopped or closed.
      while (!stopped && !bus.connection.isClosed()) {
        try {
          const changes = await (await kv(tenant)).watch({ include: KvWatchInclude.UpdatesOnly });
          iterator = changes;
          if (stopped) changes.stop();
          for await (const entry of changes) {
            if (entry.operation !== 'PUT') continue;
            const record = decodeRecord(entry.string());
            if (record?.cancelRequested && !isFinalStatus(record.status)) {
              for (const listener of listeners) listener(record.id);
            }
          }
        } catch {
          // The bucket or the server is away: look again shortly.
        }
        if (!stopped) await new Promise((resolve) => setTimeout(resolve, 500).unref());
      }
    })();
    return {
      listeners,
      stop: () => {
        stopped = true;
        iterator?.stop();
      },
    };
  };

  return {
    durable: true,
    async create(record) {
      const store = await kv(record.tenant);
      try {
        await store.create(record.id, encodeRecord(record, maxBytes()));
      } catch (error) {
        if (isWrongLastSequence(error)) throw duplicateRun(record.id);
        throw unavailable(`Cannot store run ${record.id}`, error);
      }
    },
    async get(tenant, id) {
      return (await read(tenant, id))?.record;
    },
    async update(tenant, id, change: RecordChange) {
      const store = await kv(tenant);
      for (let attempt = 0; attempt < 50; attempt++) {
        const current = await read(tenant, id);
        if (!current) return undefined;
        const next = change(current.record);
        if (!next) return current.record;
        try {
          await store.update(id, encodeRecord(next, maxBytes()), current.revision);
          return next;
        } catch (error) {
          if (!isWrongLastSequence(error)) throw unavailable(`Cannot update run ${id}`, error);
        }
      }
      throw new BatonError('INTERNAL', `Run ${id} changed 50 times while it was being updated`);
    },
    onCancel(tenant, listener) {
      let watcher = watchers.get(tenant);
      if (!watcher) {
        watcher = watch(tenant);
        watchers.set(tenant, watcher);
      }
      const current = watcher;
      current.listeners.add(listener);
      return () => {
        current.listeners.delete(listener);
      };
    },
    async queued(tenant) {
      return (await all(tenant)).filter((record) => record.mode === 'async' && record.status === 'queued');
    },
    async list(tenant, query) {
      return selectRuns(await all(tenant), tenant, query);
    },
    async close() {
      for (const watcher of watchers.values()) watcher.stop();
      watchers.clear();
    },
  };
}

function isWrongLastSequence(error: unknown): boolean {
  return /wrong last sequence|key exists/i.test(String((error as Error)?.message ?? ''));
}

function unavailable(message: string, error: unknown): BatonError {
  return new BatonError('BUS_DISCONNECTED', `${message}: ${(error as Error)?.message ?? String(error)}`, {
    cause: error,
  });
}
