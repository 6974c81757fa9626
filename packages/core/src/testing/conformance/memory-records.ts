import assert from 'node:assert/strict';
import type { MemoryNamespace } from '../../memory/store.js';
import { MEMORY_LIMITS } from '../../memory/validate.js';
import {
  keysOf,
  type MemoryStoreCase,
  rejectsWith,
  scoped,
  sleep,
  tenant,
  withStore,
} from './memory-harness.js';

/** Records: writing, reading, versions, namespaces, provenance, TTL, listing, deleting, bad input, races. */
export const memoryRecordCases: MemoryStoreCase[] = [
  {
    name: 'put then get returns the record; an overwrite bumps the version and keeps the earlier ones in history',
    async run(factory) {
      await withStore(factory, async ({ store }) => {
        const ns: MemoryNamespace = { tenant: tenant(), user: 'u1' };
        const first = await store.put(ns, 'coffee', 'likes espresso');
        assert.equal(first.version, 1);
        assert.equal(first.kind, 'fact', 'kind defaults to fact');
        assert.deepEqual(
          first.provenance,
          { source: 'agent', trusted: false },
          'provenance defaults to untrusted agent',
        );
        assert.deepEqual(
          first.namespace,
          { tenant: ns.tenant, user: 'u1', scope: 'default' },
          'scope defaults',
        );
        assert.deepEqual(await store.get(ns, 'coffee'), first);
        assert.deepEqual(
          await store.get(scoped(ns, 'default'), 'coffee'),
          first,
          'an absent scope is `default`',
        );
        assert.deepEqual(await store.history(ns, 'coffee'), []);

        await sleep(5);
        const second = await store.put(ns, 'coffee', 'likes flat white');
        await sleep(5);
        const third = await store.put(ns, 'coffee', 'likes cortado');
        assert.equal(second.version, 2);
        assert.equal(third.version, 3);
        assert.equal(third.createdAt, first.createdAt, 'createdAt survives overwrites');
        assert.ok(third.updatedAt > first.updatedAt);
        assert.deepEqual(await store.get(ns, 'coffee'), third);
        const history = await store.history(ns, 'coffee');
        assert.deepEqual(
          history.map((record) => [record.version, record.value]),
          [
            [1, 'likes espresso'],
            [2, 'likes flat white'],
          ],
          'history is oldest first, current excluded',
        );
        assert.equal((await store.list(ns)).length, 1, 'one live record per key');
        assert.equal(await store.get(ns, 'tea'), undefined);
        assert.deepEqual(await store.history(ns, 'tea'), []);
      });
    },
  },
  {
    name: `history keeps at most ${MEMORY_LIMITS.historyMax} earlier versions, the newest`,
    async run(factory) {
      await withStore(factory, async ({ store }) => {
        const ns = { tenant: tenant(), user: 'u1' };
        const writes = MEMORY_LIMITS.historyMax + 5;
        for (let n = 1; n <= writes; n++) await store.put(ns, 'k', `v${n}`);
        assert.equal((await store.get(ns, 'k'))?.version, writes);
        const versions = (await store.history(ns, 'k')).map((record) => record.version);
        assert.equal(versions.length, MEMORY_LIMITS.historyMax);
        assert.deepEqual(
          versions,
          Array.from({ length: MEMORY_LIMITS.historyMax }, (_, i) => writes - MEMORY_LIMITS.historyMax + i),
        );
      });
    },
  },
  {
    name: 'namespaces isolate: tenant, user, scope and shared (no user) never see each other',
    async run(factory) {
      await withStore(factory, async ({ store }) => {
        const [t1, t2] = [tenant(), tenant()];
        // Pairs a naive `join('.')` or `join(':')` of the parts would confuse.
        const spaces: MemoryNamespace[] = [
          { tenant: t1, user: 'u1' },
          { tenant: t2, user: 'u1' },
          { tenant: t1, user: 'u2' },
          { tenant: t1, user: 'u1', scope: 'agent:researcher' },
          { tenant: t1 },
          { tenant: t1, user: 'a.b', scope: 'c' },
          { tenant: t1, user: 'a', scope: 'b.c' },
          { tenant: t1, user: 'x:y', scope: 'z' },
          { tenant: t1, user: 'x', scope: 'y:z' },
          { tenant: t1, user: 'ü/ 💬*>' },
        ];
        for (const [index, ns] of spaces.entries()) await store.put(ns, 'same key', `value ${index}`);
        for (const [index, ns] of spaces.entries()) {
          assert.equal((await store.get(ns, 'same key'))?.value, `value ${index}`, JSON.stringify(ns));
          const listed = await store.list(ns);
          assert.deepEqual(
            listed.map((record) => record.value),
            [`value ${index}`],
            `list of ${JSON.stringify(ns)}`,
          );
          const hits = await store.search(ns, 'value');
          assert.deepEqual(
            hits.map((hit) => hit.record.value),
            [`value ${index}`],
            `search of ${JSON.stringify(ns)}`,
          );
        }
        assert.equal(await store.delete({ tenant: t2, user: 'u1' }, 'same key'), true);
        assert.equal((await store.get({ tenant: t1, user: 'u1' }, 'same key'))?.value, 'value 0');
      });
    },
  },
  {
    name: 'provenance, kind, metadata and odd keys round-trip exactly',
    async run(factory) {
      await withStore(factory, async ({ store }) => {
        const ns = { tenant: tenant(), user: 'u1', scope: 'team:research' };
        const provenance = {
          source: 'user',
          trusted: true,
          runId: 'run-1',
          agent: 'writer',
          sessionId: 's-9',
        };
        const key = 'pref.tone/ü x*>.. 💬';
        const value = 'Formal tone — “no emojis”, please.\nSecond line\ttab';
        const written = await store.put(ns, key, value, {
          kind: 'summary',
          provenance,
          metadata: { topic: 'style', lang: 'en' },
        });
        const read = await store.get(ns, key);
        assert.deepEqual(read, written);
        assert.equal(read?.value, value);
        assert.equal(read?.kind, 'summary');
        assert.deepEqual(read?.provenance, provenance);
        assert.deepEqual(read?.metadata, { topic: 'style', lang: 'en' });
        assert.deepEqual(keysOf(await store.list(ns)), [key]);
        const atLimit = 'x'.repeat(MEMORY_LIMITS.valueMaxChars);
        await store.put(ns, 'big', atLimit);
        assert.equal((await store.get(ns, 'big'))?.value, atLimit, 'a value at the limit is kept whole');
      });
    },
  },
  {
    name: 'TTL: an expired record is gone from get, list, search and history; purgeExpired deletes it',
    async run(factory) {
      await withStore(factory, async ({ store, residue }) => {
        const t = tenant();
        const ns = { tenant: t, user: 'u1' };
        const doomed = { tenant: t, user: 'u-expiring' };
        const kept = await store.put(ns, 'kept', 'durable fact about tea', { ttlMs: 3_600_000 });
        assert.ok(kept.expiresAt !== undefined && kept.expiresAt > Date.now() + 3_000_000);
        await store.put(ns, 'brief', 'fleeting fact about tea', { ttlMs: 1 });
        await store.put(doomed, 'a', 'first version');
        await store.put(doomed, 'a', 'fleeting second version about tea', { ttlMs: 1 });
        await store.put(doomed, 'b', 'another fleeting fact', { ttlMs: 1, kind: 'episode' });
        // Never read after it expires, so a store that drops expired records as it meets them still has these.
        const unread = { tenant: t, user: 'u-unread' };
        await store.put(unread, 'x', 'never read again', { ttlMs: 1 });
        await store.put(unread, 'y', 'never read either', { ttlMs: 1 });
        await sleep(30);
        assert.equal(await store.get(ns, 'brief'), undefined);
        assert.equal(await store.get(doomed, 'a'), undefined);
        assert.deepEqual(await store.history(doomed, 'a'), [], 'an expired record takes its history with it');
        assert.deepEqual(keysOf(await store.list(ns)), ['kept']);
        assert.deepEqual(await store.list(doomed), []);
        assert.deepEqual(
          (await store.search(ns, 'tea')).map((hit) => hit.record.key),
          ['kept'],
        );
        assert.deepEqual(await store.exportSubject({ tenant: t, user: 'u-expiring' }), []);
        assert.ok((await store.purgeExpired()) >= 2, 'purgeExpired counts what it deleted');
        assert.deepEqual(await residue({ tenant: t, user: 'u-expiring' }), [], 'nothing left in the backend');
        assert.deepEqual(await residue(unread), [], 'nothing left of the unread ones either');
        assert.equal((await store.get(ns, 'kept'))?.value, 'durable fact about tea');
        const reborn = await store.put(doomed, 'a', 'new life');
        assert.equal(reborn.version, 1, 'a key written after it expired starts over');
        assert.deepEqual(await store.history(doomed, 'a'), []);
      });
    },
  },
  {
    name: 'list: most recently updated first, filtered by kind, limited',
    async run(factory) {
      await withStore(factory, async ({ store }) => {
        const ns = { tenant: tenant(), user: 'u1' };
        await store.put(ns, 'a', 'fact a');
        await sleep(5);
        await store.put(ns, 'b', 'episode b', { kind: 'episode' });
        await sleep(5);
        await store.put(ns, 'c', 'fact c');
        await sleep(5);
        await store.put(ns, 'd', 'summary d', { kind: 'summary' });
        await sleep(5);
        await store.put(ns, 'a', 'fact a, updated');
        assert.deepEqual(keysOf(await store.list(ns)), ['a', 'd', 'c', 'b']);
        assert.deepEqual(keysOf(await store.list(ns, { kind: 'fact' })), ['a', 'c']);
        assert.deepEqual(keysOf(await store.list(ns, { kind: 'episode' })), ['b']);
        assert.deepEqual(keysOf(await store.list(ns, { limit: 2 })), ['a', 'd']);
        assert.deepEqual(await store.list({ tenant: ns.tenant, user: 'nobody' }), []);
      });
    },
  },
  {
    name: 'delete removes the record with its history; the key then starts over at version 1',
    async run(factory) {
      await withStore(factory, async ({ store, residue }) => {
        const ns = { tenant: tenant(), user: 'u1' };
        await store.put(ns, 'k', 'one searchable');
        await store.put(ns, 'k', 'two searchable');
        assert.equal(await store.delete(ns, 'k'), true);
        assert.equal(await store.delete(ns, 'k'), false, 'deleting again says nothing was there');
        assert.equal(await store.get(ns, 'k'), undefined);
        assert.deepEqual(await store.history(ns, 'k'), []);
        assert.deepEqual(await store.search(ns, 'searchable'), [], 'gone from the index');
        assert.deepEqual(await residue({ tenant: ns.tenant, user: 'u1' }), [], 'gone from the backend');
        const again = await store.put(ns, 'k', 'three');
        assert.equal(again.version, 1);
        assert.deepEqual(await store.history(ns, 'k'), []);
      });
    },
  },
  {
    name: 'invalid input is refused with INPUT_INVALID and stores nothing',
    async run(factory) {
      await withStore(factory, async ({ store }) => {
        const ns = { tenant: tenant(), user: 'u1' };
        const bad = (what: string, work: () => Promise<unknown>) =>
          rejectsWith(work(), 'INPUT_INVALID', what);
        const cast = <T>(value: unknown) => value as T;
        await bad('empty key', () => store.put(ns, '', 'v'));
        await bad('key too long', () => store.put(ns, 'k'.repeat(MEMORY_LIMITS.keyMaxChars + 1), 'v'));
        await bad('non-string value', () => store.put(ns, 'k', cast<string>(42)));
        await bad('object value', () => store.put(ns, 'k', cast<string>({ toString: () => 'x' })));
        await bad('huge value', () => store.put(ns, 'k', 'x'.repeat(MEMORY_LIMITS.valueMaxChars + 1)));
        await bad('10 MB value', () => store.put(ns, 'k', 'x'.repeat(10_000_000)));
        await bad('NUL in value', () => store.put(ns, 'k', 'a\u0000b'));
        await bad('lone surrogate', () => store.put(ns, 'k', 'a\uD800b'));
        await bad('empty tenant', () => store.put({ tenant: '' }, 'k', 'v'));
        await bad('empty user', () => store.put({ tenant: ns.tenant, user: '' }, 'k', 'v'));
        await bad('missing namespace', () => store.put(cast<MemoryNamespace>(undefined), 'k', 'v'));
        await bad('negative ttl', () => store.put(ns, 'k', 'v', { ttlMs: -1 }));
        await bad('NaN ttl', () => store.put(ns, 'k', 'v', { ttlMs: Number.NaN }));
        await bad('unknown kind', () => store.put(ns, 'k', 'v', { kind: cast<'fact'>('secret') }));
        await bad('bad provenance', () =>
          store.put(ns, 'k', 'v', {
            provenance: cast<{ source: string; trusted: boolean }>({ source: 'x' }),
          }),
        );
        await bad('non-string metadata', () =>
          store.put(ns, 'k', 'v', { metadata: cast<Record<string, string>>({ n: 1 }) }),
        );
        await bad('get with empty key', () => store.get(ns, ''));
        await bad('search limit 0', () => store.search(ns, 'x', { limit: 0 }));
        await bad('query too long', () => store.search(ns, 'q'.repeat(MEMORY_LIMITS.queryMaxChars + 1)));
        await bad('subject without user', () =>
          store.forgetSubject(cast<{ tenant: string; user: string }>({ tenant: 't' })),
        );
        assert.deepEqual(await store.list(ns), [], 'nothing was stored');
        assert.deepEqual(await store.search(ns, ''), [], 'an empty query finds nothing and is not an error');
      });
    },
  },
  {
    name: 'concurrent puts to one key: no write is lost, versions are 1..N',
    async run(factory) {
      await withStore(factory, async ({ store }) => {
        const ns = { tenant: tenant(), user: 'u1' };
        const n = 8;
        const values = Array.from({ length: n }, (_, i) => `value ${i}`);
        const written = await Promise.all(values.map((value) => store.put(ns, 'hot', value)));
        assert.deepEqual(
          written.map((record) => record.version).sort((a, b) => a - b),
          Array.from({ length: n }, (_, i) => i + 1),
          'each put got its own version',
        );
        const current = await store.get(ns, 'hot');
        assert.equal(current?.version, n);
        const history = await store.history(ns, 'hot');
        assert.deepEqual(
          history.map((record) => record.version),
          Array.from({ length: n - 1 }, (_, i) => i + 1),
        );
        const seen = [...history.map((record) => record.value), current?.value].sort();
        assert.deepEqual(seen, [...values].sort(), 'every value is there exactly once');
        for (const record of [...history, current]) {
          const put = written.find((w) => w.version === record?.version);
          assert.equal(put?.value, record?.value, 'the version each put returned is the one stored');
        }
      });
    },
  },
];
