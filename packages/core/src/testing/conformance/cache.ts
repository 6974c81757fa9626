import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { MAX_CACHE_KEY_LENGTH } from '../../cache/codec.js';
import type { CacheStore, JsonValue } from '../../cache/types.js';
import { BatonError } from '../../errors.js';

/** What a case may ask of the store it is given; every CacheStore takes these options. */
export interface CacheStoreSetup {
  /** The clock expiry is judged by. */
  now?: () => number;
  /** Largest entry accepted, in bytes of its JSON. */
  maxValueBytes?: number;
}

/** One case of the cache store conformance suite: every CacheStore must pass them all. */
export interface CacheStoreCase {
  name: string;
  /** `open` makes a new, empty store (its own bucket or namespace), configured as asked. */
  run(open: (setup?: CacheStoreSetup) => CacheStore | Promise<CacheStore>): Promise<void>;
}

const HOUR = 60 * 60 * 1000;

/** A clock the case moves by hand. */
function manualClock(start = Date.now()): { now: () => number; advance(ms: number): void } {
  let time = start;
  return {
    now: () => time,
    advance: (ms) => {
      time += ms;
    },
  };
}

const root = () => `case${randomBytes(4).toString('hex')}`;

async function rejectsWith(work: () => Promise<unknown>, code: string, what: string): Promise<void> {
  let caught: unknown;
  try {
    await work();
  } catch (error) {
    caught = error;
  }
  assert.ok(BatonError.is(caught), `${what}: expected a BatonError ${code}, got ${String(caught)}`);
  assert.equal((caught as BatonError).code, code, what);
}

const VALUES: [string, JsonValue][] = [
  ['object', { answer: 'Paris', sources: [{ id: 'doc-1', score: 0.93 }], nested: { deep: { ok: true } } }],
  ['array', [1, 'two', null, false, { three: 3 }]],
  ['string', 'Grüße — 日本語 — 🚀 with "quotes" and \\backslashes\\ and\nnewlines'],
  ['number', -12.5],
  ['zero', 0],
  ['false', false],
  ['null', null],
  ['empty object', {}],
];

