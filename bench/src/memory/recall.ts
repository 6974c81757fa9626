/**
 * `memory.recall` (issue 13): how long `MemoryStore.search` takes with 10k and 100k memories in one
 * namespace, per backend — inMemoryStore (core), natsMemoryStore (a nats-server started here, never the
 * machine's) and postgresMemoryStore (the machine's PostgreSQL, in a schema made and dropped here).
 *
 * Each size is loaded through the store's own `put` (what loading costs an application), then searched
 * sequentially with the same seeded queries: p50/p99 of the searches after a short warm-up. The first
 * search is reported apart — it is when the KV store builds its per-process index of the namespace.
 * Called by bench/src/run.ts in its own child (`target.ts`); the figures land under `memory.recall`.
 */
import { randomBytes } from 'node:crypto';
import { NatsBus, natsMemoryStore } from '@baton/bus';
import { startNatsServer } from '@baton/bus/testing';
import { inMemoryStore, type MemoryNamespace, type MemoryStore } from '@baton/core';
import { postgresMemoryStore } from '@baton/postgres';
import pg from 'pg';
import { memories, queries } from './recall-data.js';
import { RECALL_BACKENDS, type RecallBackendName } from './recall-format.js';

export interface RecallPoint {
  /** Records the namespace held when searched (less than asked when loading hit its time limit). */
  records: number;
  p50Ms: number;
  p99Ms: number;
  /** The first search after loading (index builds happen there), not in p50/p99. */
  firstSearchMs: number;
  searches: number;
  /** Hits per search, averaged: the queries are not trivially empty. */
  meanHits: number;
  loadSeconds: number;
  loadNote?: string;
}

export type RecallBackend = { n10k: RecallPoint; n100k: RecallPoint } | { error: string };

const SIZES = [
  { label: 'n10k', count: 10_000, searches: 1_000 },
  { label: 'n100k', count: 100_000, searches: 300 },
] as const;
const WARMUP = 20;
/** Loading that takes longer stops there: the point is then measured on what was loaded, and says so. */
const LOAD_LIMIT_MS = 11 * 60_000;
const POSTGRES = process.env.BATON_BENCH_POSTGRES ?? 'postgresql://postgres@127.0.0.1:5432/test';

const round = (value: number, digits = 3) => Number(value.toFixed(digits));
const percentile = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

/** Puts `all[from..to)` with `parallel` writes in flight; stops early (returns the count) at `deadline`. */
async function load(
  store: MemoryStore,
  ns: MemoryNamespace,
  all: readonly { key: string; value: string }[],
  from: number,
  to: number,
  parallel: number,
  deadline: number,
): Promise<number> {
  let next = from;
  const worker = async () => {
    while (next < to && Date.now() < deadline) {
      const item = all[next++] as { key: string; value: string };
      await store.put(ns, item.key, item.value, { provenance: { source: 'import', trusted: true } });
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return next - from;
}

async function measureBackend(
  open: () => Promise<{ store: MemoryStore; close(): Promise<void> }>,
  parallel: number,
): Promise<{ n10k: RecallPoint; n100k: RecallPoint }> {
  const { store, close } = await open();
  try {
    const ns: MemoryNamespace = { tenant: 'bench', user: `user-${randomBytes(4).toString('hex')}` };
    const all = memories(SIZES[SIZES.length - 1].count);
    const asked = queries(WARMUP + SIZES[0].searches);
    const points: Partial<Record<(typeof SIZES)[number]['label'], RecallPoint>> = {};
    let loaded = 0;
    let loadMs = 0;
    const started = Date.now();
    for (const size of SIZES) {
      // The 100k point grows the 10k namespace: what is loaded is timed once, and summed.
      const t0 = performance.now();
      loaded += await load(store, ns, all, loaded, size.count, parallel, started + LOAD_LIMIT_MS);
      loadMs += performance.now() - t0;
      const first = performance.now();
      await store.search(ns, asked[0] as string);
      const firstSearchMs = performance.now() - first;
      for (const query of asked.slice(1, WARMUP)) await store.search(ns, query);
      const samples: number[] = [];
      let hits = 0;
      for (const query of asked.slice(WARMUP, WARMUP + size.searches)) {
        const t = performance.now();
        hits += (await store.search(ns, query)).length;
        samples.push(performance.now() - t);
      }
      samples.sort((a, b) => a - b);
      const point: RecallPoint = {
        records: loaded,
        p50Ms: round(percentile(samples, 50)),
        p99Ms: round(percentile(samples, 99)),
        firstSearchMs: round(firstSearchMs),
        searches: samples.length,
        meanHits: round(hits / samples.length, 2),
        loadSeconds: round(loadMs / 1000, 1),
      };
      if (loaded < size.count) {
        point.loadNote = `loading stopped at the ${LOAD_LIMIT_MS / 60_000}-minute limit: ${loaded} of ${size.count} records`;
      }
      points[size.label] = point;
    }
    return points as { n10k: RecallPoint; n100k: RecallPoint };
  } finally {
    await close();
  }
}

/** The backends, each measured in a child of its own (target.ts), so one slow backend cannot sink the others. */
const BACKENDS: Record<RecallBackendName, () => Promise<{ n10k: RecallPoint; n100k: RecallPoint }>> = {
  inMemory: () =>
    measureBackend(async () => {
      const store = inMemoryStore();
      return { store, close: () => store.close() };
    }, 1),
  natsKv: () =>
    measureBackend(async () => {
      const server = await startNatsServer({ jetstream: true, readyTimeoutMs: 30_000 });
      const bus = await NatsBus.connect({ servers: server.url, name: 'bench-memory-recall' });
      const store = await natsMemoryStore(bus, { bucket: 'bench_memory_recall' });
      return {
        store,
        close: async () => {
          await store.close();
          await bus.close();
          await server.stop();
        },
      };
    }, 64),
  postgres: () =>
    measureBackend(async () => {
      const schema = `baton_bench_${randomBytes(4).toString('hex')}`;
      const store = await postgresMemoryStore({ connectionString: POSTGRES, schema, maxConnections: 16 });
      return {
        store,
        close: async () => {
          await store.close();
          const admin = new pg.Client({ connectionString: POSTGRES });
          await admin.connect();
          await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
          await admin.end();
        },
      };
    }, 16),
};

/** Measures the backend named by `BATON_RECALL_BACKEND` (target.ts sets it per child). */
export async function measureRecall(): Promise<Partial<Record<RecallBackendName, RecallBackend>>> {
  const backend = process.env.BATON_RECALL_BACKEND as RecallBackendName | undefined;
  if (backend === undefined || !(backend in BACKENDS)) {
    throw new Error(`BATON_RECALL_BACKEND must be one of ${RECALL_BACKENDS.join(', ')}`);
  }
  try {
    return { [backend]: await BACKENDS[backend]() };
  } catch (error) {
    return { [backend]: { error: error instanceof Error ? error.message : String(error) } };
  }
}
