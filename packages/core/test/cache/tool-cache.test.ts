import {
  BatonError,
  type CacheStore,
  defineAgent,
  defineTool,
  inMemoryCacheStore,
  type RunEvent,
  RunEvents,
  type RunOptions,
  run,
  type Tool,
  toolCacheKey,
  toolCachePrefix,
} from '@baton/core';
import { scriptedModel } from '@baton/core/testing';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

/** A read tool that counts its executions. */
function counted(
  options: { scope?: 'user' | 'tenant'; ttlMs?: number; version?: string; fail?: boolean } = {},
) {
  const calls = { count: 0 };
  const tool = defineTool({
    name: 'lookup',
    description: 'Looks up an account',
    input: z.object({ account: z.string() }),
    output: z.object({ account: z.string(), balance: z.number() }),
    cache: {
      ttlMs: options.ttlMs ?? 60_000,
      ...(options.scope ? { scope: options.scope } : {}),
      ...(options.version ? { version: options.version } : {}),
    },
    execute: ({ account }) => {
      calls.count++;
      if (options.fail) throw new Error('backend down');
      return { account, balance: 42 };
    },
  });
  return { tool, calls };
}

/** One run that calls `tool` once with `args`; resolves with the events it emitted. */
async function callThrough(
  tool: Tool<{ account: string }, unknown>,
  options: RunOptions = {},
  args: unknown = { account: 'acme-1' },
): Promise<RunEvent[]> {
  const model = scriptedModel([{ toolCalls: [{ name: tool.name, args }] }, 'done']);
  const agent = defineAgent({ name: 'clerk', description: 'd', instructions: 'i', model, tools: [tool] });
  const events = new RunEvents();
  const seen: RunEvent[] = [];
  events.on('*', (event) => seen.push(event));
  const result = await run(agent, 'go', { ...options, events });
  expect(result.status, JSON.stringify(result.error)).toBe('completed');
  return seen;
}

const cacheEvents = (events: RunEvent[]) =>
  events.filter((event) => event.type === 'cache.hit' || event.type === 'cache.miss');

describe('defineTool cache options', () => {
  const base = { name: 't', description: 'd', input: z.object({}), execute: () => 1 };
  const fieldOf = (config: Record<string, unknown>): unknown => {
    try {
      defineTool({ ...base, ...config } as never);
    } catch (error) {
      expect(BatonError.is(error, 'CONFIG_INVALID')).toBe(true);
      return (error as BatonError).details?.field;
    }
    return undefined;
  };

  it('needs a TTL: `cache: true` and a cache without ttlMs are configuration errors', () => {
    expect(fieldOf({ cache: true })).toBe('cache');
    expect(fieldOf({ cache: {} })).toBe('cache.ttlMs');
    expect(fieldOf({ cache: { ttlMs: 0 } })).toBe('cache.ttlMs');
    expect(fieldOf({ cache: { ttlMs: 1_000, scope: 'everyone' } })).toBe('cache.scope');
    expect(fieldOf({ cache: { ttlMs: 1_000, max: 0 } })).toBe('cache.max');
    expect(fieldOf({ cache: { ttlMs: 1_000 }, risk: 'write' })).toBe('cache');
    expect(fieldOf({ cache: { ttlMs: 1_000 }, risk: 'destructive' })).toBe('cache');
  });

  it('defaults to user scope and 500 entries', () => {
    expect(defineTool({ ...base, cache: { ttlMs: 5_000 } }).cache).toEqual({
      ttlMs: 5_000,
      max: 500,
      scope: 'user',
    });
    expect(defineTool({ ...base, cache: false }).cache).toBeUndefined();
  });
});

