/**
 * The backends, method and printed table of `memory.recall` (apart from recall.ts, so the runner uses them
 * without loading Baton).
 */
export const RECALL_BACKENDS = ['inMemory', 'natsKv', 'postgres'] as const;
export type RecallBackendName = (typeof RECALL_BACKENDS)[number];

export const RECALL_METHOD = {
  data:
    'Seeded synthetic memories of 8–20 words of the bundled corpus (Zipf over its ~1,750 distinct words by ' +
    'frequency, stop words included) in one namespace (one user), ' +
    'put through each store’s own put(); the 100k point adds 90k to the 10k namespace. Queries: 2–4 ' +
    'words from the same law less its 30 most frequent words, search() with its defaults (limit 10, ' +
    'recency on), one at a time.',
  timing:
    'Per search, performance.now() around await store.search(); p50/p99 of 1,000 searches at 10k and ' +
    '300 at 100k, after 20 warm-up searches. firstSearchMs is the first search after loading (the KV ' +
    'store builds its per-process index there) and is not in the percentiles.',
  backends:
    'Each backend in a child process of its own, one after another. inMemory: inMemoryStore (MiniSearch ' +
    'BM25), one put at a time. natsKv: natsMemoryStore on a nats-server (JetStream, file storage) started ' +
    'for this, 64 puts in flight. postgres: postgresMemoryStore on the machine’s PostgreSQL (full-text ' +
    'search, GIN index), 16 puts in flight, schema dropped afterwards.',
  limits:
    'Loading stops after 11 minutes per backend (a point then says how many records it had); a backend ' +
    'child has 15 minutes in all.',
};

interface Point {
  records: number;
  p50Ms: number;
  p99Ms: number;
  firstSearchMs: number;
  meanHits: number;
  loadSeconds: number;
  loadNote?: string;
}

const isPoint = (value: unknown): value is Point =>
  typeof value === 'object' && value !== null && typeof (value as Point).p50Ms === 'number';

export function formatRecall(recall: unknown): string {
  if (typeof recall !== 'object' || recall === null) return 'memory.recall: not measured';
  const rows = [['memory.recall', 'records', 'p50 ms', 'p99 ms', 'first search ms', 'hits/search', 'load s']];
  const notes: string[] = [];
  for (const [backend, figures] of Object.entries(recall as Record<string, unknown>)) {
    if (backend === 'method' || backend === 'measuredAt') continue;
    const byPoint = figures as Record<string, unknown>;
    if (typeof byPoint.error === 'string') {
      notes.push(`${backend}: ${byPoint.error}`);
      continue;
    }
    for (const [label, point] of Object.entries(byPoint)) {
      if (!isPoint(point)) {
        notes.push(`${backend} ${label}: ${String((point as { error?: unknown }).error ?? 'not measured')}`);
        continue;
      }
      rows.push([
        `${backend} ${label}`,
        `${point.records}`,
        `${point.p50Ms}`,
        `${point.p99Ms}`,
        `${point.firstSearchMs}`,
        `${point.meanHits}`,
        `${point.loadSeconds}`,
      ]);
      if (point.loadNote) notes.push(`${backend} ${label}: ${point.loadNote}`);
    }
  }
  const widths =
    rows[0]?.map((_, column) => Math.max(...rows.map((cells) => cells[column]?.length ?? 0))) ?? [];
  const lines = rows.map((cells) => cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  '));
  return [...lines, ...notes].join('\n');
}
