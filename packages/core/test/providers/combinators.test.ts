import { BatonError, isFallbackError, type Model, route, withFallback, withRetry } from '@baton/core';
import { scriptedModel } from '@baton/core/testing';
import { describe, expect, it } from 'vitest';
import { collect, hello, rejection, streamFailure } from './helpers.js';

// The combinators' own logic, over the scripted test model (the real providers are covered against the
// local HTTP server in faults.test.ts).

const fail = (code: ConstructorParameters<typeof BatonError>[0], details?: Record<string, unknown>) => ({
  error: new BatonError(code, `scripted ${code}`, details ? { details } : {}),
});

describe('withRetry', () => {
  it('retries retryable errors and keeps id and provider', async () => {
    const inner = scriptedModel([fail('PROVIDER_OVERLOADED'), fail('PROVIDER_NETWORK'), 'ok'], {
      id: 'm',
      provider: 'p',
    });
    const retries: number[] = [];
    const model = withRetry(inner, {
      retries: 2,
      initialDelayMs: 1,
      maxDelayMs: 2,
      onRetry: (info) => retries.push(info.attempt),
    });
    expect([model.id, model.provider]).toEqual(['m', 'p']);
    expect((await model.generate(hello)).text).toBe('ok');
    expect(retries).toEqual([1, 2]);
    expect(inner.requests).toHaveLength(3);
  });

  it('does not retry what cannot succeed, nor past its budget', async () => {
    const fatal = scriptedModel([fail('PROVIDER_BAD_REQUEST'), 'never']);
    expect((await rejection(withRetry(fatal, { initialDelayMs: 1 }).generate(hello))).code).toBe(
      'PROVIDER_BAD_REQUEST',
    );
    expect(fatal.requests).toHaveLength(1);

    const flaky = scriptedModel([fail('PROVIDER_SERVER'), fail('PROVIDER_SERVER'), 'late']);
    expect((await rejection(withRetry(flaky, { retries: 1, initialDelayMs: 1 }).generate(hello))).code).toBe(
      'PROVIDER_SERVER',
    );
    expect(flaky.requests).toHaveLength(2);
  });

  it('backs off exponentially with full jitter, within bounds', async () => {
    const delays: number[] = [];
    const inner = scriptedModel([
      fail('PROVIDER_SERVER'),
      fail('PROVIDER_SERVER'),
      fail('PROVIDER_SERVER'),
      'ok',
    ]);
    await withRetry(inner, {
      retries: 3,
      initialDelayMs: 8,
      maxDelayMs: 20,
      onRetry: (info) => delays.push(info.delayMs),
    }).generate(hello);
    expect(delays).toHaveLength(3);
    expect(delays[0]).toBeLessThanOrEqual(8);
    expect(delays[1]).toBeLessThanOrEqual(16);
    expect(delays[2]).toBeLessThanOrEqual(20);

    const exact: number[] = [];
    const again = scriptedModel([
      fail('PROVIDER_SERVER'),
      fail('PROVIDER_SERVER'),
      fail('PROVIDER_SERVER'),
      'ok',
    ]);
    await withRetry(again, {
      retries: 3,
      initialDelayMs: 4,
      maxDelayMs: 10,
      jitter: false,
      onRetry: (info) => exact.push(info.delayMs),
    }).generate(hello);
    expect(exact).toEqual([4, 8, 10]);
  });

  it('waits what retry-after asks, up to maxRetryAfterMs', async () => {
    const delays: number[] = [];
    const inner = scriptedModel([fail('PROVIDER_RATE_LIMIT', { retryAfterMs: 40 }), 'ok']);
    const began = Date.now();
    await withRetry(inner, { initialDelayMs: 1, onRetry: (info) => delays.push(info.delayMs) }).generate(
      hello,
    );
    expect(delays).toEqual([40]);
    expect(Date.now() - began).toBeGreaterThanOrEqual(38);

    const tooLong = scriptedModel([fail('PROVIDER_RATE_LIMIT', { retryAfterMs: 5_000 }), 'ok']);
    const error = await rejection(withRetry(tooLong, { maxRetryAfterMs: 1_000 }).generate(hello));
    expect(error.code).toBe('PROVIDER_RATE_LIMIT');
    expect(tooLong.requests).toHaveLength(1);
  });

  it('never retries an aborted request, and an abort ends the wait', async () => {
    const controller = new AbortController();
    const inner = scriptedModel([fail('PROVIDER_SERVER'), 'ok']);
    const delays: number[] = [];
    // A 60 s backoff; the abort comes 30 ms into it (armed when the wait starts, so it always lands in it).
    const model = withRetry(inner, {
      initialDelayMs: 60_000,
      maxDelayMs: 60_000,
      jitter: false,
      onRetry: (info) => {
        delays.push(info.delayMs);
        setTimeout(() => controller.abort(), 30);
      },
    });
    const began = Date.now();
    const error = await rejection(model.generate({ ...hello, signal: controller.signal }));
    expect(error.code).toBe('ABORTED');
    expect(delays).toEqual([60_000]);
    // Ended by the abort: many times the 30 ms, far below the 60 s wait.
    expect(Date.now() - began).toBeLessThan(10_000);
    expect(inner.requests).toHaveLength(1);
  });

  it('retries a stream only while it has yielded nothing', async () => {
    const before = scriptedModel([fail('PROVIDER_SERVER'), 'streamed ok']);
    const { response } = await collect(withRetry(before, { initialDelayMs: 1 }));
    expect(response.text).toBe('streamed ok');

    // A model that fails after its first delta.
    let calls = 0;
    const breaking: Model = {
      id: 'b',
      provider: 'p',
      generate: () => Promise.reject(new Error('unused')),
      async *stream() {
        calls++;
        yield { type: 'text-delta', text: 'partial ' };
        throw new BatonError('PROVIDER_NETWORK', 'reset');
      },
    };
    const { error, events } = await streamFailure(withRetry(breaking, { initialDelayMs: 1 }));
    expect(error.code).toBe('PROVIDER_NETWORK');
    expect(events).toEqual([{ type: 'text-delta', text: 'partial ' }]);
    expect(calls).toBe(1);
  });

  it('rejects invalid options', () => {
    const inner = scriptedModel(['x']);
    expect(() => withRetry(inner, { retries: -1 })).toThrow(/retries/);
    expect(() => withRetry(inner, { initialDelayMs: 10, maxDelayMs: 5 })).toThrow(/maxDelayMs/);
  });
});

