import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  anthropic,
  costOf,
  type Model,
  type ModelResponse,
  type ModelStreamEvent,
  openai,
} from '@baton/core';
import { loadRecording, type ProviderServer, startProviderServer } from '@baton/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Recorded responses (vercel/ai, Apache-2.0; see fixtures/providers/MANIFEST.md) replayed by a local server
// and read through the official SDK clients and our adapters; expected.json is the oracle.

const FIXTURES = fileURLToPath(new URL('../fixtures/providers/', import.meta.url));

interface ExpectedToolCall {
  id: string;
  name: string;
  arguments: unknown;
  arguments_raw?: string;
  input_json_raw?: string;
}

interface Entry {
  file: string;
  wire_format: 'openai-chat' | 'anthropic-messages';
  streaming: boolean;
  expected: {
    response_id: string;
    model: string;
    text: { text: string } | null;
    reasoning: { text: string } | null;
    tool_calls: ExpectedToolCall[];
    finish_reason_raw: string;
    finish_reason_normalized: string;
    usage: {
      input_tokens: number;
      output_tokens: number;
      total_tokens?: number;
      cached_input_tokens?: number;
      reasoning_tokens?: number;
      raw?: { cache_read_input_tokens?: number; cache_creation_input_tokens?: number };
      message_delta_usage?: { cache_read_input_tokens?: number; cache_creation_input_tokens?: number };
    } | null;
  };
}

const entries = JSON.parse(readFileSync(`${FIXTURES}expected.json`, 'utf8')) as Entry[];

let server: ProviderServer;
beforeAll(async () => {
  server = await startProviderServer();
});
afterAll(async () => {
  await server.close();
});

function modelFor(entry: Entry): Model {
  const common = { apiKey: 'test-key', maxRetries: 0 };
  if (entry.wire_format === 'anthropic-messages')
    return anthropic('claude-test', { ...common, baseURL: server.url });
  const provider = entry.file.startsWith('openai/') ? 'openai' : 'openai-compatible';
  return openai('test-model', { ...common, baseURL: server.openaiBaseURL, provider });
}

const request = { messages: [{ role: 'user' as const, content: 'Hello' }] };

function expectNormalized(entry: Entry, response: ModelResponse): void {
  const expected = entry.expected;
  expect(response.id).toBe(expected.response_id);
  expect(response.model).toBe(expected.model);
  expect(response.text).toBe(expected.text?.text ?? '');
  expect(response.reasoning).toBe(expected.reasoning?.text);
  if (expected.reasoning) expect(response.text).not.toContain(expected.reasoning.text.slice(0, 40));
  expect(response.toolCalls).toEqual(
    expected.tool_calls.map((call) => ({ id: call.id, name: call.name, arguments: call.arguments })),
  );
  expect(response.finishReasonRaw).toBe(expected.finish_reason_raw);
  expect(response.finishReason).toBe(expected.finish_reason_normalized);
  if (expected.usage === null) {
    expect(response.usage).toBeUndefined();
    expect(response.costUsd).toBeUndefined();
    return;
  }
  const usage = expected.usage;
  if (entry.wire_format === 'openai-chat') {
    // Reasoning reported beside completion_tokens (xAI: total = prompt + completion + reasoning) is output.
    const reasoningOutside =
      (usage.reasoning_tokens ?? 0) > 0 &&
      usage.total_tokens === usage.input_tokens + usage.output_tokens + (usage.reasoning_tokens ?? 0);
    expect(response.usage).toEqual({
      inputTokens: usage.input_tokens,
      outputTokens: usage.output_tokens + (reasoningOutside ? (usage.reasoning_tokens ?? 0) : 0),
      cachedInputTokens: usage.cached_input_tokens,
      reasoningTokens: usage.reasoning_tokens,
    });
  } else {
    const cache = usage.message_delta_usage ?? usage.raw ?? {};
    const read = cache.cache_read_input_tokens ?? 0;
    const written = cache.cache_creation_input_tokens ?? 0;
    expect(response.usage).toEqual({
      inputTokens: usage.input_tokens + read + written,
      outputTokens: usage.output_tokens,
      cachedInputTokens: read,
      cacheCreationInputTokens: written,
    });
  }
  expect(response.costUsd).toBe(costOf(expected.model, response.usage));
}

describe.each(entries.filter((entry) => !entry.streaming))('recorded body $file', (entry) => {
  it('normalizes through generate()', async () => {
    server.push(loadRecording(`${FIXTURES}${entry.file}`));
    const response = await modelFor(entry).generate(request);
    expectNormalized(entry, response);
    expect(server.requests.at(-1)?.stream).toBe(false);
  });
});

describe.each(entries.filter((entry) => entry.streaming))('recorded stream $file', (entry) => {
  it('normalizes through stream(): deltas and the final response agree', async () => {
    server.push(loadRecording(`${FIXTURES}${entry.file}`));
    const events: ModelStreamEvent[] = [];
    for await (const event of modelFor(entry).stream(request)) events.push(event);
    expect(server.requests.at(-1)?.stream).toBe(true);

    const last = events.at(-1);
    expect(last?.type).toBe('response');
    expect(events.filter((event) => event.type === 'response')).toHaveLength(1);
    const response = (last as { response: ModelResponse }).response;
    expectNormalized(entry, response);

    const text = events.map((event) => (event.type === 'text-delta' ? event.text : '')).join('');
    const reasoning = events.map((event) => (event.type === 'reasoning-delta' ? event.text : '')).join('');
    expect(text).toBe(response.text);
    expect(reasoning).toBe(response.reasoning ?? '');
    // Reasoning arrives before the answer text and is never mixed into it.
    if (response.reasoning && response.text) {
      const firstText = events.findIndex((event) => event.type === 'text-delta');
      const lastReasoning = events.findLastIndex((event) => event.type === 'reasoning-delta');
      expect(lastReasoning).toBeLessThan(firstText);
    }

    const starts = events.filter((event) => event.type === 'tool-call-start');
    expect(starts.map((event) => [event.index, event.id, event.name])).toEqual(
      response.toolCalls.map((call, index) => [index, call.id, call.name]),
    );
    for (const [index, call] of entry.expected.tool_calls.entries()) {
      const deltas = events
        .filter((event) => event.type === 'tool-call-delta' && event.index === index)
        .map((event) => (event.type === 'tool-call-delta' ? event.argumentsDelta : ''))
        .join('');
      expect(deltas).toBe(call.input_json_raw ?? call.arguments_raw ?? '');
    }
  });
});

it('covers every recording in the manifest', () => {
  expect(entries).toHaveLength(14);
  expect(server.requests).toHaveLength(14);
});
