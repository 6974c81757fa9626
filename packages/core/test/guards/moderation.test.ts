import {
  BatonError,
  keywordModeration,
  type ModerationClassifier,
  moderationGuard,
  openAIModeration,
} from '@baton/core';
import { type ProviderServer, startProviderServer } from '@baton/core/testing';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { check, expectVerdict, guardContext, prng, randomValue } from './helpers.js';

let server: ProviderServer;
beforeAll(async () => {
  server = await startProviderServer();
});
afterAll(async () => {
  await server.close();
});

describe('keywordModeration (a word list, not a model)', () => {
  const classifier = keywordModeration({
    categories: {
      competitors: ['AcmeCorp', 'Globex Industries'],
      internal: ['project nightingale', /\bcodename-\d+\b/i],
    },
  });

  it('scores 1 for a category whose words occur as whole words, any case or width', async () => {
    expect(await classifier.classify('We beat ACMECORP again.')).toEqual({
      flagged: true,
      categories: { competitors: 1, internal: 0 },
    });
    expect(await classifier.classify('globex   industries and Project Nightingale')).toEqual({
      flagged: true,
      categories: { competitors: 1, internal: 1 },
    });
    expect(await classifier.classify('Ａｃｍｅｃｏｒｐ in full width')).toMatchObject({ flagged: true });
    expect(await classifier.classify('see CODENAME-42')).toMatchObject({ categories: { internal: 1 } });
    expect(await classifier.classify('AcmeCorporation is another company')).toEqual({
      flagged: false,
      categories: { competitors: 0, internal: 0 },
    });
    expect(classifier.name).toBe('keywords');
  });

  it('rejects a configuration without word lists', () => {
    expect(() => keywordModeration({} as never)).toThrow(BatonError);
    expect(() => keywordModeration({ categories: { x: 'word' as never } })).toThrow(/list of words/);
  });
});

describe('moderationGuard', () => {
  const classifier = keywordModeration({ categories: { violence: ['kill them'], spam: ['buy now'] } });

  it('trips on what the classifier flags, naming categories and scores, never the text', async () => {
    const guard = moderationGuard({ classifier });
    expect(await check(guard, 'A calm answer.', 'output')).toEqual({ action: 'pass' });
    expect(await check(guard, 'Buy now!!!', 'output')).toEqual({
      action: 'trip',
      reason: 'moderation: the output was flagged by the classifier keywords: spam 1.00',
      findings: [{ kind: 'moderation', note: 'spam', score: 1 }],
    });
    expect((await check(guard, { reply: 'kill them all' }, 'toolOutput', 'search')).action).toBe('trip');
  });

  it('with a threshold, decides from the scores', async () => {
    const scored: ModerationClassifier = {
      name: 'fixed',
      classify: async () => ({ flagged: false, categories: { harassment: 0.42, hate: 0.05 } }),
    };
    expect(await check(moderationGuard({ classifier: scored }), 'x', 'output')).toEqual({ action: 'pass' });
    expect(await check(moderationGuard({ classifier: scored, threshold: 0.4 }), 'x', 'output')).toEqual({
      action: 'trip',
      reason: 'moderation: the output was flagged by the classifier fixed: harassment 0.42',
      findings: [{ kind: 'moderation', note: 'harassment', score: 0.42 }],
    });
    expect(() => moderationGuard({ classifier: scored, threshold: 2 })).toThrow(BatonError);
    expect(() => moderationGuard({ classifier: {} as never })).toThrow(BatonError);
  });

  it('fails closed: a classifier that throws, is aborted or answers nonsense trips', async () => {
    const failing: ModerationClassifier = {
      classify: async () => {
        throw new Error('service unavailable');
      },
    };
    expect(await check(moderationGuard({ classifier: failing }), 'x', 'output')).toEqual({
      action: 'trip',
      reason: 'moderation: the classifier failed (service unavailable)',
    });
    const nonsense = { classify: async () => ({ flagged: 'no' }) } as unknown as ModerationClassifier;
    expect(await check(moderationGuard({ classifier: nonsense }), 'x', 'output')).toMatchObject({
      action: 'trip',
    });
    const waits: ModerationClassifier = {
      classify: (_text, signal) =>
        new Promise((_resolve, reject) =>
          signal?.addEventListener('abort', () => reject(new Error('aborted'))),
        ),
    };
    const controller = new AbortController();
    const pending = moderationGuard({ classifier: waits }).check(
      'x',
      guardContext('output', undefined, controller.signal),
    );
    controller.abort();
    expect(await pending).toMatchObject({
      action: 'trip',
      reason: 'moderation: the classifier failed (aborted)',
    });
  });

  it('never throws on random values (fuzz)', async () => {
    const random = prng(3);
    const guard = moderationGuard({ classifier });
    for (let round = 0; round < 200; round++)
      expectVerdict(await check(guard, randomValue(random), 'output'));
  });
});

