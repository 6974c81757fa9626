/** A value a cache can hold: what survives a JSON round trip unchanged. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface CacheSetOptions {
  /** How long the entry stays fresh, in milliseconds. Required: a cache entry without an end is a stale answer waiting to happen. */
  ttlMs: number;
}

/**
 * Where cached tool results and model responses live. Implementations: `inMemoryCacheStore` (one
 * process) and `natsCacheStore` in `@baton/bus` (a NATS KV bucket every worker shares). All of them pass
 * `cacheStoreConformance` from `@baton/core/testing`.
 *
 * Keys are `/`-separated paths of non-empty segments (`tool/search_docs/<hash>`), at most
 * `MAX_CACHE_KEY_LENGTH` characters, any text in a segment. Values are stored as JSON: what is read back
 * is a copy, and expired entries are never returned whatever the backend still holds.
 */
export interface CacheStore {
  /** The fresh value under `key`, or undefined when there is none (never set, expired, deleted, unreadable). */
  get(key: string): Promise<JsonValue | undefined>;
  /** Stores `value` under `key` for `ttlMs`, replacing what was there. PAYLOAD_TOO_LARGE past the store's value limit. */
  set(key: string, value: JsonValue, options: CacheSetOptions): Promise<void>;
  /** Removes one entry; removing an absent key is not an error. */
  delete(key: string): Promise<void>;
  /**
   * Removes every entry whose key starts with `prefix` (all of them without one) and resolves with how many
   * it removed. `clear('tool/search_docs/')` drops one tool's results after its data changed.
   */
  clear(prefix?: string): Promise<number>;
}

/**
 * How a run uses caches (`RunOptions.cache`; `ServeAgentOptions.cache` for the runs a worker serves).
 */
export interface RunCacheOptions {
  /**
   * Where cacheable tools keep their results. Default: an in-memory store per tool in this process, bounded
   * by the tool's `cache.max`. A `natsCacheStore` shares results between every worker of a tenant.
   */
  store?: CacheStore;
  /** `false`: this run neither reads nor writes cached tool results (it wants fresh data). Default true. */
  tools?: boolean;
  /** `false`: models wrapped with `cachedModel` neither read nor write their cache in this run. Default true. */
  responses?: boolean;
}

/** What a cache lookup did, for events and spans. `key` is a hash: never the arguments or the prompt. */
export interface CacheLookup {
  hit: boolean;
  key: string;
  /** Tokens a hit did not spend (the cached response's usage); 0 for tools and misses. */
  savedTokens: number;
  /** How long the call that produced the cached entry took (tool hits). */
  savedMs?: number;
}