describe('withFallback', () => {
  it('moves on after a fallback error and says who served', async () => {
    const a = scriptedModel([fail('PROVIDER_OVERLOADED')], { id: 'a', provider: 'pa' });
    const b = scriptedModel([fail('PROVIDER_AUTH')], { id: 'b', provider: 'pb' });
    const c = scriptedModel(['from c'], { id: 'c', provider: 'pc' });
    const seen: string[] = [];
    const chain = withFallback([a, b, c], {
      onFallback: (info) => seen.push(`${info.from.id}>${info.to.id}:${info.error.code}`),
    });
    expect([chain.id, chain.provider]).toEqual(['a', 'pa']);
    const response = await chain.generate(hello);
    expect(response.text).toBe('from c');
    expect(response.servedBy).toEqual({ model: 'c', provider: 'pc', fallbackFrom: ['pa:a', 'pb:b'] });
    expect(seen).toEqual(['a>b:PROVIDER_OVERLOADED', 'b>c:PROVIDER_AUTH']);
  });

  it('marks the primary as the server when it answers', async () => {
    const response = await withFallback([
      scriptedModel(['first'], { id: 'a', provider: 'pa' }),
      scriptedModel(['x']),
    ]).generate(hello);
    expect(response.servedBy).toEqual({ model: 'a', provider: 'pa' });
  });

  it('stops on an error every model would share, and on abort', async () => {
    const b = scriptedModel(['unused']);
    const error = await rejection(
      withFallback([scriptedModel([fail('PROVIDER_BAD_REQUEST')]), b]).generate(hello),
    );
    expect(error.code).toBe('PROVIDER_BAD_REQUEST');
    expect(b.requests).toHaveLength(0);
    expect(isFallbackError(new BatonError('ABORTED', 'x'))).toBe(false);
    expect(isFallbackError(new BatonError('PROVIDER_CONTEXT_LENGTH', 'x'))).toBe(true);
    expect(isFallbackError(new BatonError('TOOL_FAILED', 'x'))).toBe(false);
  });

  it('reports every failure when all models fail', async () => {
    const chain = withFallback([
      scriptedModel([fail('PROVIDER_SERVER')], { id: 'a', provider: 'p' }),
      scriptedModel([fail('PROVIDER_TIMEOUT')], { id: 'b', provider: 'p' }),
    ]);
    const error = await rejection(chain.generate(hello));
    expect(error.code).toBe('PROVIDER_TIMEOUT');
    expect(error.retryable).toBe(true);
    expect(error.details?.failures).toEqual([
      { model: 'p:a', code: 'PROVIDER_SERVER', message: 'scripted PROVIDER_SERVER' },
      { model: 'p:b', code: 'PROVIDER_TIMEOUT', message: 'scripted PROVIDER_TIMEOUT' },
    ]);
  });

  it('falls back in a stream only before its first delta', async () => {
    const failing: Model = {
      id: 'f',
      provider: 'p',
      generate: () => Promise.reject(new Error('unused')),
      async *stream() {
        yield { type: 'text-delta', text: 'half' };
        throw new BatonError('PROVIDER_NETWORK', 'reset');
      },
    };
    const backup = scriptedModel(['backup']);
    const { error, events } = await streamFailure(withFallback([failing, backup]));
    expect(error.code).toBe('PROVIDER_NETWORK');
    expect(events).toHaveLength(1);
    expect(backup.requests).toHaveLength(0);
  });

  it('rejects an empty chain', () => {
    expect(() => withFallback([])).toThrow(/non-empty/);
  });
});

describe('route', () => {
  it('sends each step role to its model and falls back to the default', async () => {
    const strong = scriptedModel(['planned'], { id: 'strong', provider: 'p', whenExhausted: 'repeat-last' });
    const cheap = scriptedModel(['picked'], { id: 'cheap', provider: 'p', whenExhausted: 'repeat-last' });
    const router = route({
      planning: strong,
      synthesis: strong,
      'tool-selection': cheap,
      extraction: cheap,
      default: strong,
    });
    expect(router.select('extraction')).toBe(cheap);
    expect(router.select(undefined)).toBe(strong);
    expect((await router.generate({ ...hello, role: 'planning' })).servedBy).toEqual({
      model: 'strong',
      provider: 'p',
    });
    const picked = await collect(router, { ...hello, role: 'tool-selection' });
    expect(picked.response.text).toBe('picked');
    expect(picked.response.servedBy?.model).toBe('cheap');
    expect((await router.generate(hello)).text).toBe('planned');
    expect([strong.requests.length, cheap.requests.length]).toEqual([2, 1]);
  });

  it('rejects a table without a default or with an unknown role', () => {
    const model = scriptedModel(['x']);
    expect(() => route({ planning: model } as never)).toThrow(/default/);
    expect(() => route({ default: model, drafting: model } as never)).toThrow(/unknown role "drafting"/);
  });
});
