import { jetstreamNames, NatsBus, natsCacheStore, remoteAgent, serveAgent } from '@baton/bus';
import { echoContract, type NatsServer, startNatsServer, waitUntil } from '@baton/bus/testing';
import {
  BatonError,
  cachedModel,
  defineAgent,
  defineTool,
  type RunEvent,
  RunEvents,
  toolCachePrefix,
} from '@baton/core';
import { cacheStoreConformance, scriptedModel } from '@baton/core/testing';
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';

let server: NatsServer;
const buses: NatsBus[] = [];
let bus: NatsBus;
let namespaces = 0;
/** Every store gets its own namespace, so its own bucket. */
const freshNamespace = () => `cache${process.pid}_${++namespaces}`;
/** Small buckets: the server reserves max_bytes per stream up front. */
const LIMITS = { maxBytes: 4 * 1024 * 1024, timeoutMs: 3_000 };

async function connect(name: string): Promise<NatsBus> {
  const connected = await NatsBus.connect({ servers: server.url, name, reconnectTimeWaitMs: 100 });
  buses.push(connected);
  return connected;
}

beforeAll(async () => {
  server = await startNatsServer({ jetstream: true, readyTimeoutMs: 30_000 });
  bus = await connect('cache-store');
});
afterAll(async () => {
  await Promise.all(buses.map((each) => each.close()));
  await server?.stop();
});

describe('cache store conformance: natsCacheStore', () => {
  for (const testCase of cacheStoreConformance) {
    it(testCase.name, () =>
      testCase.run((setup = {}) => natsCacheStore(bus, { namespace: freshNamespace(), ...LIMITS, ...setup })),
    );
  }
});

describe('natsCacheStore on the wire', () => {
  it('a value written on one connection is read on another; keys are readable KV keys', async () => {
    const namespace = freshNamespace();
    const writer = natsCacheStore(await connect('writer'), { namespace, ...LIMITS });
    const reader = natsCacheStore(await connect('reader'), { namespace, ...LIMITS });
    await writer.set('tool/search_docs/abc', { results: ['a'] }, { ttlMs: 60_000 });
    expect(await reader.get('tool/search_docs/abc')).toEqual({ results: ['a'] });
    const kv = await new Kvm(bus.connection).open(jetstreamNames.cacheBucket(namespace));
    const keys: string[] = [];
    for await (const key of await kv.keys()) keys.push(key);
    expect(keys).toEqual(['tool.search_docs.abc']);
  });

  it('an entry written by something else reads as absent and is removed', async () => {
    const namespace = freshNamespace();
    const store = natsCacheStore(bus, { namespace, ...LIMITS });
    await store.set('k', 1, { ttlMs: 60_000 });
    const kv = await new Kvm(bus.connection).open(jetstreamNames.cacheBucket(namespace));
    for (const garbage of [
      'not json',
      JSON.stringify({ v: 1, exp: 'later', value: 1 }),
      JSON.stringify([1]),
    ]) {
      await kv.put('k', garbage);
      expect(await store.get('k'), garbage).toBeUndefined();
      expect((await kv.get('k'))?.operation, garbage).not.toBe('PUT');
    }
  });

  it('the bucket is bounded: size, value size and age', async () => {
    const namespace = freshNamespace();
    const store = natsCacheStore(bus, {
      namespace,
      maxBytes: 2 * 1024 * 1024,
      maxValueBytes: 8_192,
      maxAgeMs: 3_600_000,
    });
    await store.set('k', 'v', { ttlMs: 1_000 });
    const jsm = await jetstreamManager(bus.connection);
    const { config } = await jsm.streams.info(`KV_${jetstreamNames.cacheBucket(namespace)}`);
    expect(config.max_bytes).toBe(2 * 1024 * 1024);
    expect(config.max_msg_size).toBe(8_192);
    expect(config.max_age).toBe(3_600_000 * 1_000_000);
    expect(config.max_msgs_per_subject).toBe(1);
    // A cache drops its oldest entries when full rather than refusing new ones.
    expect(config.discard).toBe('old');
  });

  it('a full bucket keeps taking new entries, dropping the oldest', async () => {
    const namespace = freshNamespace();
    const store = natsCacheStore(bus, { namespace, maxBytes: 64 * 1024, maxValueBytes: 4_096 });
    const value = 'x'.repeat(3_000);
    for (let index = 0; index < 60; index++) await store.set(`k/${index}`, value, { ttlMs: 60_000 });
    expect(await store.get('k/59')).toBe(value);
    expect(await store.get('k/0')).toBeUndefined();
  });

  it('a closed connection is BUS_CLOSED, never a hang', async () => {
    const doomed = await connect('doomed');
    const store = natsCacheStore(doomed, { namespace: freshNamespace(), ...LIMITS });
    await doomed.close();
    const error = await store.get('k').catch((caught: unknown) => caught);
    expect(BatonError.is(error, 'BUS_CLOSED')).toBe(true);
  });
});

