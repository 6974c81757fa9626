/**
 * The embedded memory store: everything in this process, gone when it exits. The default for a single
 * process and for tests; teams across processes use the NATS KV or PostgreSQL store.
 */
import { BatonError } from '../errors.js';
import { LexicalIndex } from './lexical.js';
import type {
  MemoryHit,
  MemoryKind,
  MemoryNamespace,
  MemoryPutOptions,
  MemoryRecord,
  MemorySearchOptions,
  MemoryStore,
  MemorySubject,
} from './store.js';
import {
  cosineSimilarity,
  isExpired,
  MEMORY_LIMITS,
  parseKey,
  parseListOptions,
  parseNamespace,
  parsePut,
  parseSearch,
  parseSubject,
  type ResolvedNamespace,
  recencyWeight,
} from './validate.js';

export interface InMemoryStoreOptions {
  /** Retention: no record is kept longer than this after its last write, whatever its TTL (default: none). */
  maxAgeMs?: number;
  /** Vector hits below this cosine similarity are left out (default 0.3). */
  minSimilarity?: number;
  /** The clock, for tests of retention (default `Date.now`). */
  now?: () => number;
}

interface Entry {
  current: MemoryRecord;
  history: MemoryRecord[];
  embedding?: readonly number[];
}

/** Everything an `InMemoryStore` holds, for a store that keeps it somewhere else (`fileMemoryStore`). */
export interface MemorySnapshot {
  /** One per key: the live version, the earlier ones (oldest first) and the embedding, if any. */
  entries: { current: MemoryRecord; history: MemoryRecord[]; embedding?: readonly number[] }[];
  optedOut: MemorySubject[];
}

// JSON arrays keep the parts apart whatever characters they hold: ["a.b","c"] is never ["a","b.c"].
const nsId = (ns: ResolvedNamespace) => JSON.stringify([ns.tenant, ns.user ?? null, ns.scope]);
const subjectId = (subject: MemorySubject) => JSON.stringify([subject.tenant, subject.user]);
const ofSubject = (ns: MemoryNamespace, subject: MemorySubject) =>
  ns.tenant === subject.tenant && ns.user === subject.user;

/** The in-memory store, with `residue()` to show what it still holds of a subject (erasure checks). */
export class InMemoryStore implements MemoryStore {
  readonly backend = 'memory';
  /** namespace id → key → entry. */
  private readonly spaces = new Map<string, { namespace: ResolvedNamespace; entries: Map<string, Entry> }>();
  private readonly indexes = new Map<string, LexicalIndex>();
  private readonly optedOut = new Set<string>();
  private readonly now: () => number;

