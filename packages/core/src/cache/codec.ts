import { z } from 'zod';
import { BatonError } from '../errors.js';
import type { JsonValue } from './types.js';

export const MAX_CACHE_KEY_LENGTH = 512;
/** Default largest stored entry (its JSON, in UTF-8 bytes). */
export const DEFAULT_MAX_CACHE_VALUE_BYTES = 512 * 1024;
/** The longest TTL accepted: a year. Anything longer is a mistake, not a cache. */
export const MAX_CACHE_TTL_MS = 365 * 24 * 60 * 60 * 1000;

/** Throws INPUT_INVALID unless `key` is a `/`-separated path of non-empty segments within the length limit. */
export function checkCacheKey(key: unknown, prefix = false): asserts key is string {
  if (typeof key !== 'string') throw invalid('a cache key must be a string');
  if (key.length > MAX_CACHE_KEY_LENGTH) {
    throw invalid(`a cache key is at most ${MAX_CACHE_KEY_LENGTH} characters (got ${key.length})`);
  }
  // A lone surrogate has no UTF-8 form: two such keys could end up the same key in a shared store.
  if (/\p{Cs}/u.test(key)) throw invalid('a cache key must be well-formed text (it has a lone surrogate)');
  if (prefix && key === '') return;
  // A prefix may end at a segment boundary (`tool/`); a key may not.
  const segments = (prefix && key.endsWith('/') ? key.slice(0, -1) : key).split('/');
  if (segments.some((segment) => segment === '')) {
    throw invalid(
      `cache key "${key.slice(0, 80)}" has an empty segment (keys are paths like "tool/name/hash")`,
    );
  }
}

export function checkTtl(ttlMs: unknown): asserts ttlMs is number {
  if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs <= 0 || ttlMs > MAX_CACHE_TTL_MS) {
    throw invalid(`ttlMs must be a positive number of milliseconds, at most a year (got ${String(ttlMs)})`);
  }
}

function invalid(message: string): BatonError {
  return new BatonError('INPUT_INVALID', message);
}

/** What a store keeps per key: the value and when it stops being fresh. */
const entrySchema = z.object({
  v: z.literal(1),
  /** Epoch milliseconds after which the entry is stale. */
  exp: z.number(),
  // JSON.parse only makes JSON values; the layer that reads the value checks its shape.
  value: z.unknown(),
});

/**
 * The stored text of an entry; INPUT_INVALID for a value JSON cannot carry, PAYLOAD_TOO_LARGE past
 * `maxBytes`. The text is what the store keeps, so a caller's later edits to `value` change nothing.
 */
export function encodeCacheEntry(value: JsonValue, expiresAt: number, maxBytes: number): string {
  let text: string | undefined;
  try {
    text = value === undefined ? undefined : JSON.stringify({ v: 1, exp: expiresAt, value });
  } catch (error) {
    throw new BatonError('INPUT_INVALID', `A cache value must be JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (text === undefined || typeof value === 'function' || typeof value === 'symbol') {
    throw new BatonError('INPUT_INVALID', 'A cache value must be JSON (got undefined or a function)');
  }
  // Only long texts can exceed the limit in bytes: UTF-8 is at most 3 bytes per UTF-16 unit.
  const bytes = text.length * 3 > maxBytes ? Buffer.byteLength(text, 'utf8') : text.length;
  if (bytes > maxBytes) {
    throw new BatonError(
      'PAYLOAD_TOO_LARGE',
      `A cache entry of ${bytes} bytes exceeds the ${maxBytes}-byte limit`,
      {
        details: { bytes, maxBytes },
      },
    );
  }
  return text;
}

/**
 * The value of a stored entry if it is readable and fresh at `now`; `stale` when it expired, `invalid`
 * when it cannot be read (written by something else, corrupted): both read as absent.
 */
export function decodeCacheEntry(
  text: string,
  now: number,
): { value: JsonValue } | { value?: undefined; stale: true } | { value?: undefined; invalid: true } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { invalid: true };
  }
  const entry = entrySchema.safeParse(parsed);
  if (!entry.success || entry.data.value === undefined) return { invalid: true };
  if (entry.data.exp <= now) return { stale: true };
  return { value: entry.data.value as JsonValue };
}

/** The positive integer option `name`, or `fallback`. */
export function positiveIntegerOption(where: string, name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new BatonError('CONFIG_INVALID', `${where}: "${name}" must be a positive integer`, {
      details: { field: name },
    });
  }
  return value;
}
