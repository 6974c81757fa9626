import { anthropic, BatonError, type ModelStreamEvent, openai, withFallback } from '@baton/core';
import { type ProviderServer, startProviderServer } from '@baton/core/testing';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { collect, hello, rejection, streamFailure } from './helpers.js';

let server: ProviderServer;
beforeAll(async () => {
  server = await startProviderServer();
});
afterAll(async () => {
  await server.close();
});

const fast = { initialDelayMs: 5, maxDelayMs: 20 };
const gpt = (options: Parameters<typeof openai>[1] = {}) =>
  openai('gpt-4.1-mini', {
    baseURL: server.openaiBaseURL,
    apiKey: 'k',
    provider: 'openai',
    retry: fast,
    ...options,
  });
const claude = (options: Parameters<typeof anthropic>[1] = {}) =>
  anthropic('claude-haiku-4-5', { baseURL: server.url, apiKey: 'k', retry: fast, ...options });

const requestsSince = (start: number) => server.requests.slice(start);

describe('retries', () => {
  it('honours retry-after on a 429 (OpenAI, seconds)', async () => {
    const start = server.requests.length;
    server.push(
      { type: 'error', status: 429, headers: { 'retry-after': '1' } },
      { type: 'turn', text: 'after the wait' },
    );
    const delays: number[] = [];
    const response = await gpt({ retry: { ...fast, onRetry: (info) => delays.push(info.delayMs) } }).generate(
      hello,
    );
    expect(response.text).toBe('after the wait');
    // It waits exactly what the server asked (not its own, shorter backoff)…
    expect(delays).toEqual([1_000]);
    // …and really waited it: a lower bound only, since a loaded machine may add to any wait.
    const [first, second] = requestsSince(start);
    const gap = (second?.receivedAt ?? 0) - (first?.receivedAt ?? 0);
    expect(gap).toBeGreaterThanOrEqual(990);
  });

  it('honours retry-after-ms on a 429 (Anthropic, streamed)', async () => {
    const start = server.requests.length;
    server.push(
      { type: 'error', status: 429, headers: { 'retry-after-ms': '300' } },
      { type: 'turn', text: 'streamed after the wait' },
    );
    const delays: number[] = [];
    const { response } = await collect(
      claude({ retry: { ...fast, onRetry: (info) => delays.push(info.delayMs) } }),
    );
    expect(response.text).toBe('streamed after the wait');
    expect(delays).toEqual([300]);
    const [first, second] = requestsSince(start);
    const gap = (second?.receivedAt ?? 0) - (first?.receivedAt ?? 0);
    expect(gap).toBeGreaterThanOrEqual(295);
  });

  it('gives up at once when retry-after is longer than it is worth waiting', async () => {
    const start = server.requests.length;
    server.push({ type: 'error', status: 429, headers: { 'retry-after': '3600' } });
    const delays: number[] = [];
    const began = Date.now();
    const error = await rejection(
      gpt({ retry: { ...fast, onRetry: (info) => delays.push(info.delayMs) } }).generate(hello),
    );
    expect(error.code).toBe('PROVIDER_RATE_LIMIT');
    expect(error.details?.retryAfterMs).toBe(3_600_000);
    // No wait was even started, and the call ended long before the hour it was asked to wait.
    expect(delays).toEqual([]);
    expect(Date.now() - began).toBeLessThan(10_000);
    expect(requestsSince(start)).toHaveLength(1);
  });

  it('survives 500 twice then succeeds (OpenAI, generate)', async () => {
    const start = server.requests.length;
    server.push(
      { type: 'error', status: 500 },
      { type: 'error', status: 500 },
      { type: 'turn', text: 'third time' },
    );
    expect((await gpt().generate(hello)).text).toBe('third time');
    expect(requestsSince(start)).toHaveLength(3);
  });

  it('survives 529 twice then succeeds (Anthropic, stream)', async () => {
    const start = server.requests.length;
    server.push(
      { type: 'error', status: 529 },
      { type: 'error', status: 529 },
      { type: 'turn', text: 'not overloaded now' },
    );
    const { events, response } = await collect(claude());
    expect(response.text).toBe('not overloaded now');
    expect(events.filter((event) => event.type === 'response')).toHaveLength(1);
    expect(requestsSince(start)).toHaveLength(3);
  });

  it('stops after maxRetries and does not retry what cannot succeed', async () => {
    let start = server.requests.length;
    server.push(
      { type: 'error', status: 500 },
      { type: 'error', status: 500 },
      { type: 'error', status: 500 },
    );
    expect((await rejection(gpt().generate(hello))).code).toBe('PROVIDER_SERVER');
    expect(requestsSince(start)).toHaveLength(3);

    start = server.requests.length;
    server.push({ type: 'error', status: 401 });
    expect((await rejection(gpt().generate(hello))).code).toBe('PROVIDER_AUTH');
    expect(requestsSince(start)).toHaveLength(1);
  });
});

