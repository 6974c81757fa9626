export type MemoryKind = 'fact' | 'episode' | 'summary';

export interface MemoryRecord {
  namespace: string;
  key: string;
  value: string;
  kind: MemoryKind;
  createdAt: number;
  updatedAt: number;
  /** Epoch ms after which the record is gone; absent = kept until deleted. */
  expiresAt?: number;
  metadata?: Record<string, string>;
}

export interface MemoryPutOptions {
  kind?: MemoryKind;
  ttlMs?: number;
  metadata?: Record<string, string>;
}

/**
 * Long-term memory: facts, episodes and summaries, namespaced (usually per user). Writing a key that
 * exists overwrites it; expired records are never returned; a namespace can opt out, after which writes
 * are refused and its records are deleted.
 */
export interface MemoryStore {
  put(namespace: string, key: string, value: string, options?: MemoryPutOptions): Promise<MemoryRecord>;
  get(namespace: string, key: string): Promise<MemoryRecord | undefined>;
  list(namespace: string, options?: { kind?: MemoryKind }): Promise<MemoryRecord[]>;
  /** Records whose key or value matches the words of `query`, best first. */
  search(namespace: string, query: string, options?: { limit?: number }): Promise<MemoryRecord[]>;
  delete(namespace: string, key: string): Promise<boolean>;
  /** Deletes every record of a namespace; returns how many. */
  clear(namespace: string): Promise<number>;
  setOptOut(namespace: string, optedOut: boolean): Promise<void>;
  isOptedOut(namespace: string): Promise<boolean>;
}
