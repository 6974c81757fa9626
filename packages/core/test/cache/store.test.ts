import { BatonError, decodeCacheEntry, encodeCacheEntry, inMemoryCacheStore } from '@baton/core';
import { cacheStoreConformance } from '@baton/core/testing';
import { describe, expect, it } from 'vitest';

describe('cache store conformance: inMemoryCacheStore', () => {
  for (const testCase of cacheStoreConformance) {
    it(testCase.name, () => testCase.run((setup = {}) => inMemoryCacheStore(setup)));
  }
});

describe('inMemoryCacheStore', () => {
  it('keeps at most maxEntries, dropping the least recently used first', async () => {
    const store = inMemoryCacheStore({ maxEntries: 2 });
    await store.set('a', 1, { ttlMs: 60_000 });
    await store.set('b', 2, { ttlMs: 60_000 });
    expect(await store.get('a')).toBe(1); // a is now the most recently used
    await store.set('c', 3, { ttlMs: 60_000 });
    expect(await store.get('b')).toBeUndefined();
    expect(await store.get('a')).toBe(1);
    expect(await store.get('c')).toBe(3);
  });

  it('refuses bad options when it is made', () => {
    for (const options of [{ maxEntries: 0 }, { maxEntries: 1.5 }, { maxValueBytes: -1 }]) {
      let caught: unknown;
      try {
        inMemoryCacheStore(options);
      } catch (error) {
        caught = error;
      }
      expect(BatonError.is(caught, 'CONFIG_INVALID'), JSON.stringify(options)).toBe(true);
    }
  });
});

describe('cache entry codec', () => {
  it('reads back a fresh entry, and anything else as absent', () => {
    const text = encodeCacheEntry({ a: [1] }, 2_000, 1_024);
    expect(decodeCacheEntry(text, 1_999)).toEqual({ value: { a: [1] } });
    expect(decodeCacheEntry(text, 2_000)).toEqual({ stale: true });
    expect(decodeCacheEntry('not json', 0)).toEqual({ invalid: true });
    expect(decodeCacheEntry(JSON.stringify({ v: 2, exp: 5, value: 1 }), 0)).toEqual({ invalid: true });
    expect(decodeCacheEntry(JSON.stringify({ v: 1, exp: '5', value: 1 }), 0)).toEqual({ invalid: true });
    expect(decodeCacheEntry(JSON.stringify({ v: 1, exp: 5 }), 0)).toEqual({ invalid: true });
  });
});
