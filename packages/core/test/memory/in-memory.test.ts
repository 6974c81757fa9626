import { inMemoryStore } from '@baton/core';
import { type MemoryStoreFactory, memoryStoreConformance } from '@baton/core/testing';
import { describe, expect, it } from 'vitest';

const factory: MemoryStoreFactory = {
  name: 'in-memory',
  vectors: true,
  async open() {
    const store = inMemoryStore();
    return { store, residue: async (subject) => store.residue(subject), close: () => store.close() };
  },
};

describe('memory conformance: inMemoryStore', () => {
  for (const testCase of memoryStoreConformance) it(testCase.name, () => testCase.run(factory));
});

describe('inMemoryStore', () => {
  it('retention caps every record’s life, whatever its TTL', async () => {
    let now = 1_000_000;
    const store = inMemoryStore({ maxAgeMs: 1000, now: () => now });
    const ns = { tenant: 't', user: 'u' };
    const record = await store.put(ns, 'k', 'kept a while', { ttlMs: 60_000 });
    expect(record.expiresAt).toBe(now + 1000);
    now += 1001;
    expect(await store.get(ns, 'k')).toBeUndefined();
    expect(store.residue({ tenant: 't', user: 'u' })).toEqual([]);
  });

  it('returns copies: changing a returned record does not change the store', async () => {
    const store = inMemoryStore();
    const ns = { tenant: 't', user: 'u' };
    const record = await store.put(ns, 'k', 'original', { metadata: { a: '1' } });
    record.value = 'mutated';
    (record.metadata as Record<string, string>).a = '2';
    const again = await store.get(ns, 'k');
    expect(again?.value).toBe('original');
    expect(again?.metadata).toEqual({ a: '1' });
  });
});
