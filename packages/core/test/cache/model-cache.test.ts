import {
  BatonError,
  Budget,
  type CacheStore,
  cachedModel,
  defineAgent,
  defineTool,
  inMemoryCacheStore,
  type Model,
  type ModelRequest,
  modelCacheKey,
  type RunEvent,
  RunEvents,
  type RunOptions,
  run,
  stream,
} from '@baton/core';
import { type ScriptedReply, scriptedModel } from '@baton/core/testing';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';

const USAGE = { inputTokens: 1_200, outputTokens: 300 };

/** A priced model (gpt-4.1-mini's price) that answers every request the same way, counting calls. */
function answering(reply: ScriptedReply = 'Paris is the capital of France.') {
  return scriptedModel(() => reply, { id: 'gpt-4.1-mini', provider: 'openai', usage: USAGE });
}

const lookup = defineTool({
  name: 'lookup',
  description: 'Looks up a fact',
  input: z.object({ q: z.string() }),
  execute: ({ q }) => `fact about ${q}`,
});

function agentWith(model: Model, name = 'answerer') {
  return defineAgent({
    name,
    description: 'Answers',
    instructions: 'Answer briefly.',
    model,
    tools: [lookup],
  });
}

async function runCollecting(model: Model, input: string, options: RunOptions = {}) {
  const events = new RunEvents();
  const seen: RunEvent[] = [];
  events.on('*', (event) => seen.push(event));
  const result = await run(agentWith(model), input, { ...options, events });
  return { result, events: seen };
}

const cacheEvents = (events: RunEvent[]) =>
  events.filter((event) => event.type === 'cache.hit' || event.type === 'cache.miss');

