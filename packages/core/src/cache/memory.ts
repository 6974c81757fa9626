import { LRUCache } from 'lru-cache';
import {
  checkCacheKey,
  checkTtl,
  DEFAULT_MAX_CACHE_VALUE_BYTES,
  decodeCacheEntry,
  encodeCacheEntry,
  positiveIntegerOption,
} from './codec.js';
import type { CacheSetOptions, CacheStore, JsonValue } from './types.js';

export interface InMemoryCacheStoreOptions {
  /** Most entries kept; the least recently used go first (default 10,000). */
  maxEntries?: number;
  /** Largest entry accepted, its JSON in UTF-8 bytes (default 512 KiB). */
  maxValueBytes?: number;
  /** The clock expiry is judged by (default `Date.now`); tests inject one. */
  now?: () => number;
}

/**
 * A cache in this process: an LRU of JSON texts. Entries are kept as text so a caller can never change
 * a cached value by editing the object it stored or read, and so the store is exactly as strict about
 * JSON as a shared one: a tool's result behaves the same cached here or on NATS.
 */
export function inMemoryCacheStore(options: InMemoryCacheStoreOptions = {}): CacheStore {
  const where = 'inMemoryCacheStore';
  const max = positiveIntegerOption(where, 'maxEntries', options.maxEntries, 10_000);
  const maxBytes = positiveIntegerOption(
    where,
    'maxValueBytes',
    options.maxValueBytes,
    DEFAULT_MAX_CACHE_VALUE_BYTES,
  );
  const now = options.now ?? Date.now;
  const entries = new LRUCache<string, string>({ max });

  return {
    async get(key: string): Promise<JsonValue | undefined> {
      checkCacheKey(key);
      const text = entries.get(key);
      if (text === undefined) return undefined;
      const read = decodeCacheEntry(text, now());
      if (read.value === undefined) entries.delete(key);
      return read.value;
    },
    async set(key: string, value: JsonValue, { ttlMs }: CacheSetOptions): Promise<void> {
      checkCacheKey(key);
      checkTtl(ttlMs);
      entries.set(key, encodeCacheEntry(value, now() + ttlMs, maxBytes));
    },
    async delete(key: string): Promise<void> {
      checkCacheKey(key);
      entries.delete(key);
    },
    async clear(prefix = ''): Promise<number> {
      checkCacheKey(prefix, true);
      let removed = 0;
      for (const key of [...entries.keys()]) {
        if (key.startsWith(prefix) && entries.delete(key)) removed++;
      }
      return removed;
    },
  };
}
