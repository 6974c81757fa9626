import { BatonError, cosineSimilarity, inMemoryStore, memoryTools, openAIEmbedder, run } from '@baton/core';
import { hashedEmbedding, type ProviderServer, startProviderServer } from '@baton/core/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { afterTool, agentWith } from './helpers.js';

let server: ProviderServer;
beforeAll(async () => {
  server = await startProviderServer();
});
afterAll(async () => {
  await server.close();
});

const local = (options: Parameters<typeof openAIEmbedder>[1] = {}) =>
  openAIEmbedder('text-embedding-3-small', {
    baseURL: server.openaiBaseURL,
    apiKey: 'test-key',
    maxRetries: 0,
    ...options,
  });

describe('openAIEmbedder over the official SDK', () => {
  it('sends the texts and returns one vector per text, in order (floats)', async () => {
    server.push({ type: 'embeddings' });
    const before = server.requests.length;
    const vectors = await local().embed(['dark roast coffee', 'kubernetes cluster']);
    const sent = server.requests[before];
    expect(sent?.path).toMatch(/\/embeddings$/);
    expect(sent?.body).toMatchObject({
      model: 'text-embedding-3-small',
      input: ['dark roast coffee', 'kubernetes cluster'],
      encoding_format: 'float',
    });
    expect(vectors).toHaveLength(2);
    expect(vectors[0]).toEqual(hashedEmbedding('dark roast coffee'));
  });

  it('decodes base64 float32 vectors (what api.openai.com is asked for) and passes dimensions', async () => {
    server.push({ type: 'embeddings' });
    const before = server.requests.length;
    const [vector] = await local({ encoding: 'base64', dimensions: 16 }).embed(['coffee beans']);
    expect(server.requests[before]?.body).toMatchObject({ encoding_format: 'base64', dimensions: 16 });
    const expected = hashedEmbedding('coffee beans', 16);
    expect(vector).toHaveLength(16);
    for (const [i, x] of (vector as number[]).entries()) expect(x).toBeCloseTo(expected[i] as number, 6);
  });

  it('similar texts embed near each other', async () => {
    server.push({ type: 'embeddings' });
    const [a, b, c] = await local().embed([
      'prefers dark roast coffee',
      'dark roast coffee please',
      'tax filing',
    ]);
    expect(cosineSimilarity(a as number[], b as number[])).toBeGreaterThan(
      cosineSimilarity(a as number[], c as number[]),
    );
  });

  it('splits large inputs into batches and keeps the order', async () => {
    const texts = Array.from({ length: 5 }, (_, i) => `text number ${i}`);
    server.push({ type: 'embeddings' }, { type: 'embeddings' }, { type: 'embeddings' });
    const before = server.requests.length;
    const vectors = await local({ batchSize: 2 }).embed(texts);
    expect(server.requests.length - before).toBe(3);
    expect(vectors).toEqual(texts.map((text) => hashedEmbedding(text)));
  });

  it('retries a rate limit honouring retry-after, then succeeds', async () => {
    server.push({ type: 'error', status: 429, headers: { 'retry-after-ms': '10' } }, { type: 'embeddings' });
    const vectors = await local({ maxRetries: 2 }).embed(['hello']);
    expect(vectors).toHaveLength(1);
  });

  it('maps failures to typed provider errors', async () => {
    server.push({ type: 'error', status: 401, message: 'bad key' });
    await expect(local().embed(['x'])).rejects.toMatchObject({ code: 'PROVIDER_AUTH' });
    server.push({ type: 'embeddings', vectors: [[1, 2]] });
    const wrongCount = await local()
      .embed(['one', 'two'])
      .catch((error: unknown) => error);
    expect(BatonError.is(wrongCount, 'PROVIDER_RESPONSE_INVALID')).toBe(true);
  });

  it('refuses bad configuration and arguments', async () => {
    expect(() => openAIEmbedder('')).toThrow(BatonError);
    expect(() => local({ batchSize: 0 })).toThrow(/batchSize/);
    await expect(local().embed('text' as unknown as string[])).rejects.toMatchObject({
      code: 'INPUT_INVALID',
    });
  });

  it('an aborted call ends with ABORTED', async () => {
    server.push({ type: 'embeddings', delayMs: 5_000 });
    const controller = new AbortController();
    const before = server.requests.length;
    const pending = local().embed(['slow'], { signal: controller.signal });
    // Abort once the server holds the request, so it is recorded before the next test counts requests.
    await vi.waitFor(() => expect(server.requests.length).toBeGreaterThan(before), { timeout: 10_000 });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'ABORTED' });
  });
});

describe('embeddings in memory', () => {
  it('saved memories and recalls carry vectors from the embedder', async () => {
    const store = inMemoryStore();
    const embedder = local();
    server.push(...Array.from({ length: 3 }, () => ({ type: 'embeddings' as const })));
    const before = server.requests.length;
    const { agent } = agentWith(
      (request) =>
        afterTool(request)
          ? 'Saved.'
          : { toolCalls: [{ name: 'save_memory', args: { key: 'drink', value: 'likes green tea' } }] },
      memoryTools({ store, embedder }),
    );
    const result = await run(agent, 'remember my drink', {
      userId: 'ada',
      memory: { store, embedder, summary: false },
    });
    expect(result.status).toBe('completed');
    const inputs = server.requests.slice(before).map((request) => request.body.input);
    // The task (recall at the start), the saved fact, the episode.
    expect(inputs).toEqual([['remember my drink'], ['likes green tea'], [expect.stringContaining('Task:')]]);
    const residue = store.residue({ tenant: 'default', user: 'ada' });
    expect(residue.filter((line) => line.startsWith('vector'))).toHaveLength(2);
    const hits = await store.search({ tenant: 'default', user: 'ada' }, 'beverage', {
      embedding: hashedEmbedding('green tea'),
    });
    expect(hits[0]?.record.key).toBe('drink');
  });
});