describe('openAIModeration, against the local provider server', () => {
  it("sends the text through the official SDK and reads OpenAI's response shape", async () => {
    server.push({ type: 'moderation', results: [{ categoryScores: { harassment: 0.91, violence: 0.62 } }] });
    const classifier = openAIModeration({ baseURL: server.openaiBaseURL, apiKey: 'test-key' });
    expect(classifier.name).toBe('openai:omni-moderation-latest');
    const result = await classifier.classify('you are all idiots');
    expect(result.flagged).toBe(true);
    expect(result.categories.harassment).toBe(0.91);
    expect(result.categories.violence).toBe(0.62);
    expect(result.categories['self-harm/intent']).toBe(0.0001);
    expect(Object.keys(result.categories)).toHaveLength(13);
    const request = server.requests.at(-1);
    expect(request?.path).toBe('/v1/moderations');
    expect(request?.headers.authorization).toBe('Bearer test-key');
    expect(request?.body).toEqual({ model: 'omni-moderation-latest', input: 'you are all idiots' });
  });

  it('a flagged result trips moderationGuard; an unflagged one passes', async () => {
    const guard = moderationGuard({
      classifier: openAIModeration({ baseURL: server.openaiBaseURL, apiKey: 'k' }),
    });
    server.push({ type: 'moderation', results: [{ flagged: true, categoryScores: { 'self-harm': 0.8 } }] });
    expect(await check(guard, 'text', 'output')).toEqual({
      action: 'trip',
      reason:
        'moderation: the output was flagged by the classifier openai:omni-moderation-latest: self-harm 0.80',
      findings: [{ kind: 'moderation', note: 'self-harm', score: 0.8 }],
    });
    server.push({ type: 'moderation' });
    expect(await check(guard, 'a friendly text', 'output')).toEqual({ action: 'pass' });
  });

  it('uses a client it is given, a model it is told, and chunks long texts', async () => {
    const client = new OpenAI({ baseURL: server.openaiBaseURL, apiKey: 'given', maxRetries: 0 });
    const classifier = openAIModeration({ client, model: 'text-moderation-stable', chunkChars: 1_000 });
    server.push({
      type: 'moderation',
      results: [{ categoryScores: { hate: 0.2 } }, { categoryScores: { hate: 0.7 } }, {}],
    });
    const result = await classifier.classify('x'.repeat(2_500));
    expect(result).toMatchObject({ flagged: true, categories: { hate: 0.7 } });
    const request = server.requests.at(-1);
    expect(request?.headers.authorization).toBe('Bearer given');
    expect(request?.body.model).toBe('text-moderation-stable');
    expect(((request?.body.input ?? []) as string[]).map((part) => part.length)).toEqual([1_000, 1_000, 500]);
  });

  it('an HTTP error or a missing key fails closed through the guard', async () => {
    server.push({ type: 'error', status: 500 }, { type: 'error', status: 500 });
    const guard = moderationGuard({
      classifier: openAIModeration({ baseURL: server.openaiBaseURL, apiKey: 'k' }),
    });
    const verdict = await check(guard, 'text', 'output');
    expect(verdict).toMatchObject({
      action: 'trip',
      reason: expect.stringContaining('moderation: the classifier openai:omni-moderation-latest failed'),
    });
    const saved = process.env.OPENAI_API_KEY;
    delete process.env.OPENAI_API_KEY;
    try {
      const keyless = moderationGuard({ classifier: openAIModeration({ baseURL: server.openaiBaseURL }) });
      expect(await check(keyless, 'text', 'output')).toMatchObject({ action: 'trip' });
    } finally {
      if (saved !== undefined) process.env.OPENAI_API_KEY = saved;
    }
  });
});
