/**
 * Long-term memory behind one interface: facts, episodes and summaries, namespaced by tenant, user and
 * scope, with provenance on every record. Adapters: `inMemoryStore` (core, the embedded default),
 * `natsMemoryStore` (@baton/bus, NATS KV) and `postgresMemoryStore` (@baton/postgres). All of them pass
 * one conformance suite (`memoryStoreConformance` from `@baton/core/testing`).
 */

export type MemoryKind = 'fact' | 'episode' | 'summary';

/** Where a record lives. Two namespaces that differ in any field never see each other's records. */
export interface MemoryNamespace {
  /** The tenant (the bus namespace when the run came over the bus; `default` otherwise). */
  tenant: string;
  /** The person the memory is about; absent for memory shared by the whole tenant (team knowledge). */
  user?: string;
  /** A finer partition, e.g. `agent:researcher` or `team:research`; default `default`. */
  scope?: string;
}

/** Whose data this is, for privacy operations: every record of the user in the tenant, whatever scope. */
export interface MemorySubject {
  tenant: string;
  user: string;
}

/** Where a record came from. Untrusted records reach a model marked as data, never as instructions. */
export interface MemoryProvenance {
  /** `user` (said by the person), `agent` (written by a model), `tool`, `summary`, `episode`, `import`... */
  source: string;
  /** True only for what the operator or the person vouches for; model- and tool-written text is not. */
  trusted: boolean;
  runId?: string;
  agent?: string;
  sessionId?: string;
}

export interface MemoryRecord {
  namespace: MemoryNamespace;
  key: string;
  value: string;
  kind: MemoryKind;
  provenance: MemoryProvenance;
  /** 1 when created; each overwrite adds one and keeps the previous version in `history()`. */
  version: number;
  createdAt: number;
  updatedAt: number;
  /** Epoch ms after which the record is gone; absent = kept until deleted (or the store's retention). */
  expiresAt?: number;
  metadata?: Record<string, string>;
}

export interface MemoryPutOptions {
  kind?: MemoryKind;
  ttlMs?: number;
  metadata?: Record<string, string>;
  /** Default `{ source: 'agent', trusted: false }`. */
  provenance?: MemoryProvenance;
  /** The value's embedding, for stores with vector search (see `Embedder`). */
  embedding?: readonly number[];
}

export interface MemorySearchOptions {
  /** Default 10. */
  limit?: number;
  kind?: MemoryKind;
  /** The query's embedding: stores with vector search blend it with the lexical score. */
  embedding?: readonly number[];
  /** Recency weighting: a record this old counts half as much (default 30 days; 0 turns it off). */
  recencyHalfLifeMs?: number;
}

export interface MemoryHit {
  record: MemoryRecord;
  /** Higher is better; comparable within one search only. */
  score: number;
}

/**
 * Every method validates its arguments with the schemas of `memory/validate.ts` (`parsePut`, ...) and
 * refuses bad ones with INPUT_INVALID; `MEMORY_LIMITS` documents the limits (value size, history kept).
 * Records come back with their scope filled in (`default` when the namespace had none).
 */
export interface MemoryStore {
  /** The adapter, for spans and errors: `memory`, `nats-kv`, `postgres`. */
  readonly backend: string;
  /** Creates or overwrites (keeping the previous version in history). Refused with MEMORY_OPTED_OUT. */
  put(
    namespace: MemoryNamespace,
    key: string,
    value: string,
    options?: MemoryPutOptions,
  ): Promise<MemoryRecord>;
  get(namespace: MemoryNamespace, key: string): Promise<MemoryRecord | undefined>;
  /** The earlier versions of a record, oldest first (the current one excluded). */
  history(namespace: MemoryNamespace, key: string): Promise<MemoryRecord[]>;
  /** Live records of a namespace, most recently updated first. */
  list(namespace: MemoryNamespace, options?: { kind?: MemoryKind; limit?: number }): Promise<MemoryRecord[]>;
  /** Records relevant to `query` (lexical, plus vectors where the store has them), best first. */
  search(namespace: MemoryNamespace, query: string, options?: MemorySearchOptions): Promise<MemoryHit[]>;
  /** Deletes a record with its history, index and vector entries. */
  delete(namespace: MemoryNamespace, key: string): Promise<boolean>;
  /** Every record of the subject (all scopes) with history, for view/export. */
  exportSubject(subject: MemorySubject): Promise<MemoryRecord[]>;
  /** Erases every record of the subject in every scope, with history, index and vectors; returns how many records (keys). */
  forgetSubject(subject: MemorySubject): Promise<number>;
  /** Opting out erases the subject's memory and refuses every later write until opted back in. */
  setOptOut(subject: MemorySubject, optedOut: boolean): Promise<void>;
  isOptedOut(subject: MemorySubject): Promise<boolean>;
  /** Deletes expired records now (stores also hide them on read); returns how many. */
  purgeExpired(): Promise<number>;
  close(): Promise<void>;
}