describe('fallback', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const contextManager = new AsyncLocalStorageContextManager();

  beforeAll(() => {
    context.setGlobalContextManager(contextManager.enable());
    trace.setGlobalTracerProvider(provider);
  });
  afterEach(() => exporter.reset());
  afterAll(async () => {
    trace.disable();
    context.disable();
    await provider.shutdown();
  });

  it('answers from the next model when the first always fails with 500, and the span says so', async () => {
    const start = server.requests.length;
    server.push(
      { type: 'error', status: 500, message: 'primary down' },
      { type: 'error', status: 500, message: 'primary down' },
      { type: 'turn', text: 'from the fallback' },
    );
    const chain = withFallback([gpt({ maxRetries: 1 }), claude()]);
    expect([chain.id, chain.provider]).toEqual(['gpt-4.1-mini', 'openai']);
    const tracer = trace.getTracer('test');
    const response = await tracer.startActiveSpan('chat gpt-4.1-mini', async (span) => {
      try {
        return await chain.generate(hello);
      } finally {
        span.end();
      }
    });
    expect(response.text).toBe('from the fallback');
    expect(response.provider).toBe('anthropic');
    expect(response.servedBy).toEqual({
      model: 'claude-haiku-4-5',
      provider: 'anthropic',
      fallbackFrom: ['openai:gpt-4.1-mini'],
    });
    expect(requestsSince(start).map((request) => request.wire)).toEqual(['openai', 'openai', 'anthropic']);

    const span = exporter.getFinishedSpans().find((candidate) => candidate.name === 'chat gpt-4.1-mini');
    const events = span?.events ?? [];
    expect(events.map((event) => event.name)).toEqual(['baton.model.retry', 'baton.model.fallback']);
    expect(events[1]?.attributes).toEqual({
      'baton.fallback.from': 'openai:gpt-4.1-mini',
      'baton.fallback.to': 'anthropic:claude-haiku-4-5',
      'baton.error.code': 'PROVIDER_SERVER',
    });
  });

  it('falls back in a stream that failed before its first delta', async () => {
    server.push({ type: 'error', status: 503 }, { type: 'turn', text: 'streamed fallback' });
    const chain = withFallback([gpt({ maxRetries: 0 }), claude({ maxRetries: 0 })]);
    const { response } = await collect(chain);
    expect(response.text).toBe('streamed fallback');
    expect(response.servedBy?.fallbackFrom).toEqual(['openai:gpt-4.1-mini']);
  });
});