describe('cachedModel', () => {
  it('an exact repeat is a hit: no model call, zero tokens charged, the saved tokens reported', async () => {
    const inner = answering();
    const model = cachedModel(inner, { store: inMemoryCacheStore(), ttlMs: 60_000 });
    expect([model.id, model.provider]).toEqual(['gpt-4.1-mini', 'openai']);
    const first = await runCollecting(model, 'What is the capital of France?');
    const budget = new Budget({ maxTokens: 10_000 });
    const second = await runCollecting(model, 'What is the capital of France?', { budget });
    expect(inner.requests).toHaveLength(1);
    expect(second.result.output).toBe(first.result.output);
    expect(first.result.usage).toMatchObject(USAGE);
    expect(second.result.usage).toMatchObject({ inputTokens: 0, outputTokens: 0 });
    expect(second.result.costUsd).toBe(0);
    expect(second.result.unpriced).toBeUndefined();
    expect(budget.used.tokens).toBe(0);
    expect(budget.used.steps).toBe(1);

    const [miss] = cacheEvents(first.events);
    const [hit] = cacheEvents(second.events);
    expect(miss).toMatchObject({
      type: 'cache.miss',
      kind: 'model',
      model: 'gpt-4.1-mini',
      savedTokens: 0,
      step: 1,
    });
    expect(miss?.runId).toBe(first.result.runId);
    expect(hit).toMatchObject({
      type: 'cache.hit',
      kind: 'model',
      key: miss?.key,
      savedTokens: 1_500,
      runId: second.result.runId,
      agent: 'answerer',
      step: 1,
    });
    expect(hit?.type === 'cache.hit' && hit.savedUsd).toBeCloseTo((1_200 * 0.4 + 300 * 1.6) / 1e6, 12);
    expect(JSON.stringify(hit)).not.toContain('France');
  });

  it('caches each step of a tool-using run: the repeat makes no model call at all', async () => {
    const inner = scriptedModel(
      (request) =>
        request.messages.some((message) => message.role === 'tool')
          ? 'It is Paris.'
          : { toolCalls: [{ name: 'lookup', args: { q: 'France' } }] },
      { usage: USAGE },
    );
    const model = cachedModel(inner, { store: inMemoryCacheStore(), ttlMs: 60_000 });
    await runCollecting(model, 'Capital of France?');
    const second = await runCollecting(model, 'Capital of France?');
    expect(inner.requests).toHaveLength(2);
    expect(second.result.output).toBe('It is Paris.');
    expect(cacheEvents(second.events).map((event) => [event.type, event.step])).toEqual([
      ['cache.hit', 1],
      ['cache.hit', 2],
    ]);
  });

  it('only an exact match hits: another question, temperature or tool set asks the model', async () => {
    const inner = answering();
    const store = inMemoryCacheStore();
    const model = cachedModel(inner, { store, ttlMs: 60_000 });
    const request: ModelRequest = { messages: [{ role: 'user', content: 'Hi' }], temperature: 0 };
    await model.generate(request);
    await model.generate({ ...request });
    expect(inner.requests).toHaveLength(1);
    await model.generate({ ...request, temperature: 0.7 });
    await model.generate({ ...request, messages: [{ role: 'user', content: 'Hi!' }] });
    await model.generate({ ...request, tools: [lookup.spec] });
    await model.generate({ ...request, maxOutputTokens: 10 });
    expect(inner.requests).toHaveLength(5);
    // The abort signal is not part of the request's identity.
    await model.generate({ ...request, signal: new AbortController().signal });
    expect(inner.requests).toHaveLength(5);
  });

  it('is scoped by the run’s tenant; `scope: "user"` also by user', async () => {
    const inner = answering();
    const store = inMemoryCacheStore();
    const model = cachedModel(inner, { store, ttlMs: 60_000 });
    await runCollecting(model, 'Q', { tenantId: 'acme', userId: 'ada' });
    await runCollecting(model, 'Q', { tenantId: 'acme', userId: 'bob' });
    expect(inner.requests).toHaveLength(1);
    await runCollecting(model, 'Q', { tenantId: 'globex', userId: 'ada' });
    expect(inner.requests).toHaveLength(2);

    const perUserInner = answering();
    const perUser = cachedModel(perUserInner, { store, ttlMs: 60_000, scope: 'user' });
    await runCollecting(perUser, 'Q', { tenantId: 'acme', userId: 'ada' });
    await runCollecting(perUser, 'Q', { tenantId: 'acme', userId: 'bob' });
    await runCollecting(perUser, 'Q', { tenantId: 'acme', userId: 'ada' });
    expect(perUserInner.requests).toHaveLength(2);
  });

  it('a nested run inside a tool keys by the tenant it inherited', async () => {
    const store = inMemoryCacheStore();
    const innerModel = answering();
    const nested = agentWith(cachedModel(innerModel, { store, ttlMs: 60_000 }), 'nested');
    const delegate = defineTool({
      name: 'delegate',
      description: 'Asks the nested agent',
      input: z.object({}),
      execute: async () => (await run(nested, 'Q')).output,
    });
    const outer = (tenantId: string) =>
      run(
        defineAgent({
          name: 'outer',
          description: 'd',
          instructions: 'i',
          model: scriptedModel([{ toolCalls: [{ name: 'delegate' }] }, 'ok']),
          tools: [delegate],
        }),
        'go',
        { tenantId },
      );
    await outer('acme');
    await outer('acme');
    expect(innerModel.requests).toHaveLength(1);
    await outer('globex');
    expect(innerModel.requests).toHaveLength(2);
  });

  it('does not keep cut-off, filtered or failed answers', async () => {
    const store = inMemoryCacheStore();
    for (const reply of [
      { text: 'Paris is', finishReason: 'length' as const },
      { text: '', finishReason: 'content-filter' as const },
      { toolCalls: [{ name: 'lookup', rawArguments: '{"q": ' }] },
    ]) {
      const inner = answering(reply);
      const model = cachedModel(inner, { store, ttlMs: 60_000 });
      const request: ModelRequest = { messages: [{ role: 'user', content: JSON.stringify(reply) }] };
      await model.generate(request);
      await model.generate(request);
      expect(inner.requests, JSON.stringify(reply)).toHaveLength(2);
    }
    const failing = scriptedModel([{ error: new BatonError('PROVIDER_SERVER', '500') }, 'fine']);
    const model = cachedModel(failing, { store, ttlMs: 60_000 });
    const request: ModelRequest = { messages: [{ role: 'user', content: 'x' }] };
    await expect(model.generate(request)).rejects.toMatchObject({ code: 'PROVIDER_SERVER' });
    expect((await model.generate(request)).text).toBe('fine');
    expect(await store.clear()).toBe(1);
  });

  it('expires after its TTL', async () => {
    let now = 5_000_000;
    const inner = answering();
    const model = cachedModel(inner, { store: inMemoryCacheStore({ now: () => now }), ttlMs: 10_000 });
    const request: ModelRequest = { messages: [{ role: 'user', content: 'Q' }] };
    await model.generate(request);
    now += 9_999;
    await model.generate(request);
    expect(inner.requests).toHaveLength(1);
    now += 1;
    await model.generate(request);
    expect(inner.requests).toHaveLength(2);
  });

  it('streams: a miss passes the deltas through and is stored at its end; a hit replays the text', async () => {
    const inner = answering('Streamed answer.');
    const store = inMemoryCacheStore();
    const model = cachedModel(inner, { store, ttlMs: 60_000 });
    const agent = agentWith(model);
    const deltas = async (): Promise<string[]> => {
      const texts: string[] = [];
      const running = stream(agent, 'Q');
      for await (const event of running) if (event.type === 'model.delta') texts.push(event.text);
      expect((await running.result).output).toBe('Streamed answer.');
      return texts;
    };
    expect((await deltas()).join('')).toBe('Streamed answer.');
    expect((await deltas()).join('')).toBe('Streamed answer.');
    expect(inner.requests).toHaveLength(1);

    // A stream its consumer left before the response leaves nothing behind.
    const other: ModelRequest = { messages: [{ role: 'user', content: 'left early' }] };
    for await (const event of model.stream(other)) {
      expect(event.type).toBe('text-delta');
      break;
    }
    expect(await store.clear()).toBe(1);
  });

  it('a run with `cache: { responses: false }` neither reads nor writes the response cache', async () => {
    const inner = answering();
    const store = inMemoryCacheStore();
    const model = cachedModel(inner, { store, ttlMs: 60_000 });
    await runCollecting(model, 'Q');
    const fresh = await runCollecting(model, 'Q', { cache: { responses: false } });
    expect(inner.requests).toHaveLength(2);
    expect(cacheEvents(fresh.events)).toEqual([]);
    expect(fresh.result.usage).toMatchObject(USAGE);
  });

  it('an unreadable entry or a failing store is a miss, never a failed call', async () => {
    const inner = answering();
    const store = inMemoryCacheStore();
    const model = cachedModel(inner, { store, ttlMs: 60_000 });
    const request: ModelRequest = { messages: [{ role: 'user', content: 'Q' }] };
    await model.generate(request);
    const key = modelCacheKey(inner, request, undefined, undefined);
    expect(await store.get(key)).toBeDefined();
    await store.set(key, { response: { text: 42 } }, { ttlMs: 60_000 });
    expect((await model.generate(request)).usage).toEqual(USAGE);
    expect(inner.requests).toHaveLength(2);

    const broken: CacheStore = {
      get: () => Promise.reject(new Error('down')),
      set: () => Promise.reject(new Error('down')),
      delete: () => Promise.reject(new Error('down')),
      clear: () => Promise.reject(new Error('down')),
    };
    expect((await cachedModel(inner, { store: broken, ttlMs: 1_000 }).generate(request)).text).toContain(
      'Paris',
    );
  });

  it('refuses a missing store or TTL', () => {
    const inner = answering();
    const store = inMemoryCacheStore();
    for (const options of [{ store, ttlMs: 0 }, { ttlMs: 1_000 }, { store, ttlMs: 1_000, scope: 'team' }]) {
      expect(() => cachedModel(inner, options as never), JSON.stringify(options)).toThrow(
        expect.objectContaining({ code: 'CONFIG_INVALID' }),
      );
    }
  });
});

describe('cachedModel on the chat span', () => {
  const contextManager = new AsyncLocalStorageContextManager();
  beforeAll(() => {
    context.setGlobalContextManager(contextManager.enable());
  });
  afterAll(() => {
    trace.disable();
    context.disable();
  });

  it('records baton.cache.hit and baton.cache.saved_tokens; the hit’s usage is zero', async () => {
    const exporter = new InMemorySpanExporter();
    const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).getTracer(
      't',
    );
    const model = cachedModel(answering(), { store: inMemoryCacheStore(), ttlMs: 60_000 });
    await run(agentWith(model), 'Q', { tracer });
    await run(agentWith(model), 'Q', { tracer });
    const chats = exporter.getFinishedSpans().filter((span) => span.name === 'chat gpt-4.1-mini');
    expect(chats.map((span) => span.attributes['baton.cache.hit'])).toEqual([false, true]);
    expect(chats[1]?.attributes).toMatchObject({
      'baton.cache.saved_tokens': 1_500,
      'gen_ai.usage.input_tokens': 0,
      'gen_ai.usage.output_tokens': 0,
    });
    expect(chats[0]?.attributes['baton.cache.saved_tokens']).toBeUndefined();
  });
});
