import {
  BatonMetric,
  cachedModel,
  defineAgent,
  defineTool,
  inMemoryCacheStore,
  type Model,
  run,
} from '@baton/core';
import { scriptedModel } from '@baton/core/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { installMeters, points } from './helpers.js';

let meters: ReturnType<typeof installMeters>;
beforeEach(() => {
  meters = installMeters();
});
afterEach(async () => {
  await meters.uninstall();
});

const USAGE = { inputTokens: 1_200, outputTokens: 300 };

function answerer(model: Model, tools: Parameters<typeof defineAgent>[0]['tools'] = []) {
  return defineAgent({
    name: 'answerer',
    description: 'Answers',
    instructions: 'Answer briefly.',
    model,
    tools,
  });
}

/** The data points of `name` keyed by their `baton.cache.kind` and `baton.cache.hit` attributes. */
async function byKindAndHit(name: string) {
  const all = await meters.collect();
  return points(all, name).map((point) => ({
    kind: point.attributes['baton.cache.kind'],
    hit: point.attributes['baton.cache.hit'],
    value: point.value,
    attributes: point.attributes,
  }));
}

describe('cache metrics', () => {
  it('counts model-cache lookups by hit, with the agent, model and tenant, and the tokens a hit saved', async () => {
    const inner = scriptedModel(() => 'Paris.', { id: 'gpt-4.1-mini', provider: 'openai', usage: USAGE });
    const agent = answerer(cachedModel(inner, { store: inMemoryCacheStore(), ttlMs: 60_000 }));
    for (let i = 0; i < 3; i++) {
      const result = await run(agent, 'What is the capital of France?', { tenantId: 'acme' });
      expect(result.status).toBe('completed');
    }
    expect(inner.requests).toHaveLength(1);

    const lookups = await byKindAndHit(BatonMetric.CACHE_LOOKUPS);
    const common = {
      'gen_ai.agent.name': 'answerer',
      'gen_ai.request.model': 'gpt-4.1-mini',
      'baton.tenant.id': 'acme',
      'baton.cache.kind': 'model',
    };
    expect(lookups.find((point) => point.hit === false)).toMatchObject({
      value: 1,
      attributes: { ...common, 'baton.cache.hit': false },
    });
    expect(lookups.find((point) => point.hit === true)).toMatchObject({
      value: 2,
      attributes: { ...common, 'baton.cache.hit': true },
    });

    const saved = await byKindAndHit(BatonMetric.CACHE_SAVED_TOKENS);
    expect(saved).toHaveLength(1);
    expect(saved[0]).toMatchObject({ kind: 'model', hit: true, value: 2 * 1_500 });
  });

  it('a cached model called outside any run counts under the tenant it was given, with no agent', async () => {
    const inner = scriptedModel(() => 'Paris.', { id: 'gpt-4.1-mini', provider: 'openai', usage: USAGE });
    const model = cachedModel(inner, { store: inMemoryCacheStore(), ttlMs: 60_000, tenantId: 'globex' });
    const request = { messages: [{ role: 'user' as const, content: 'Capital of France?' }] };
    await model.generate(request);
    await model.generate(request);
    const lookups = await byKindAndHit(BatonMetric.CACHE_LOOKUPS);
    expect(lookups.map((point) => [point.hit, point.value]).sort()).toEqual([
      [false, 1],
      [true, 1],
    ]);
    for (const point of lookups) {
      expect(point.attributes['gen_ai.agent.name']).toBeUndefined();
      expect(point.attributes['baton.tenant.id']).toBe('globex');
    }
  });

  it('counts tool-result cache lookups by hit under kind `tool`', async () => {
    let executions = 0;
    const lookup = defineTool({
      name: 'lookup',
      description: 'Looks up an account',
      input: z.object({ account: z.string() }),
      cache: { ttlMs: 60_000 },
      execute: ({ account }) => {
        executions++;
        return `balance of ${account}: 42`;
      },
    });
    const model = scriptedModel((request) =>
      request.messages.some((message) => message.role === 'tool')
        ? 'done'
        : { toolCalls: [{ name: 'lookup', args: { account: 'acme-1' } }] },
    );
    const agent = answerer(model, [lookup]);
    await run(agent, 'go', { userId: 'ada' });
    await run(agent, 'go', { userId: 'ada' });
    expect(executions).toBe(1);
    const lookups = (await byKindAndHit(BatonMetric.CACHE_LOOKUPS)).filter((point) => point.kind === 'tool');
    expect(lookups.map((point) => [point.hit, point.value]).sort()).toEqual([
      [false, 1],
      [true, 1],
    ]);
    expect(lookups[0]?.attributes['gen_ai.agent.name']).toBe('answerer');
  });
});
