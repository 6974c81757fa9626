import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  bundledCorpus,
  offlineModel,
  researchContract,
  researcher,
  type WebSearchProvider,
  type WebSearchResult,
  webSearchTool,
} from '@baton/agents';
import { BatonError, defineAgent, run, ToolError } from '@baton/core';
import { scriptedModel, timerLag, toolContext } from '@baton/core/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

/** A local HTTP search API: `/search?q=…&n=…` answers per the `mode` query parameter. */
let server: Server;
let baseUrl: string;
const seen: { q: string; n: string; aborted: boolean }[] = [];

const pages: WebSearchResult[] = [
  {
    title: 'Circuit breakers for LLM providers',
    url: 'https://example.org/circuit-breakers',
    snippet:
      'A circuit breaker stops calling a failing provider for a cool-down period. It protects both sides.',
  },
  {
    title: 'Backoff in practice',
    url: 'https://example.org/backoff',
    snippet: 'Cap retries by time, not only by count.',
  },
];

function handle(request: IncomingMessage, response: ServerResponse): void {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const entry = { q: url.searchParams.get('q') ?? '', n: url.searchParams.get('n') ?? '', aborted: false };
  seen.push(entry);
  request.on('close', () => {
    if (!response.writableEnded) entry.aborted = true;
  });
  const mode = url.searchParams.get('mode');
  if (mode === 'hang') return; // Never answers: only the client's abort ends it.
  if (mode === 'down') {
    response.writeHead(503).end('unavailable');
    return;
  }
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end(
    JSON.stringify(mode === 'garbage' ? { items: 'nope' } : pages.slice(0, Number(entry.n) || 10)),
  );
}

/** What a user writes: a provider over their search API, passing the tool's signal to fetch. */
function httpProvider(mode = 'ok'): WebSearchProvider {
  return {
    name: 'Local test search',
    async search(query, { limit, signal }) {
      const response = await fetch(
        `${baseUrl}/search?q=${encodeURIComponent(query)}&n=${limit}&mode=${mode}`,
        { signal },
      );
      if (!response.ok) throw new Error(`search API answered ${response.status}`);
      return (await response.json()) as WebSearchResult[];
    },
  };
}

beforeAll(async () => {
  server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function toolRunner(mode: string, options: Parameters<typeof webSearchTool>[1] = {}) {
  const model = scriptedModel([
    { toolCalls: [{ name: 'web_search', args: { query: 'provider outages', limit: 2 } }] },
    'done',
  ]);
  return defineAgent({
    name: 'searcher',
    description: 'searches',
    instructions: 'Search.',
    model,
    tools: [webSearchTool(httpProvider(mode), options)],
  });
}

describe('web_search', () => {
  it('the offline researcher searches the web too and cites web results by URL', async () => {
    const agent = researcher({ model: offlineModel('researcher'), webSearch: httpProvider() });
    expect([...agent.tools.keys()]).toEqual(['search_corpus', 'read_document', 'web_search']);
    const result = await run(agent, { topic: 'retries and provider outages' });
    expect(result.status).toBe('completed');
    const findings = researchContract.output.parse(result.output);
    const web = findings.sources.filter((source) => source.url !== undefined);
    expect(web.map((source) => source.id)).toContain('https://example.org/circuit-breakers');
    expect(findings.findings).toContainEqual({
      claim: 'A circuit breaker stops calling a failing provider for a cool-down period.',
      sources: ['https://example.org/circuit-breakers'],
    });
    const corpus = bundledCorpus();
    for (const source of findings.sources.filter((s) => s.url === undefined))
      expect(corpus.has(source.id)).toBe(true);
    expect(seen.some((entry) => entry.q === 'retries and provider outages' && entry.n === '3')).toBe(true);
  });

  it('without a provider there is no web_search tool', () => {
    expect([...researcher({ model: offlineModel('researcher') }).tools.keys()]).not.toContain('web_search');
    expect(() => webSearchTool(undefined as never)).toThrow(BatonError);
  });

  it('reports a provider answer of the wrong shape as SEARCH_RESPONSE_INVALID', async () => {
    const result = await run(toolRunner('garbage'), 'search');
    expect(result.partial.toolResults[0]?.error).toMatchObject({
      code: 'SEARCH_RESPONSE_INVALID',
      retryable: false,
    });
  });

  it('retries a failing provider once, then reports SEARCH_UNAVAILABLE as retryable', async () => {
    const before = seen.length;
    const result = await run(toolRunner('down'), 'search');
    expect(result.partial.toolResults[0]?.error).toMatchObject({
      code: 'SEARCH_UNAVAILABLE',
      retryable: true,
    });
    expect(seen.length - before).toBe(2);
  });

  it('times out a hanging provider and aborts its HTTP request', async () => {
    const before = seen.length;
    // The request must reach the local server before the tool gives up on it: on a loaded machine that
    // takes longer, so the timeout is sized from how late timers fire right now (150 ms when idle).
    const timeoutMs = Math.max(150, Math.ceil(20 * (await timerLag())));
    const started = Date.now();
    const result = await run(toolRunner('hang', { timeoutMs }), 'search');
    expect(result.partial.toolResults[0]?.error?.code).toBe('TOOL_TIMEOUT');
    // The provider never answers: ending at all proves the timeout; the bound is many times it.
    expect(Date.now() - started).toBeLessThan(timeoutMs + 10_000);
    // The server saw the request and then the client closing it (socket events: later on a loaded machine).
    await vi.waitFor(
      () => {
        const hung = seen.slice(before);
        expect(hung.length).toBeGreaterThan(0);
        expect(hung.every((entry) => entry.aborted)).toBe(true);
      },
      { timeout: 10_000 },
    );
  });

  it('passes a ToolError from the provider through to the model', async () => {
    const tool = webSearchTool({
      search: () =>
        Promise.reject(new ToolError('QUOTA', 'Monthly quota used up', { hint: 'Use the corpus.' })),
    });
    const error = await Promise.resolve()
      .then(() => tool.execute({ query: 'x' }, toolContext({ runId: 'r', agent: 'a', toolCallId: 'c' })))
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ToolError);
    expect((error as ToolError).toolCode).toBe('QUOTA');
  });
});