describe('broken connections', () => {
  it('retries a connection reset before any byte of the answer', async () => {
    const start = server.requests.length;
    server.push({ type: 'reset' }, { type: 'turn', text: 'after the reset' });
    expect((await gpt().generate(hello)).text).toBe('after the reset');
    server.push(
      { type: 'turn', text: 'x', interrupt: { afterEvents: 0, mode: 'reset' } },
      { type: 'turn', text: 'stream after reset' },
    );
    expect((await collect(claude())).response.text).toBe('stream after reset');
    expect(requestsSince(start)).toHaveLength(4);
  });

  it('surfaces a reset after the first delta as PROVIDER_NETWORK, never a hang', async () => {
    for (const model of [gpt(), claude()]) {
      const start = server.requests.length;
      server.push({
        type: 'turn',
        text: 'a long answer that breaks',
        interrupt: { afterEvents: 4, mode: 'reset' },
      });
      const began = Date.now();
      const { error, events } = await streamFailure(model);
      expect(error.code).toBe('PROVIDER_NETWORK');
      expect(error.retryable).toBe(true);
      expect(events.some((event) => event.type === 'text-delta')).toBe(true);
      expect(events.some((event) => event.type === 'response')).toBe(false);
      // Deltas already reached the caller: a retry would duplicate them.
      expect(requestsSince(start)).toHaveLength(1);
      // A hang would never end; any bound far above a local round trip proves there was none.
      expect(Date.now() - began).toBeLessThan(10_000);
    }
  });

  it('times out a server that never answers, and one that stalls mid-stream', async () => {
    const start = server.requests.length;
    server.push({ type: 'hang' });
    const began = Date.now();
    const error = await rejection(gpt({ timeoutMs: 200, maxRetries: 0 }).generate(hello));
    expect(error.code).toBe('PROVIDER_TIMEOUT');
    // Not before its timeout; and it ended, which a server that never answers could only make it do
    // through the timeout (the upper bound is many times the 200 ms, for a loaded machine).
    expect(Date.now() - began).toBeGreaterThanOrEqual(195);
    expect(Date.now() - began).toBeLessThan(10_000);
    expect((await server.waitForDisconnect({ since: start })).index).toBe(start);

    server.push({
      type: 'turn',
      text: 'stalls after a few words',
      interrupt: { afterEvents: 5, mode: 'hang' },
    });
    const stalled = await streamFailure(claude({ timeoutMs: 200, maxRetries: 0 }));
    expect(stalled.error.code).toBe('PROVIDER_TIMEOUT');
    expect(stalled.events.length).toBeGreaterThan(0);
    expect((await server.waitForDisconnect({ since: start + 1 })).index).toBe(start + 1);
  });
});

describe('abort', () => {
  it.each(['openai', 'anthropic'] as const)(
    'aborting mid-stream closes the HTTP request (%s)',
    async (wire) => {
      const start = server.requests.length;
      // 2,000 events 20 ms apart: the whole answer would take 40 s; the abort comes after three deltas.
      server.push({ type: 'turn', text: 'word '.repeat(2_000), chunkSize: 5, eventDelayMs: 20 });
      const controller = new AbortController();
      const model = wire === 'openai' ? gpt() : claude();
      const events: ModelStreamEvent[] = [];
      const began = Date.now();
      let failure: unknown;
      try {
        for await (const event of model.stream({ ...hello, signal: controller.signal })) {
          events.push(event);
          if (events.filter((item) => item.type === 'text-delta').length === 3) controller.abort();
        }
      } catch (error) {
        failure = error;
      }
      expect(BatonError.is(failure, 'ABORTED')).toBe(true);
      // Far below the 40 s the stream would take to the end.
      expect(Date.now() - began).toBeLessThan(10_000);
      const disconnected = await server.waitForDisconnect({ since: start });
      expect(disconnected.index).toBe(start);
      expect(disconnected.clientDisconnected).toBe(true);
      // Never retried.
      expect(requestsSince(start)).toHaveLength(1);
    },
  );

  it('a consumer that stops reading closes the HTTP request too', async () => {
    const start = server.requests.length;
    server.push({ type: 'turn', text: 'word '.repeat(200), chunkSize: 5, eventDelayMs: 20 });
    for await (const event of gpt().stream(hello)) {
      if (event.type === 'text-delta') break;
    }
    expect((await server.waitForDisconnect({ since: start })).index).toBe(start);
  });

  it('an abort during the retry wait ends it at once', async () => {
    const start = server.requests.length;
    // 50 s: under the 60 s worth waiting for (so the wait starts), far longer than the abort takes.
    server.push({ type: 'error', status: 429, headers: { 'retry-after': '50' } });
    const controller = new AbortController();
    const delays: number[] = [];
    const model = gpt({
      retry: {
        ...fast,
        onRetry: (info) => {
          delays.push(info.delayMs);
          setTimeout(() => controller.abort(), 100);
        },
      },
    });
    const began = Date.now();
    const error = await rejection(model.generate({ ...hello, signal: controller.signal }));
    expect(error.code).toBe('ABORTED');
    // The abort came during the 50 s wait and ended it: many times the 100 ms, far below the 50 s.
    expect(delays).toEqual([50_000]);
    expect(Date.now() - began).toBeLessThan(10_000);
    expect(requestsSince(start)).toHaveLength(1);
  });
});