  constructor(private readonly options: InMemoryStoreOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  async put(
    namespace: MemoryNamespace,
    key: string,
    value: string,
    options?: MemoryPutOptions,
  ): Promise<MemoryRecord> {
    const put = parsePut(namespace, key, value, options);
    const ns = put.namespace;
    if (ns.user !== undefined && this.optedOut.has(subjectId({ tenant: ns.tenant, user: ns.user }))) {
      throw new BatonError(
        'MEMORY_OPTED_OUT',
        'This user opted out of memory: nothing about them is stored',
        {
          details: { tenant: ns.tenant },
        },
      );
    }
    const now = this.now();
    const space = this.space(ns);
    const previous = this.live(ns, put.key, now);
    const ttls = [put.ttlMs, this.options.maxAgeMs].filter((ms): ms is number => ms !== undefined);
    const record: MemoryRecord = {
      namespace: { ...ns },
      key: put.key,
      value: put.value,
      kind: put.kind,
      provenance: { ...put.provenance },
      version: (previous?.current.version ?? 0) + 1,
      createdAt: previous?.current.createdAt ?? now,
      updatedAt: now,
    };
    if (ttls.length > 0) record.expiresAt = now + Math.min(...ttls);
    if (put.metadata !== undefined) record.metadata = { ...put.metadata };
    const history = previous ? [...previous.history, previous.current].slice(-MEMORY_LIMITS.historyMax) : [];
    const entry: Entry = { current: record, history };
    if (put.embedding !== undefined) entry.embedding = [...put.embedding];
    space.entries.set(put.key, entry);
    this.index(ns).set(put.key, put.key, put.value);
    return structuredClone(record);
  }

  async get(namespace: MemoryNamespace, key: string): Promise<MemoryRecord | undefined> {
    const entry = this.live(parseNamespace(namespace), parseKey(key), this.now());
    return entry && structuredClone(entry.current);
  }

  async history(namespace: MemoryNamespace, key: string): Promise<MemoryRecord[]> {
    const entry = this.live(parseNamespace(namespace), parseKey(key), this.now());
    return entry ? structuredClone(entry.history) : [];
  }

  async list(
    namespace: MemoryNamespace,
    options?: { kind?: MemoryKind; limit?: number },
  ): Promise<MemoryRecord[]> {
    const ns = parseNamespace(namespace);
    const { kind, limit } = parseListOptions(options);
    const now = this.now();
    const records = [...(this.spaces.get(nsId(ns))?.entries.values() ?? [])]
      .map((entry) => entry.current)
      .filter((record) => !isExpired(record, now) && (kind === undefined || record.kind === kind))
      .sort((a, b) => b.updatedAt - a.updatedAt);
    return structuredClone(records.slice(0, limit ?? records.length));
  }

  async search(
    namespace: MemoryNamespace,
    query: string,
    options?: MemorySearchOptions,
  ): Promise<MemoryHit[]> {
    const ns = parseNamespace(namespace);
    const search = parseSearch(query, options);
    const space = this.spaces.get(nsId(ns));
    if (space === undefined) return [];
    const now = this.now();
    const lexical = new Map(
      (this.indexes.get(nsId(ns))?.search(search.query) ?? []).map((match) => [match.id, match.score]),
    );
    // A loop, not Math.max(...values): spreading 100k+ matches as arguments overflows the stack.
    let best = 0;
    for (const score of lexical.values()) if (score > best) best = score;
    const hits: MemoryHit[] = [];
    const candidates = search.embedding ? space.entries.keys() : lexical.keys();
    for (const key of candidates) {
      const entry = space.entries.get(key);
      if (entry === undefined || isExpired(entry.current, now)) continue;
      if (search.kind !== undefined && entry.current.kind !== search.kind) continue;
      let relevance = lexical.get(key) ?? 0;
      if (search.embedding) {
        // Lexical scores are unbounded and cosine is at most 1: scale the lexical part to [0, 1] first.
        const similarity = entry.embedding ? cosineSimilarity(search.embedding, entry.embedding) : 0;
        const vector = similarity >= (this.options.minSimilarity ?? 0.3) ? similarity : 0;
        relevance = 0.5 * (best > 0 ? relevance / best : 0) + 0.5 * vector;
      }
      if (relevance <= 0) continue;
      const score = relevance * recencyWeight(now - entry.current.updatedAt, search.recencyHalfLifeMs);
      hits.push({ record: entry.current, score });
    }
    hits.sort((a, b) => b.score - a.score);
    return structuredClone(hits.slice(0, search.limit));
  }

  async delete(namespace: MemoryNamespace, key: string): Promise<boolean> {
    const ns = parseNamespace(namespace);
    const k = parseKey(key);
    const live = this.live(ns, k, this.now()) !== undefined;
    this.drop(ns, k);
    return live;
  }

  async exportSubject(subject: MemorySubject): Promise<MemoryRecord[]> {
    const s = parseSubject(subject);
    const now = this.now();
    const records: MemoryRecord[] = [];
    for (const space of this.spaces.values()) {
      if (!ofSubject(space.namespace, s)) continue;
      for (const entry of space.entries.values()) {
        if (!isExpired(entry.current, now)) records.push(...entry.history, entry.current);
      }
    }
    return structuredClone(records);
  }

  async forgetSubject(subject: MemorySubject): Promise<number> {
    const s = parseSubject(subject);
    let erased = 0;
    for (const space of [...this.spaces.values()]) {
      if (!ofSubject(space.namespace, s)) continue;
      for (const key of [...space.entries.keys()]) {
        this.drop(space.namespace, key);
        erased++;
      }
    }
    return erased;
  }

  async setOptOut(subject: MemorySubject, optedOut: boolean): Promise<void> {
    const s = parseSubject(subject);
    if (optedOut) {
      this.optedOut.add(subjectId(s));
      await this.forgetSubject(s);
    } else {
      this.optedOut.delete(subjectId(s));
    }
  }

  async isOptedOut(subject: MemorySubject): Promise<boolean> {
    return this.optedOut.has(subjectId(parseSubject(subject)));
  }

  async purgeExpired(): Promise<number> {
    const now = this.now();
    let purged = 0;
    for (const space of [...this.spaces.values()]) {
      for (const [key, entry] of [...space.entries]) {
        if (!isExpired(entry.current, now)) continue;
        this.drop(space.namespace, key);
        purged++;
      }
    }
    return purged;
  }

  async close(): Promise<void> {
    this.spaces.clear();
    this.indexes.clear();
  }

  /** A copy of everything the store holds, expired records included (they are dropped when met). */
  snapshot(): MemorySnapshot {
    const entries: MemorySnapshot['entries'] = [];
    for (const space of this.spaces.values()) {
      for (const entry of space.entries.values()) entries.push(structuredClone(entry));
    }
    const optedOut = [...this.optedOut].map((id) => {
      const [tenant, user] = JSON.parse(id) as [string, string];
      return { tenant, user };
    });
    return { entries, optedOut };
  }

  /**
   * Replaces everything the store holds with `snapshot`, versions and timestamps as they are. The caller
   * has validated it (records through `memoryRecordSchema`): this only rebuilds the maps and indexes.
   */
  restore(snapshot: MemorySnapshot): void {
    this.spaces.clear();
    this.indexes.clear();
    this.optedOut.clear();
    for (const { current, history, embedding } of structuredClone(snapshot.entries)) {
      const ns = parseNamespace(current.namespace);
      const entry: Entry = { current, history };
      if (embedding !== undefined) entry.embedding = embedding;
      this.space(ns).entries.set(current.key, entry);
      this.index(ns).set(current.key, current.key, current.value);
    }
    for (const subject of snapshot.optedOut) this.optedOut.add(subjectId(subject));
  }

  /**
   * What the store still holds of a subject, read from its maps and indexes directly: one line per
   * record, earlier version, vector and index document. Empty after `forgetSubject`. For erasure checks.
   */
  residue(subject: MemorySubject): string[] {
    const found: string[] = [];
    for (const [id, space] of this.spaces) {
      if (!ofSubject(space.namespace, subject)) continue;
      found.push(`namespace ${id}`);
      for (const [key, entry] of space.entries) {
        found.push(`record ${id} ${key} v${entry.current.version}`);
        for (const old of entry.history) found.push(`history ${id} ${key} v${old.version}`);
        if (entry.embedding) found.push(`vector ${id} ${key}`);
      }
    }
    for (const [id, index] of this.indexes) {
      const [tenant, user] = JSON.parse(id) as [string, string | null];
      if (tenant === subject.tenant && user === subject.user)
        found.push(`index ${id} (${index.size} documents)`);
    }
    return found;
  }

  private space(ns: ResolvedNamespace) {
    const id = nsId(ns);
    let space = this.spaces.get(id);
    if (space === undefined) {
      space = { namespace: ns, entries: new Map() };
      this.spaces.set(id, space);
    }
    return space;
  }

  private index(ns: ResolvedNamespace): LexicalIndex {
    const id = nsId(ns);
    let index = this.indexes.get(id);
    if (index === undefined) {
      index = new LexicalIndex();
      this.indexes.set(id, index);
    }
    return index;
  }

  /** The entry if it is live; an expired one is dropped on the way (it is gone either way). */
  private live(ns: ResolvedNamespace, key: string, now: number): Entry | undefined {
    const entry = this.spaces.get(nsId(ns))?.entries.get(key);
    if (entry === undefined) return undefined;
    if (!isExpired(entry.current, now)) return entry;
    this.drop(ns, key);
    return undefined;
  }

  /** Removes a key with its history, vector and index document; empty namespaces leave nothing behind. */
  private drop(ns: ResolvedNamespace, key: string): void {
    const id = nsId(ns);
    const space = this.spaces.get(id);
    space?.entries.delete(key);
    if (space && space.entries.size === 0) this.spaces.delete(id);
    const index = this.indexes.get(id);
    index?.remove(key);
    if (index && index.size === 0) this.indexes.delete(id);
  }
}

/** The embedded memory store (lexical BM25 recall, recency weighting, cosine similarity for embeddings). */
export function inMemoryStore(options: InMemoryStoreOptions = {}): InMemoryStore {
  return new InMemoryStore(options);
}
