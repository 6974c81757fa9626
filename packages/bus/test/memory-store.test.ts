import { NatsBus, type NatsKvMemoryStore, natsMemoryStore } from '@baton/bus';
import { type NatsServer, startNatsServer } from '@baton/bus/testing';
import { BatonError } from '@baton/core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

describe('NATS KV memory store', () => {
  let server: NatsServer;
  let bus: NatsBus;
  let store: NatsKvMemoryStore;

  beforeAll(async () => {
    server = await startNatsServer({ jetstream: true, readyTimeoutMs: 30_000 });
    bus = await NatsBus.connect({ servers: server.url });
    store = await natsMemoryStore(bus, { bucket: 'memory_test' });
  });
  afterAll(async () => {
    await bus?.close();
    await server?.stop();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('stores, overwrites on update and reads back records per namespace', async () => {
    const first = await store.put('user:ada@example.com', 'favourite colour', 'blue', {
      metadata: { source: 'chat' },
    });
    expect(first).toMatchObject({
      namespace: 'user:ada@example.com',
      key: 'favourite colour',
      value: 'blue',
      kind: 'fact',
    });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const updated = await store.put('user:ada@example.com', 'favourite colour', 'green');
    expect(updated.value).toBe('green');
    expect(updated.createdAt).toBe(first.createdAt);
    expect(updated.updatedAt).toBeGreaterThan(first.updatedAt);
    expect(await store.get('user:ada@example.com', 'favourite colour')).toEqual(updated);
    expect(await store.get('user:bob', 'favourite colour')).toBeUndefined();
    await store.put('user:ada@example.com', 'trip', 'Visited Lisbon in May', { kind: 'episode' });
    expect((await store.list('user:ada@example.com')).map((r) => r.key).sort()).toEqual([
      'favourite colour',
      'trip',
    ]);
    expect((await store.list('user:ada@example.com', { kind: 'episode' })).map((r) => r.key)).toEqual([
      'trip',
    ]);
    expect(await store.list('user:bob')).toEqual([]);
  });

  it('searches by words, best match first', async () => {
    await store.put('searcher', 'paris', 'The user lives in Paris and likes trains');
    await store.put('searcher', 'trains', 'Prefers night trains over flights');
    await store.put('searcher', 'food', 'Vegetarian');
    const found = await store.search('searcher', 'night trains');
    expect(found.map((r) => r.key)).toEqual(['trains', 'paris']);
    expect(await store.search('searcher', 'trains', { limit: 1 })).toHaveLength(1);
    expect(await store.search('searcher', '   ')).toEqual([]);
  });

  it('enforces TTLs itself (the server ignores per-key TTL)', async () => {
    // The store's clock (Date) is the test's to move: a loaded machine cannot make a read land "too
    // late" (past a 50 ms TTL) or "too early". Timers and the NATS connection keep running on real time.
    vi.useFakeTimers({ toFake: ['Date'] });
    await store.put('ttl', 'short', 'gone soon', { ttlMs: 50 });
    await store.put('ttl', 'long', 'stays');
    vi.setSystemTime(Date.now() + 49);
    expect((await store.get('ttl', 'short'))?.value).toBe('gone soon');
    vi.setSystemTime(Date.now() + 31);
    expect(await store.get('ttl', 'short')).toBeUndefined();
    expect((await store.list('ttl')).map((r) => r.key)).toEqual(['long']);
  });

  it('deletes, clears, and opting out erases a namespace and refuses writes', async () => {
    await store.put('gdpr', 'a', '1');
    await store.put('gdpr', 'b', '2');
    expect(await store.delete('gdpr', 'a')).toBe(true);
    expect(await store.delete('gdpr', 'a')).toBe(false);
    await store.put('gdpr', 'c', '3');
    expect(await store.clear('gdpr')).toBe(2);
    expect(await store.list('gdpr')).toEqual([]);
    await store.put('gdpr', 'd', '4');
    await store.setOptOut('gdpr', true);
    expect(await store.isOptedOut('gdpr')).toBe(true);
    expect(await store.list('gdpr')).toEqual([]);
    await expect(store.put('gdpr', 'e', '5')).rejects.toSatisfy((error: unknown) =>
      BatonError.is(error, 'MEMORY_OPTED_OUT'),
    );
    await store.setOptOut('gdpr', false);
    expect(await store.isOptedOut('gdpr')).toBe(false);
    expect((await store.put('gdpr', 'e', '5')).value).toBe('5');
  });

  it('a second process sees the same memory (another connection, same bucket)', async () => {
    const other = await NatsBus.connect({ servers: server.url });
    try {
      const shared = await natsMemoryStore(other.connection, { bucket: 'memory_test' });
      await store.put('team', 'plan', 'ship on friday');
      expect((await shared.get('team', 'plan'))?.value).toBe('ship on friday');
    } finally {
      await other.close();
    }
  });
});
