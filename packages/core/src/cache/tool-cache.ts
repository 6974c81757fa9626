import { z } from 'zod';
import type { AnyTool } from '../tools/define.js';
import { raceAbort } from '../util/abort.js';
import type { AbortLike } from '../util/run-signal.js';
import { keyHashOf, toolCacheKey } from './keys.js';
import { inMemoryCacheStore } from './memory.js';
import type { CacheLookup, CacheStore, JsonValue, RunCacheOptions } from './types.js';

/** Where a call's result may be cached, as the run decided it. */
export interface ToolCacheCall {
  tenantId?: string;
  userId?: string;
  cache?: RunCacheOptions;
}

/** A tool call's place in the cache: the store, the key, and what the lookup found. */
export interface ToolCacheSlot {
  store: CacheStore;
  key: string;
}

// One store per tool when the run names none, bounded by the tool's `cache.max`: what each tool had
// before stores were pluggable, so a busy tool cannot push another's results out.
const defaultStores = new WeakMap<AnyTool, CacheStore>();

const entrySchema = z.object({ data: z.unknown(), ms: z.number().nonnegative().optional() });

/** The cache slot of a call, or undefined when the tool or the run does not cache. */
export function toolCacheSlot(tool: AnyTool, args: unknown, call: ToolCacheCall): ToolCacheSlot | undefined {
  if (!tool.cache || tool.risk !== 'read' || call.cache?.tools === false) return undefined;
  let store = call.cache?.store;
  if (!store) {
    store = defaultStores.get(tool);
    if (!store) {
      store = inMemoryCacheStore({ maxEntries: tool.cache.max });
      defaultStores.set(tool, store);
    }
  }
  return { store, key: toolCacheKey(tool, args, call.tenantId, call.userId) };
}

/**
 * The cached result of a call, checked like a fresh one: an entry that no longer matches the tool's
 * output schema (or is empty) is dropped and read as a miss. A store that fails is a miss too: a broken
 * cache costs a call, never a run.
 */
export async function readToolCache(
  tool: AnyTool,
  slot: ToolCacheSlot,
  signal: AbortLike,
): Promise<{ data: unknown; lookup: CacheLookup } | { data?: undefined; lookup: CacheLookup }> {
  const miss = { lookup: { hit: false, key: keyHashOf(slot.key), savedTokens: 0 } };
  let stored: JsonValue | undefined;
  try {
    stored = await raceAbort(slot.store.get(slot.key), signal);
  } catch {
    return miss;
  }
  if (stored === undefined) return miss;
  const entry = entrySchema.safeParse(stored);
  let data: unknown = entry.success ? entry.data.data : undefined;
  if (data !== undefined && tool.output) {
    const checked = tool.output.safeParse(data);
    data = checked.success ? checked.data : undefined;
  }
  if (data === undefined || data === null || data === '' || (Array.isArray(data) && data.length === 0)) {
    await slot.store.delete(slot.key).catch(() => undefined);
    return miss;
  }
  const lookup: CacheLookup = { ...miss.lookup, hit: true };
  if (entry.success && entry.data.ms !== undefined) lookup.savedMs = entry.data.ms;
  return { data, lookup };
}

/** Keeps an ok result for the tool's TTL; a value JSON cannot carry or a failing store is simply not cached. */
export async function writeToolCache(
  tool: AnyTool,
  slot: ToolCacheSlot,
  data: unknown,
  durationMs: number,
  signal: AbortLike,
): Promise<void> {
  if (!tool.cache) return;
  try {
    const entry = { data: data as JsonValue, ms: Math.round(durationMs) };
    await raceAbort(slot.store.set(slot.key, entry, { ttlMs: tool.cache.ttlMs }), signal);
  } catch {
    // Not cached: the next call runs the tool again, which is what an uncached tool does.
  }
}