describe('tool result cache', () => {
  it('a repeat is a hit: the tool runs once; events carry the key hash, never the arguments', async () => {
    const { tool, calls } = counted();
    const store = inMemoryCacheStore();
    const first = await callThrough(tool, { cache: { store }, tenantId: 'acme', userId: 'ada' });
    const second = await callThrough(tool, { cache: { store }, tenantId: 'acme', userId: 'ada' });
    expect(calls.count).toBe(1);
    const [miss] = cacheEvents(first);
    const [hit] = cacheEvents(second);
    expect(miss).toMatchObject({ type: 'cache.miss', kind: 'tool', tool: 'lookup', savedTokens: 0, step: 1 });
    expect(hit).toMatchObject({ type: 'cache.hit', kind: 'tool', tool: 'lookup', key: miss?.key, step: 1 });
    expect(hit?.type === 'cache.hit' && typeof hit.savedMs).toBe('number');
    expect(miss?.key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // As whole values: a random run id or key hash may contain the letters "ada" by chance.
    expect(JSON.stringify([miss, hit])).not.toMatch(/"(acme|ada)"/);
    // The hit reached the model as the same result.
    const toolEnd = second.find((event) => event.type === 'tool.end');
    expect(toolEnd?.type === 'tool.end' && toolEnd.result).toEqual({
      ok: true,
      data: { account: 'acme-1', balance: 42 },
    });
  });

  it('is keyed by tenant and user; a tenant-scoped tool shares results between the tenant’s users only', async () => {
    const store = inMemoryCacheStore();
    const perUser = counted();
    await callThrough(perUser.tool, { cache: { store }, tenantId: 'acme', userId: 'ada' });
    await callThrough(perUser.tool, { cache: { store }, tenantId: 'acme', userId: 'bob' });
    await callThrough(perUser.tool, { cache: { store }, tenantId: 'acme' });
    expect(perUser.calls.count).toBe(3);

    const shared = counted({ scope: 'tenant' });
    await callThrough(shared.tool, { cache: { store }, tenantId: 'acme', userId: 'ada' });
    await callThrough(shared.tool, { cache: { store }, tenantId: 'acme', userId: 'bob' });
    expect(shared.calls.count).toBe(1);
    await callThrough(shared.tool, { cache: { store }, tenantId: 'globex', userId: 'ada' });
    expect(shared.calls.count).toBe(2);
    // A tenant id that looks like a prefix of another never meets it.
    await callThrough(shared.tool, { cache: { store }, tenantId: 'acm', userId: 'eada' });
    expect(shared.calls.count).toBe(3);
  });

  it('arguments are compared canonically; other arguments miss', async () => {
    const { tool, calls } = counted();
    const store = inMemoryCacheStore();
    await callThrough(tool, { cache: { store } }, { account: 'acme-1' });
    await callThrough(tool, { cache: { store } }, { account: 'acme-2' });
    expect(calls.count).toBe(2);
  });

  it('each tool’s own TTL: a result older than it is fetched again', async () => {
    let now = 1_000_000;
    const store = inMemoryCacheStore({ now: () => now });
    const short = counted({ ttlMs: 1_000 });
    await callThrough(short.tool, { cache: { store } });
    now += 999;
    await callThrough(short.tool, { cache: { store } });
    expect(short.calls.count).toBe(1);
    now += 1;
    await callThrough(short.tool, { cache: { store } });
    expect(short.calls.count).toBe(2);
  });

  it('only ok results are cached', async () => {
    const { tool, calls } = counted({ fail: true });
    const store = inMemoryCacheStore();
    await callThrough(tool, { cache: { store } });
    await callThrough(tool, { cache: { store } });
    expect(calls.count).toBe(2);
    expect(await store.clear()).toBe(0);
  });

  it('a schema change or a new cache version never reads older entries', async () => {
    const store = inMemoryCacheStore();
    const v1 = counted({ version: '1' });
    const v2 = counted({ version: '2' });
    await callThrough(v1.tool, { cache: { store } });
    await callThrough(v2.tool, { cache: { store } });
    expect(v1.calls.count + v2.calls.count).toBe(2);
    const wider = defineTool({
      ...v1.tool,
      name: 'lookup',
      input: z.object({ account: z.string(), currency: z.string().optional() }),
      cache: { ttlMs: 60_000, version: '1' },
    });
    expect(toolCacheKey(wider, { account: 'a' }, undefined, undefined)).not.toBe(
      toolCacheKey(v1.tool, { account: 'a' }, undefined, undefined),
    );
  });

  it('an entry that no longer matches the output schema is dropped and the tool runs', async () => {
    const { tool, calls } = counted({ scope: 'tenant' });
    const store = inMemoryCacheStore();
    const key = toolCacheKey(tool, { account: 'acme-1' }, 'acme', undefined);
    expect(key.startsWith(toolCachePrefix('lookup'))).toBe(true);
    await store.set(key, { data: { account: 'acme-1', balance: 'lots' } }, { ttlMs: 60_000 });
    const events = await callThrough(tool, { cache: { store }, tenantId: 'acme' });
    expect(calls.count).toBe(1);
    expect(cacheEvents(events).map((event) => event.type)).toEqual(['cache.miss']);
    expect(await store.get(key)).toEqual({
      data: { account: 'acme-1', balance: 42 },
      ms: expect.any(Number),
    });
  });

  it('a store that fails costs a call, never the run', async () => {
    const broken: CacheStore = {
      get: () => Promise.reject(new Error('down')),
      set: () => Promise.reject(new Error('down')),
      delete: () => Promise.reject(new Error('down')),
      clear: () => Promise.reject(new Error('down')),
    };
    const { tool, calls } = counted();
    const events = await callThrough(tool, { cache: { store: broken } });
    await callThrough(tool, { cache: { store: broken } });
    expect(calls.count).toBe(2);
    expect(cacheEvents(events).map((event) => event.type)).toEqual(['cache.miss']);
  });

  it('`cache: { tools: false }` runs the tool and leaves the cache alone', async () => {
    const { tool, calls } = counted();
    const store = inMemoryCacheStore();
    await callThrough(tool, { cache: { store } });
    const events = await callThrough(tool, { cache: { store, tools: false } });
    expect(calls.count).toBe(2);
    expect(cacheEvents(events)).toEqual([]);
  });

  it('without a store, each tool has its own in-memory cache in this process', async () => {
    const { tool, calls } = counted();
    await callThrough(tool, { tenantId: 'solo' });
    await callThrough(tool, { tenantId: 'solo' });
    expect(calls.count).toBe(1);
  });

  it('marks the execute_tool span with baton.cache.hit', async () => {
    const exporter = new InMemorySpanExporter();
    const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).getTracer(
      't',
    );
    const { tool } = counted();
    const store = inMemoryCacheStore();
    await callThrough(tool, { cache: { store }, tracer });
    await callThrough(tool, { cache: { store }, tracer });
    const spans = exporter.getFinishedSpans().filter((span) => span.name === 'execute_tool lookup');
    expect(spans.map((span) => span.attributes['baton.cache.hit'])).toEqual([false, true]);
    expect(spans[1]?.attributes['baton.tool.cached']).toBe(true);
  });
});
