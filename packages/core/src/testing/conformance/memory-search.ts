import assert from 'node:assert/strict';
import type { MemoryHit } from '../../memory/store.js';
import { type MemoryStoreCase, sleep, tenant, withStore } from './memory-harness.js';

const keys = (hits: readonly MemoryHit[]) => hits.map((hit) => hit.record.key);

function assertBestFirst(hits: readonly MemoryHit[]): void {
  for (let i = 1; i < hits.length; i++) {
    assert.ok(
      (hits[i - 1] as MemoryHit).score >= (hits[i] as MemoryHit).score,
      'hits are sorted by score, best first',
    );
  }
}

/** Recall: lexical relevance, recency weighting, filters, limits, and vectors where the store has them. */
export const memorySearchCases: MemoryStoreCase[] = [
  {
    name: 'search ranks the obviously best record first and leaves out records sharing no word',
    async run(factory) {
      await withStore(factory, async ({ store }) => {
        const ns = { tenant: tenant(), user: 'u1' };
        await store.put(ns, 'coffee', 'The user prefers dark roast coffee, black, no sugar');
        await store.put(ns, 'machine', 'The coffee machine on floor three is broken');
        await store.put(ns, 'deploy', 'Deploy target is the staging kubernetes cluster');
        await store.put(ns, 'editor', 'Favourite editor: vim with a dark colour theme');
        const hits = await store.search(ns, 'dark roast coffee');
        assert.equal(hits[0]?.record.key, 'coffee');
        assert.ok(!keys(hits).includes('deploy'), 'no shared word, no hit');
        assert.ok(hits.every((hit) => Number.isFinite(hit.score) && hit.score > 0));
        assertBestFirst(hits);
        assert.equal(
          (await store.search(ns, 'Which ROAST of coffee does the user prefer?'))[0]?.record.key,
          'coffee',
        );
        assert.equal((await store.search(ns, 'kubernetes'))[0]?.record.key, 'deploy');
        assert.deepEqual(await store.search(ns, 'zebra xylophone'), []);
        const hit = hits[0] as MemoryHit;
        assert.deepEqual(hit.record, await store.get(ns, 'coffee'), 'a hit carries the whole record');
      });
    },
  },
  {
    name: 'search is case-insensitive and finds non-ASCII words',
    async run(factory) {
      await withStore(factory, async ({ store }) => {
        const ns = { tenant: tenant(), user: 'u1' };
        await store.put(ns, 'meeting', 'Meeting in Zürich at Café Müller on Tuesday');
        await store.put(ns, 'other', 'Lunch in Geneva on Friday');
        assert.deepEqual(keys(await store.search(ns, 'zürich')), ['meeting']);
        assert.deepEqual(keys(await store.search(ns, 'MÜLLER')), ['meeting']);
      });
    },
  },
  {
    name: 'recency weighting: between equally relevant records the newer wins; relevance still beats age',
    async run(factory) {
      await withStore(factory, async ({ store }) => {
        const ns = { tenant: tenant(), user: 'u1' };
        await store.put(ns, 'old', 'deploy region preference frankfurt');
        await sleep(60);
        await store.put(ns, 'new', 'deploy region preference virginia');
        // A 10 ms half-life makes 60 ms of age a factor of 64: nothing lexical can hide it.
        assert.deepEqual(
          keys(await store.search(ns, 'deploy region preference', { recencyHalfLifeMs: 10 })),
          ['new', 'old'],
        );
        await sleep(60);
        await store.put(ns, 'old', 'deploy region preference frankfurt');
        assert.deepEqual(
          keys(await store.search(ns, 'deploy region preference', { recencyHalfLifeMs: 10 })),
          ['old', 'new'],
          'an overwrite makes a record new again',
        );
        await store.put(ns, 'weak', 'preference noted');
        const hits = await store.search(ns, 'deploy region frankfurt');
        assert.equal(hits[0]?.record.key, 'old', 'with the default month-long half-life, relevance decides');
      });
    },
  },
  {
    name: 'search honours kind and limit (default 10), best first',
    async run(factory) {
      await withStore(factory, async ({ store }) => {
        const ns = { tenant: tenant(), user: 'u1' };
        for (let n = 0; n < 15; n++) await store.put(ns, `note-${n}`, `project note number ${n}`);
        await store.put(ns, 'ep', 'project retrospective episode', { kind: 'episode' });
        await store.put(ns, 'sum', 'project session summary', { kind: 'summary' });
        const all = await store.search(ns, 'project');
        assert.equal(all.length, 10);
        assertBestFirst(all);
        assert.equal((await store.search(ns, 'project', { limit: 5 })).length, 5);
        assert.equal((await store.search(ns, 'project', { limit: 100 })).length, 17);
        assert.deepEqual(keys(await store.search(ns, 'project', { kind: 'episode' })), ['ep']);
        assert.deepEqual(keys(await store.search(ns, 'project', { kind: 'summary' })), ['sum']);
        const facts = await store.search(ns, 'project', { kind: 'fact', limit: 100 });
        assert.equal(facts.length, 15);
        assert.ok(facts.every((hit) => hit.record.kind === 'fact'));
      });
    },
  },
  {
    name: 'search sees only the current version of an overwritten record',
    async run(factory) {
      await withStore(factory, async ({ store }) => {
        const ns = { tenant: tenant(), user: 'u1' };
        await store.put(ns, 'city', 'lives in lisbon');
        await store.put(ns, 'city', 'lives in porto');
        assert.deepEqual(await store.search(ns, 'lisbon'), []);
        const hits = await store.search(ns, 'porto');
        assert.deepEqual(keys(hits), ['city']);
        assert.equal(hits[0]?.record.version, 2);
      });
    },
  },
  {
    name: 'vector search (stores with vectors): the nearest embedding is found without shared words',
    async run(factory) {
      if (!factory.vectors) return;
      await withStore(factory, async ({ store }) => {
        const ns = { tenant: tenant(), user: 'u1' };
        await store.put(ns, 'cat', 'feline companion sleeps all day', { embedding: [1, 0, 0, 0.1] });
        await store.put(ns, 'car', 'vehicle needs new tyres', { embedding: [0, 1, 0, 0.1] });
        await store.put(ns, 'tax', 'annual filing due in april', { embedding: [0, 0, 1, 0.1] });
        const hits = await store.search(ns, 'kitten', { embedding: [0.9, 0.1, 0, 0.1] });
        assert.equal(hits[0]?.record.key, 'cat');
        assertBestFirst(hits);
        const blended = await store.search(ns, 'vehicle', { embedding: [0.9, 0.1, 0, 0.1] });
        assert.deepEqual(
          keys(blended).slice(0, 2).sort(),
          ['car', 'cat'],
          'lexical and vector hits both count',
        );
      });
    },
  },
];