export const cacheStoreConformance: CacheStoreCase[] = [
  {
    name: 'stores and reads back JSON values of every kind; an unknown key is undefined',
    async run(open) {
      const store = await open();
      const at = root();
      for (const [name, value] of VALUES)
        await store.set(`${at}/${name.replace(' ', '_')}`, value, { ttlMs: HOUR });
      for (const [name, value] of VALUES) {
        assert.deepEqual(await store.get(`${at}/${name.replace(' ', '_')}`), value, name);
      }
      assert.equal(await store.get(`${at}/never-set`), undefined);
    },
  },
  {
    name: 'a set replaces the value and its TTL',
    async run(open) {
      const clock = manualClock();
      const store = await open({ now: clock.now });
      const key = `${root()}/k`;
      await store.set(key, { version: 1 }, { ttlMs: 1_000 });
      await store.set(key, { version: 2 }, { ttlMs: 10_000 });
      clock.advance(5_000);
      assert.deepEqual(await store.get(key), { version: 2 }, 'the second TTL applies');
    },
  },
  {
    name: 'values are copies: editing what was stored or read changes nothing',
    async run(open) {
      const store = await open();
      const key = `${root()}/copy`;
      const value = { list: [1, 2], inner: { name: 'a' } };
      await store.set(key, value, { ttlMs: HOUR });
      value.list.push(3);
      value.inner.name = 'changed';
      const read = (await store.get(key)) as { list: number[]; inner: { name: string } };
      assert.deepEqual(read, { list: [1, 2], inner: { name: 'a' } });
      read.list.push(99);
      assert.deepEqual(await store.get(key), { list: [1, 2], inner: { name: 'a' } });
    },
  },
  {
    name: 'each entry expires after its own TTL, never before; an expired key can be set again',
    async run(open) {
      const clock = manualClock();
      const store = await open({ now: clock.now });
      const at = root();
      await store.set(`${at}/short`, 'short', { ttlMs: 1_000 });
      await store.set(`${at}/long`, 'long', { ttlMs: 60_000 });
      clock.advance(999);
      assert.equal(await store.get(`${at}/short`), 'short', 'fresh until its TTL has passed');
      clock.advance(1);
      assert.equal(await store.get(`${at}/short`), undefined, 'expired at its TTL');
      assert.equal(await store.get(`${at}/long`), 'long', 'another entry keeps its own TTL');
      clock.advance(59_000);
      assert.equal(await store.get(`${at}/long`), undefined);
      await store.set(`${at}/short`, 'again', { ttlMs: 1_000 });
      assert.equal(await store.get(`${at}/short`), 'again');
    },
  },
  {
    name: 'delete removes one entry; deleting an absent key is fine',
    async run(open) {
      const store = await open();
      const at = root();
      await store.set(`${at}/a`, 1, { ttlMs: HOUR });
      await store.set(`${at}/ab`, 2, { ttlMs: HOUR });
      await store.delete(`${at}/a`);
      assert.equal(await store.get(`${at}/a`), undefined);
      assert.equal(await store.get(`${at}/ab`), 2);
      await store.delete(`${at}/a`);
      await store.delete(`${at}/never-set`);
    },
  },
  {
    name: 'clear removes exactly the keys with the prefix and says how many',
    async run(open) {
      const store = await open();
      const at = root();
      const keys = [
        `${at}/tool/search/1`,
        `${at}/tool/search/2`,
        `${at}/tool/searcher/1`,
        `${at}/tool/read/1`,
        `${at}/model/1`,
      ];
      for (const key of keys) await store.set(key, key, { ttlMs: HOUR });
      assert.equal(await store.clear(`${at}/tool/search/`), 2, 'a segment prefix');
      assert.equal(await store.get(`${at}/tool/search/1`), undefined);
      assert.equal(
        await store.get(`${at}/tool/searcher/1`),
        `${at}/tool/searcher/1`,
        'a longer segment stays',
      );
      assert.equal(await store.clear(`${at}/tool/sea`), 1, 'a prefix that ends inside a segment');
      assert.equal(await store.get(`${at}/tool/searcher/1`), undefined);
      assert.equal(await store.clear(`${at}/nothing/`), 0);
      assert.equal(await store.get(`${at}/tool/read/1`), `${at}/tool/read/1`);
      assert.equal(await store.clear(), 2, 'everything');
      assert.equal(await store.get(`${at}/model/1`), undefined);
    },
  },
  {
    name: 'keys with any text in their segments are distinct and kept apart',
    async run(open) {
      const store = await open();
      const at = root();
      const segments = [
        'a.b',
        'a=2Eb',
        'a b',
        'a:b',
        'a*b',
        'a>b',
        'ä',
        '日本',
        'a_b',
        'a-b',
        '.',
        '..',
        '=',
        '%2F',
      ];
      for (const [index, segment] of segments.entries()) {
        await store.set(`${at}/${segment}/x`, index, { ttlMs: HOUR });
      }
      for (const [index, segment] of segments.entries()) {
        assert.equal(await store.get(`${at}/${segment}/x`), index, segment);
      }
      assert.equal(await store.clear(`${at}/a.b/`), 1, 'a dot in a key is not a separator');
      assert.equal(
        await store.get(`${at}/a=2Eb/x`),
        segments.indexOf('a=2Eb'),
        'nor does an escaped form collide',
      );
    },
  },
  {
    name: 'malformed keys and TTLs are INPUT_INVALID',
    async run(open) {
      const store = await open();
      for (const key of ['', '/a', 'a/', 'a//b', 'lone\uD800', 'x'.repeat(MAX_CACHE_KEY_LENGTH + 1)]) {
        await rejectsWith(
          () => store.set(key, 1, { ttlMs: HOUR }),
          'INPUT_INVALID',
          `set "${key.slice(0, 20)}"`,
        );
        await rejectsWith(() => store.get(key), 'INPUT_INVALID', `get "${key.slice(0, 20)}"`);
      }
      await rejectsWith(() => store.clear('a//'), 'INPUT_INVALID', 'clear with an empty segment');
      for (const ttlMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
        await rejectsWith(() => store.set(`${root()}/k`, 1, { ttlMs }), 'INPUT_INVALID', `ttlMs ${ttlMs}`);
      }
    },
  },
  {
    name: 'a value that is not JSON is INPUT_INVALID and nothing is stored',
    async run(open) {
      const store = await open();
      const key = `${root()}/bad`;
      const notJson = [undefined, 10n, () => 1, { big: 10n }] as unknown as JsonValue[];
      for (const value of notJson) {
        await rejectsWith(() => store.set(key, value, { ttlMs: HOUR }), 'INPUT_INVALID', typeof value);
      }
      assert.equal(await store.get(key), undefined);
    },
  },
  {
    name: 'values are bounded: one past the limit is PAYLOAD_TOO_LARGE and not stored',
    async run(open) {
      const store = await open({ maxValueBytes: 4_096 });
      const at = root();
      await store.set(`${at}/fits`, 'x'.repeat(3_000), { ttlMs: HOUR });
      assert.equal(((await store.get(`${at}/fits`)) as string).length, 3_000);
      await rejectsWith(
        () => store.set(`${at}/big`, 'x'.repeat(5_000), { ttlMs: HOUR }),
        'PAYLOAD_TOO_LARGE',
        'ascii past the limit',
      );
      // Counted in bytes, not characters: 2,000 three-byte characters are 6,000 bytes.
      await rejectsWith(
        () => store.set(`${at}/wide`, '€'.repeat(2_000), { ttlMs: HOUR }),
        'PAYLOAD_TOO_LARGE',
        'multi-byte text past the limit',
      );
      assert.equal(await store.get(`${at}/big`), undefined);
      assert.equal(await store.get(`${at}/wide`), undefined);
    },
  },
  {
    name: 'many concurrent sets and gets each see their own value',
    async run(open) {
      const store = await open();
      const at = root();
      const count = 50;
      await Promise.all(
        Array.from({ length: count }, (_, index) =>
          store.set(`${at}/n/${index}`, { index }, { ttlMs: HOUR }),
        ),
      );
      const read = await Promise.all(
        Array.from({ length: count }, (_, index) => store.get(`${at}/n/${index}`)),
      );
      assert.deepEqual(
        read,
        Array.from({ length: count }, (_, index) => ({ index })),
      );
      assert.equal(await store.clear(`${at}/n/`), count);
    },
  },
];
