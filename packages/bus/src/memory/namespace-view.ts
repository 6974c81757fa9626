/**
 * One namespace's current records held in this process: the records, their embeddings and a BM25 index
 * (core's `LexicalIndex`, the one `inMemoryStore` uses, so both stores rank alike). Entries are named by
 * their KV key, which is what a deletion read off the stream names.
 */
import {
  cosineSimilarity,
  isExpired,
  LexicalIndex,
  type MemoryHit,
  type MemoryKind,
  type MemoryRecord,
  recencyWeight,
} from '@baton/core';
import type { StoredRecord } from './kv-layout.js';

export interface ViewQuery {
  query: string;
  limit: number;
  kind?: MemoryKind;
  embedding?: readonly number[];
  recencyHalfLifeMs: number;
  /** Vector hits below this cosine similarity count as no match. */
  minSimilarity: number;
  now: number;
}

export class NamespaceView {
  private readonly index = new LexicalIndex();
  private readonly entries = new Map<string, StoredRecord>();

  get size(): number {
    return this.entries.size;
  }

  upsert(id: string, stored: StoredRecord): void {
    this.entries.set(id, stored);
    this.index.set(id, stored.record.key, stored.record.value);
  }

  remove(id: string): void {
    this.entries.delete(id);
    this.index.remove(id);
  }

  /** Live records, most recently updated first. */
  list(now: number, kind: MemoryKind | undefined, limit: number | undefined): MemoryRecord[] {
    const records: MemoryRecord[] = [];
    for (const { record } of this.entries.values()) {
      if (!isExpired(record, now) && (kind === undefined || record.kind === kind)) records.push(record);
    }
    records.sort((a, b) => b.updatedAt - a.updatedAt);
    return structuredClone(records.slice(0, limit ?? records.length));
  }

  /** The same blend as `inMemoryStore`: BM25, cosine similarity when an embedding is given, recency. */
  search(query: ViewQuery): MemoryHit[] {
    const lexical = new Map(this.index.search(query.query).map((match) => [match.id, match.score]));
    let best = 0;
    for (const score of lexical.values()) best = Math.max(best, score);
    const hits: MemoryHit[] = [];
    const candidates = query.embedding ? this.entries.keys() : lexical.keys();
    for (const id of candidates) {
      const stored = this.entries.get(id);
      if (stored === undefined || isExpired(stored.record, query.now)) continue;
      if (query.kind !== undefined && stored.record.kind !== query.kind) continue;
      let relevance = lexical.get(id) ?? 0;
      if (query.embedding) {
        // Lexical scores are unbounded and cosine is at most 1: the lexical part is scaled to [0, 1] first.
        const similarity = stored.embedding ? cosineSimilarity(query.embedding, stored.embedding) : 0;
        const vector = similarity >= query.minSimilarity ? similarity : 0;
        relevance = 0.5 * (best > 0 ? relevance / best : 0) + 0.5 * vector;
      }
      if (relevance <= 0) continue;
      const score = relevance * recencyWeight(query.now - stored.record.updatedAt, query.recencyHalfLifeMs);
      hits.push({ record: stored.record, score });
    }
    hits.sort((a, b) => b.score - a.score);
    return structuredClone(hits.slice(0, query.limit));
  }
}
