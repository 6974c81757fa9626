import assert from 'node:assert/strict';
import { BatonError } from '@baton/core';
import type { BusMessage } from '../../transport/types.js';
import { bytes, type ConformanceCase, text, waitUntil } from './context.js';

async function rejection(promise: Promise<unknown>): Promise<BatonError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof BatonError, `expected a BatonError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a rejection');
}

function thrown(fn: () => unknown): BatonError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof BatonError, `expected a BatonError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a throw');
}

/** Publish/subscribe, wildcards, queue groups, request/reply and every typed transport failure. */
export const transportConformance: ConformanceCase[] = [
  {
    name: 'publish/subscribe carries bytes and headers',
    async run({ caller, worker, namespace }) {
      const got: BusMessage[] = [];
      const sub = worker.subscribe(`${namespace}.news`, (message) => got.push(message));
      await worker.flush();
      caller.publish(`${namespace}.news`, bytes('héllo'), { headers: { 'x-one': '1', traceparent: 'tp' } });
      caller.publish(`${namespace}.other`, bytes('not for us'));
      await waitUntil(() => got.length >= 1, 'the message');
      await new Promise((resolve) => setTimeout(resolve, 20));
      sub.unsubscribe();
      assert.equal(got.length, 1);
      const message = got[0] as BusMessage;
      assert.equal(message.subject, `${namespace}.news`);
      assert.equal(text(message.data), 'héllo');
      assert.ok(message.data instanceof Uint8Array);
      assert.equal(message.headers?.['x-one'], '1');
      assert.equal(message.headers?.traceparent, 'tp');
    },
  },
  {
    name: 'wildcards: * matches one token, > the rest',
    async run({ caller, worker, namespace }) {
      const star: string[] = [];
      const tail: string[] = [];
      const s1 = worker.subscribe(`${namespace}.a.*`, (m) => star.push(m.subject));
      const s2 = worker.subscribe(`${namespace}.>`, (m) => tail.push(m.subject));
      await worker.flush();
      for (const subject of ['a.x', 'a.x.y', 'b']) caller.publish(`${namespace}.${subject}`, bytes(subject));
      await waitUntil(() => tail.length >= 3 && star.length >= 1, 'wildcard deliveries');
      await new Promise((resolve) => setTimeout(resolve, 20));
      s1.unsubscribe();
      s2.unsubscribe();
      assert.deepEqual(star, [`${namespace}.a.x`]);
      assert.deepEqual([...tail].sort(), [`${namespace}.a.x`, `${namespace}.a.x.y`, `${namespace}.b`]);
    },
  },
  {
    name: 'a queue group splits messages; plain subscribers see all',
    async run({ caller, worker, namespace, connect }) {
      const other = await connect();
      const counts = { a: 0, b: 0, plain: 0 };
      const subject = `${namespace}.work`;
      const subs = [
        worker.subscribe(subject, () => counts.a++, { queue: 'q' }),
        other.worker.subscribe(subject, () => counts.b++, { queue: 'q' }),
        worker.subscribe(subject, () => counts.plain++),
      ];
      await worker.flush();
      await other.worker.flush();
      for (let i = 0; i < 40; i++) caller.publish(subject, bytes(String(i)));
      await waitUntil(() => counts.a + counts.b >= 40 && counts.plain >= 40, 'all deliveries');
      await new Promise((resolve) => setTimeout(resolve, 30));
      for (const sub of subs) sub.unsubscribe();
      assert.equal(counts.a + counts.b, 40, 'each message goes to exactly one queue member');
      assert.ok(counts.a > 0 && counts.b > 0, `both members got work (${counts.a}/${counts.b})`);
      assert.equal(counts.plain, 40);
    },
  },
  {
    name: 'unsubscribe stops delivery',
    async run({ caller, worker, namespace }) {
      let count = 0;
      const sub = worker.subscribe(`${namespace}.once`, () => count++);
      await worker.flush();
      caller.publish(`${namespace}.once`, bytes('1'));
      await waitUntil(() => count === 1, 'first message');
      sub.unsubscribe();
      assert.equal(sub.closed, true);
      await worker.flush();
      caller.publish(`${namespace}.once`, bytes('2'));
      await caller.flush();
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(count, 1);
    },
  },
  {
    name: 'request/reply round trip with headers',
    async run({ caller, worker, namespace }) {
      const sub = worker.subscribe(`${namespace}.svc`, (message) => {
        assert.ok(message.reply);
        worker.publish(message.reply, bytes(`re:${text(message.data)}`), {
          headers: { 'x-echo': message.headers?.['x-in'] ?? 'none' },
        });
      });
      await worker.flush();
      const reply = await caller.request(`${namespace}.svc`, bytes('ping'), {
        timeoutMs: 2_000,
        headers: { 'x-in': 'abc' },
      });
      sub.unsubscribe();
      assert.equal(text(reply.data), 're:ping');
      assert.equal(reply.headers?.['x-echo'], 'abc');
    },
  },
  {
    name: 'a request nobody listens to fails with NO_RESPONDERS at once',
    async run({ caller, namespace }) {
      const started = Date.now();
      const error = await rejection(caller.request(`${namespace}.nobody`, bytes('x'), { timeoutMs: 5_000 }));
      assert.equal(error.code, 'NO_RESPONDERS');
      assert.ok(Date.now() - started < 1_000, `took ${Date.now() - started} ms`);
    },
  },
  {
    name: 'a request with no reply fails with DEADLINE_EXCEEDED at its timeout',
    async run({ caller, worker, namespace }) {
      const sub = worker.subscribe(`${namespace}.silent`, () => undefined);
      await worker.flush();
      const started = Date.now();
      const error = await rejection(caller.request(`${namespace}.silent`, bytes('x'), { timeoutMs: 150 }));
      sub.unsubscribe();
      const took = Date.now() - started;
      assert.equal(error.code, 'DEADLINE_EXCEEDED');
      assert.ok(took >= 140 && took < 1_000, `took ${took} ms`);
    },
  },
  {
    name: 'aborting a request rejects it with the abort reason',
    async run({ caller, worker, namespace }) {
      const sub = worker.subscribe(`${namespace}.slow`, () => undefined);
      await worker.flush();
      const controller = new AbortController();
      setTimeout(() => controller.abort(new BatonError('TIMEOUT', 'team timeout')), 50);
      const started = Date.now();
      const error = await rejection(
        caller.request(`${namespace}.slow`, bytes('x'), { timeoutMs: 5_000, signal: controller.signal }),
      );
      sub.unsubscribe();
      assert.equal(error.code, 'TIMEOUT');
      assert.ok(Date.now() - started < 1_000);
      const plain = new AbortController();
      plain.abort();
      const aborted = await rejection(
        caller.request(`${namespace}.slow`, bytes('x'), { timeoutMs: 5_000, signal: plain.signal }),
      );
      assert.equal(aborted.code, 'ABORTED');
    },
  },
  {
    name: 'payloads over the limit fail with PAYLOAD_TOO_LARGE',
    async run({ caller, namespace }) {
      const big = new Uint8Array(caller.maxPayload + 1);
      assert.equal(thrown(() => caller.publish(`${namespace}.big`, big)).code, 'PAYLOAD_TOO_LARGE');
      const error = await rejection(caller.request(`${namespace}.big`, big, { timeoutMs: 1_000 }));
      assert.equal(error.code, 'PAYLOAD_TOO_LARGE');
      assert.equal((error.details as { max: number }).max, caller.maxPayload);
    },
  },
  {
    name: 'a closed bus fails with BUS_CLOSED and ends pending requests',
    async run({ connect, namespace }) {
      const pair = await connect();
      const sub = pair.worker.subscribe(`${namespace}.hang`, () => undefined);
      await pair.worker.flush();
      const pending = pair.caller.request(`${namespace}.hang`, bytes('x'), { timeoutMs: 10_000 });
      const statuses: string[] = [];
      pair.caller.onStatus((status) => statuses.push(status));
      await new Promise((resolve) => setTimeout(resolve, 20));
      await pair.caller.close();
      assert.equal((await rejection(pending)).code, 'BUS_CLOSED');
      assert.equal(pair.caller.status, 'closed');
      assert.deepEqual(statuses, ['closed']);
      assert.equal(thrown(() => pair.caller.publish(`${namespace}.x`, bytes('x'))).code, 'BUS_CLOSED');
      assert.equal(
        (await rejection(pair.caller.request(`${namespace}.x`, bytes('x'), { timeoutMs: 100 }))).code,
        'BUS_CLOSED',
      );
      sub.unsubscribe();
    },
  },
];