describe('caches shared by workers on NATS', () => {
  /** One worker process's agent: its own tool and model instances, counting what really ran. */
  function workerAgent(store: ReturnType<typeof natsCacheStore>) {
    const ran = { tool: 0 };
    const lookup = defineTool({
      name: 'lookup_rate',
      description: 'Looks up an exchange rate',
      input: z.object({ pair: z.string() }),
      output: z.object({ pair: z.string(), rate: z.number() }),
      cache: { ttlMs: 60_000, scope: 'tenant' },
      execute: ({ pair }) => {
        ran.tool++;
        return { pair, rate: 1.08 };
      },
    });
    const inner = scriptedModel(
      (request) =>
        request.messages.some((message) => message.role === 'tool')
          ? '{"text":"EUR/USD is 1.08"}'
          : { toolCalls: [{ name: 'lookup_rate', args: { pair: 'EUR/USD' } }] },
      { id: 'gpt-4.1-mini', provider: 'openai', usage: { inputTokens: 800, outputTokens: 40 } },
    );
    const agent = defineAgent({
      name: 'fx',
      description: 'Answers exchange-rate questions',
      instructions: 'Look the rate up, then answer with JSON {"text": ...}.',
      input: echoContract.input,
      output: echoContract.output,
      model: cachedModel(inner, { store, ttlMs: 60_000 }),
      tools: [lookup],
    });
    return { agent, ran, inner };
  }

  it('the second worker’s call is a hit: its tool and its model never run', async () => {
    const namespace = freshNamespace();
    const [busA, busB, caller] = await Promise.all([
      connect('worker-a'),
      connect('worker-b'),
      connect('caller'),
    ]);
    // Tool results through the run's cache option, model responses through cachedModel: one bucket.
    const storeA = natsCacheStore(busA, { namespace, ...LIMITS });
    const storeB = natsCacheStore(busB, { namespace, ...LIMITS });
    const a = workerAgent(storeA);
    const b = workerAgent(storeB);
    const remote = remoteAgent(caller, { name: 'fx', contract: echoContract, timeoutMs: 30_000 });
    const ask = async () => {
      const events = new RunEvents();
      const seen: RunEvent[] = [];
      events.on('*', (event) => seen.push(event));
      const result = await remote.run({ text: 'EUR to USD?' }, { events });
      expect(result.status, JSON.stringify(result.error)).toBe('completed');
      await waitUntil(() => seen.some((event) => event.type === 'run.end'), 'run.end');
      return {
        result,
        cache: seen.filter((event) => event.type === 'cache.hit' || event.type === 'cache.miss'),
      };
    };

    const workerA = await serveAgent(busA, a.agent, {
      contract: echoContract,
      heartbeatMs: 0,
      cache: { store: storeA },
    });
    const first = await ask();
    await workerA.drain();
    const workerB = await serveAgent(busB, b.agent, {
      contract: echoContract,
      heartbeatMs: 0,
      cache: { store: storeB },
    });
    const second = await ask();
    await workerB.drain();

    expect(a.ran.tool).toBe(1);
    expect(a.inner.requests).toHaveLength(2);
    expect(b.ran.tool).toBe(0);
    expect(b.inner.requests).toHaveLength(0);
    expect(second.result.output).toEqual(first.result.output);
    expect(first.cache.map((event) => `${event.type} ${event.kind}`)).toEqual([
      'cache.miss model',
      'cache.miss tool',
      'cache.miss model',
    ]);
    expect(second.cache.map((event) => `${event.type} ${event.kind}`)).toEqual([
      'cache.hit model',
      'cache.hit tool',
      'cache.hit model',
    ]);
    expect(second.result.usage).toMatchObject({ inputTokens: 0, outputTokens: 0 });
    expect(second.cache.reduce((sum, event) => sum + event.savedTokens, 0)).toBe(2 * 840);
  });

  it('tool results alone: a worker with an uncached model still reads the other worker’s tool result', async () => {
    const namespace = freshNamespace();
    const [busA, busB, caller] = await Promise.all([
      connect('tool-a'),
      connect('tool-b'),
      connect('tool-caller'),
    ]);
    const storeA = natsCacheStore(busA, { namespace, ...LIMITS });
    const storeB = natsCacheStore(busB, { namespace, ...LIMITS });
    const a = workerAgent(storeA);
    const b = workerAgent(storeB);
    const plain = (agent: typeof a.agent, model: typeof a.inner) => agent.with({ model });
    const remote = remoteAgent(caller, { name: 'fx', contract: echoContract, timeoutMs: 30_000 });

    const workerA = await serveAgent(busA, plain(a.agent, a.inner), {
      contract: echoContract,
      heartbeatMs: 0,
      cache: { store: storeA },
    });
    expect((await remote.run({ text: 'EUR to USD?' })).status).toBe('completed');
    await workerA.drain();
    const workerB = await serveAgent(busB, plain(b.agent, b.inner), {
      contract: echoContract,
      heartbeatMs: 0,
      cache: { store: storeB },
    });
    expect((await remote.run({ text: 'EUR to USD?' })).status).toBe('completed');
    await workerB.drain();
    expect([a.ran.tool, b.ran.tool]).toEqual([1, 0]);
    expect(b.inner.requests).toHaveLength(2);
    // The operator drops the tool's results after its data changed; the next call runs it again.
    expect(await storeB.clear(toolCachePrefix('lookup_rate'))).toBe(1);
  });
});
