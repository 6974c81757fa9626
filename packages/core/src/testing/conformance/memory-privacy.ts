import assert from 'node:assert/strict';
import type { MemoryRecord } from '../../memory/store.js';
import { type MemoryStoreCase, rejectsWith, sleep, tenant, withStore } from './memory-harness.js';

const summary = (records: readonly MemoryRecord[]) =>
  records.map((record) => `${record.namespace.scope}|${record.key}|${record.version}|${record.value}`).sort();

/** Privacy: export, forget a subject (verified on the backend itself), opt-out. */
export const memoryPrivacyCases: MemoryStoreCase[] = [
  {
    name: 'exportSubject returns every record of the user in every scope, with history, and nobody else’s',
    async run(factory) {
      await withStore(factory, async ({ store }) => {
        const t = tenant();
        await store.put({ tenant: t, user: 'u1' }, 'k1', 'first');
        await store.put({ tenant: t, user: 'u1' }, 'k1', 'second');
        await store.put({ tenant: t, user: 'u1', scope: 'agent:writer' }, 'k2', 'style', { kind: 'summary' });
        await store.put({ tenant: t, user: 'u2' }, 'k1', 'someone else');
        await store.put({ tenant: t }, 'k1', 'tenant-wide');
        await store.put({ tenant: tenant(), user: 'u1' }, 'k1', 'same user id, other tenant');
        const exported = await store.exportSubject({ tenant: t, user: 'u1' });
        assert.deepEqual(summary(exported), [
          'agent:writer|k2|1|style',
          'default|k1|1|first',
          'default|k1|2|second',
        ]);
        assert.ok(
          exported.every((record) => record.namespace.tenant === t && record.namespace.user === 'u1'),
        );
        assert.deepEqual(await store.exportSubject({ tenant: t, user: 'nobody' }), []);
      });
    },
  },
  {
    name: 'forgetSubject erases every scope, history and index entry — nothing left in the backend — and only that',
    async run(factory) {
      await withStore(factory, async ({ store, residue }) => {
        const t = tenant();
        const subject = { tenant: t, user: 'u1' };
        const other = { tenant: t, user: 'u2' };
        await store.put(subject, 'pref', 'likes green tea', { embedding: [1, 0] });
        await store.put(subject, 'pref', 'likes oolong tea', { embedding: [0.9, 0.1] });
        await store.put({ ...subject, scope: 'agent:writer' }, 'tone', 'formal tea talk');
        await store.put(subject, 'ep-1', 'episode about tea', { kind: 'episode' });
        await store.put(subject, 'brief', 'expiring tea note', { ttlMs: 1 });
        await store.put(other, 'pref', 'likes black tea');
        await store.put({ tenant: t }, 'shared', 'office has tea');
        await sleep(20);
        assert.ok((await residue(subject)).length > 0, 'the harness sees the subject before');
        const otherBefore = await residue(other);
        assert.ok(otherBefore.length > 0);

        const erased = await store.forgetSubject(subject);
        assert.ok(erased >= 3, `forgetSubject counts the records it erased (got ${erased})`);
        assert.deepEqual(await residue(subject), [], 'nothing of the subject is left in the backend');
        assert.equal(await store.get(subject, 'pref'), undefined);
        assert.deepEqual(await store.history(subject, 'pref'), []);
        assert.deepEqual(await store.search(subject, 'tea'), []);
        assert.deepEqual(await store.search({ ...subject, scope: 'agent:writer' }, 'tea'), []);
        assert.deepEqual(await store.exportSubject(subject), []);
        assert.deepEqual((await residue(other)).sort(), [...otherBefore].sort(), 'other users untouched');
        assert.equal((await store.get(other, 'pref'))?.value, 'likes black tea');
        assert.equal((await store.get({ tenant: t }, 'shared'))?.value, 'office has tea');
        assert.equal(await store.forgetSubject(subject), 0, 'forgetting twice erases nothing more');
        const fresh = await store.put(subject, 'pref', 'starts over');
        assert.equal(fresh.version, 1, 'a forgotten key starts over');
      });
    },
  },
  {
    name: 'opt-out erases the subject and refuses its writes with MEMORY_OPTED_OUT until opted back in',
    async run(factory) {
      await withStore(factory, async ({ store, residue }) => {
        const t = tenant();
        const subject = { tenant: t, user: 'u1' };
        await store.put(subject, 'pref', 'likes jazz');
        await store.put({ ...subject, scope: 'agent:dj' }, 'pref', 'likes bebop');
        assert.equal(await store.isOptedOut(subject), false);

        await store.setOptOut(subject, true);
        assert.equal(await store.isOptedOut(subject), true);
        assert.deepEqual(await residue(subject), [], 'opting out erased the subject');
        assert.deepEqual(await store.list(subject), []);
        await rejectsWith(store.put(subject, 'pref', 'likes swing'), 'MEMORY_OPTED_OUT', 'default scope');
        await rejectsWith(
          store.put({ ...subject, scope: 'agent:dj' }, 'x', 'y'),
          'MEMORY_OPTED_OUT',
          'every scope of the subject',
        );
        assert.deepEqual(await store.list(subject), [], 'the refused write stored nothing');
        assert.equal(await store.isOptedOut({ tenant: t, user: 'u2' }), false);
        await store.put({ tenant: t, user: 'u2' }, 'pref', 'another user still writes');
        await store.put({ tenant: t }, 'shared', 'tenant-wide memory still writes');
        const elsewhere = { tenant: tenant(), user: 'u1' };
        assert.equal(await store.isOptedOut(elsewhere), false, 'opt-out is per tenant');
        await store.put(elsewhere, 'pref', 'same user id in another tenant');

        await store.setOptOut(subject, false);
        assert.equal(await store.isOptedOut(subject), false);
        const back = await store.put(subject, 'pref', 'likes swing');
        assert.equal(back.version, 1);
      });
    },
  },
];
