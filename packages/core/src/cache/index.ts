// Caches on a pluggable store: tool results and model responses (issue 13).
export {
  checkCacheKey,
  checkTtl as checkCacheTtl,
  DEFAULT_MAX_CACHE_VALUE_BYTES,
  decodeCacheEntry,
  encodeCacheEntry,
  MAX_CACHE_KEY_LENGTH,
  MAX_CACHE_TTL_MS,
} from './codec.js';
export {
  cacheDigest,
  MODEL_CACHE_PREFIX,
  modelCacheKey,
  TOOL_CACHE_PREFIX,
  toolCacheKey,
  toolCachePrefix,
} from './keys.js';
export { type InMemoryCacheStoreOptions, inMemoryCacheStore } from './memory.js';
export { type CachedModelOptions, cachedModel } from './model.js';
export type { CacheLookup, CacheSetOptions, CacheStore, JsonValue, RunCacheOptions } from './types.js';
