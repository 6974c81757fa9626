import { anthropic, defineTool, type Message } from '@baton/core';
import { type ProviderServer, startProviderServer } from '@baton/core/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { collect, hello, rejection, streamFailure } from './helpers.js';

let server: ProviderServer;
beforeAll(async () => {
  server = await startProviderServer();
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  vi.unstubAllEnvs();
});

const claude = (options: Parameters<typeof anthropic>[1] = {}) =>
  anthropic('claude-sonnet-4-6', { baseURL: server.url, apiKey: 'test-key', maxRetries: 0, ...options });

const weather = defineTool({
  name: 'weather',
  description: 'Weather for a city',
  input: z.strictObject({ city: z.string() }),
  execute: async ({ city }) => ({ city }),
});

const conversation: Message[] = [
  { role: 'system', content: 'You are terse.' },
  { role: 'system', content: 'Answer in English.' },
  { role: 'user', content: 'Weather in Paris and Rome?' },
  {
    role: 'assistant',
    content: 'Let me check.',
    reasoning: [
      { text: 'Two cities: call the tool twice.', signature: 'sig-abc', provider: 'anthropic' },
      { text: '', redactedData: 'opaque==', provider: 'anthropic' },
      { text: 'reasoning from another provider', provider: 'openai' },
    ],
    toolCalls: [
      { id: 'toolu_a', name: 'weather', arguments: { city: 'Paris' } },
      { id: 'toolu_b', name: 'weather', arguments: { city: 'Rome' } },
    ],
  },
  { role: 'tool', toolCallId: 'toolu_a', toolName: 'weather', content: '{"sky":"clear"}' },
  { role: 'tool', toolCallId: 'toolu_b', toolName: 'weather', content: 'city not found', isError: true },
  { role: 'user', content: 'And tomorrow?' },
];

describe('anthropic(): the request on the wire', () => {
  it('puts system at the top level, pairs tool results by id, replays thinking blocks', async () => {
    server.push({ type: 'turn', text: 'Same.' });
    const response = await claude().generate({
      messages: conversation,
      tools: [weather.spec],
      toolChoice: 'required',
      temperature: 0.5,
      responseSchema: {
        name: 'answer',
        schema: { type: 'object', properties: { text: { type: 'string' } } },
      },
    });
    expect(response.text).toBe('Same.');
    const sent = server.requests.at(-1);
    expect(sent?.path).toBe('/v1/messages');
    expect(sent?.headers['anthropic-version']).toBeTruthy();
    const body = sent?.body as Record<string, unknown>;
    expect(body.model).toBe('claude-sonnet-4-6');
    expect(body.system).toBe('You are terse.\n\nAnswer in English.');
    expect(body.max_tokens).toBe(4096);
    expect(body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Weather in Paris and Rome?' }] },
      {
        role: 'assistant',
        content: [
          { type: 'thinking', thinking: 'Two cities: call the tool twice.', signature: 'sig-abc' },
          { type: 'redacted_thinking', data: 'opaque==' },
          { type: 'text', text: 'Let me check.' },
          { type: 'tool_use', id: 'toolu_a', name: 'weather', input: { city: 'Paris' } },
          { type: 'tool_use', id: 'toolu_b', name: 'weather', input: { city: 'Rome' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_a', content: '{"sky":"clear"}' },
          { type: 'tool_result', tool_use_id: 'toolu_b', content: 'city not found', is_error: true },
          { type: 'text', text: 'And tomorrow?' },
        ],
      },
    ]);
    expect(body.tools).toEqual([
      { name: 'weather', description: 'Weather for a city', input_schema: weather.spec.parameters },
    ]);
    expect(body.tool_choice).toEqual({ type: 'any' });
    expect(body.output_config).toEqual({
      format: { type: 'json_schema', schema: { type: 'object', properties: { text: { type: 'string' } } } },
    });
    // API version 2026-10-21 rejects sampling parameters.
    expect(body.temperature).toBeUndefined();
    expect(body.stream).toBeUndefined();
  });

  it('adds thinking, prompt caching and a named tool choice when asked', async () => {
    server.push({ type: 'turn', text: 'ok' });
    await collect(claude({ thinking: { budgetTokens: 2048 }, promptCaching: true }), {
      messages: conversation.slice(0, 3),
      tools: [weather.spec],
      toolChoice: { name: 'weather' },
    });
    const body = server.requests.at(-1)?.body as Record<string, unknown>;
    expect(body.stream).toBe(true);
    expect(body.thinking).toEqual({ type: 'enabled', budget_tokens: 2048 });
    expect(body.max_tokens).toBe(4096 + 2048);
    expect(body.system).toEqual([
      { type: 'text', text: 'You are terse.\n\nAnswer in English.', cache_control: { type: 'ephemeral' } },
    ]);
    expect((body.tools as Array<Record<string, unknown>>)[0]?.cache_control).toEqual({ type: 'ephemeral' });
    expect(body.tool_choice).toEqual({ type: 'tool', name: 'weather' });
  });

  it('rejects a thinking budget below the API minimum at construction', () => {
    expect(() => anthropic('claude-sonnet-4-6', { thinking: { budgetTokens: 10 } })).toThrow(/budgetTokens/);
  });

  it('says what to set without a key', async () => {
    vi.stubEnv('ANTHROPIC_API_KEY', '');
    vi.stubEnv('ANTHROPIC_AUTH_TOKEN', '');
    vi.stubEnv('ANTHROPIC_BASE_URL', '');
    const error = await rejection(anthropic('claude-sonnet-4-6', { maxRetries: 0 }).generate(hello));
    expect(error.code).toBe('MODEL_NOT_CONFIGURED');
    expect(error.message).toContain('ANTHROPIC_API_KEY');
  });
});

describe('anthropic(): responses', () => {
  it('streams thinking with its signature apart from text, and sends it back on the next turn', async () => {
    server.push({
      type: 'turn',
      reasoning: 'The user wants Oslo weather.',
      signature: 'EqQBCgIYAhIM',
      text: 'Checking.',
      toolCalls: [{ name: 'weather', args: { city: 'Oslo' }, id: 'toolu_oslo' }],
      chunkSize: 3,
    });
    const { events, response } = await collect(claude());
    expect(response.reasoning).toBe('The user wants Oslo weather.');
    expect(response.text).toBe('Checking.');
    expect(response.reasoningParts).toEqual([
      { text: 'The user wants Oslo weather.', signature: 'EqQBCgIYAhIM', provider: 'anthropic' },
    ]);
    expect(response.toolCalls).toEqual([{ id: 'toolu_oslo', name: 'weather', arguments: { city: 'Oslo' } }]);
    expect(response.finishReason).toBe('tool-calls');
    const reasoning = events.map((event) => (event.type === 'reasoning-delta' ? event.text : '')).join('');
    expect(reasoning).toBe(response.reasoning);

    server.push({ type: 'turn', text: 'Oslo: snow.' });
    await claude().generate({
      messages: [
        { role: 'user', content: 'Oslo?' },
        {
          role: 'assistant',
          content: response.text,
          toolCalls: response.toolCalls,
          reasoning: response.reasoningParts ?? [],
        },
        { role: 'tool', toolCallId: 'toolu_oslo', toolName: 'weather', content: 'snow' },
      ],
    });
    const messages = server.requests.at(-1)?.body.messages as Array<{ role: string; content: unknown[] }>;
    expect(messages[1]?.content[0]).toEqual({
      type: 'thinking',
      thinking: 'The user wants Oslo weather.',
      signature: 'EqQBCgIYAhIM',
    });
    expect(messages[2]?.content[0]).toEqual({
      type: 'tool_result',
      tool_use_id: 'toolu_oslo',
      content: 'snow',
    });
  });

  it('adds cache reads and writes into inputTokens and prices them apart', async () => {
    server.push({
      type: 'turn',
      text: 'cached',
      usage: { inputTokens: 1000, outputTokens: 100, cachedInputTokens: 600, cacheCreationInputTokens: 300 },
    });
    const response = await claude().generate(hello);
    expect(response.usage).toEqual({
      inputTokens: 1000,
      outputTokens: 100,
      cachedInputTokens: 600,
      cacheCreationInputTokens: 300,
    });
    const wire = server.requests.at(-1);
    expect(wire?.wire).toBe('anthropic');
    // 100 plain at $3, 600 read at $0.30, 300 written at $3.75, 100 output at $15 per million.
    expect(response.costUsd).toBeCloseTo((100 * 3 + 600 * 0.3 + 300 * 3.75 + 100 * 15) / 1e6, 12);
  });

  it('reports invalid tool input JSON on the call and reads an empty input as {}', async () => {
    server.push({
      type: 'turn',
      toolCalls: [
        { name: 'weather', rawArguments: '{"city": "Par', id: 'toolu_bad' },
        { name: 'now', rawArguments: '', id: 'toolu_empty' },
      ],
      chunkSize: 2,
    });
    const { response } = await collect(claude());
    expect(response.toolCalls[0]?.argumentsError).toContain('not valid JSON');
    expect(response.toolCalls[1]).toEqual({ id: 'toolu_empty', name: 'now', arguments: {} });
  });

  it('maps stop reasons: max_tokens → length, refusal → content-filter (raw kept)', async () => {
    server.push({ type: 'turn', text: 'cut', finishReason: 'max_tokens' });
    const long = await claude().generate(hello);
    expect([long.finishReason, long.finishReasonRaw]).toEqual(['length', 'max_tokens']);
    server.push({ type: 'turn', finishReason: 'refusal' });
    const refused = (await collect(claude())).response;
    expect([refused.finishReason, refused.finishReasonRaw, refused.text]).toEqual([
      'content-filter',
      'refusal',
      '',
    ]);
  });

  it('skips event types it does not know and fails a stream cut before message_stop', async () => {
    const lines = [
      {
        type: 'message_start',
        message: { id: 'msg_x', model: 'claude-x', usage: { input_tokens: 3, output_tokens: 1 } },
      },
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hi' } },
      { type: 'brand_new_event', detail: true },
      { type: 'content_block_stop', index: 0 },
      { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 2 } },
      { type: 'message_stop' },
    ].map((line) => JSON.stringify(line));
    server.push({ type: 'recording', format: 'chunks', content: lines.join('\n') });
    const { response } = await collect(claude());
    expect(response.text).toBe('Hi');
    expect(response.usage).toEqual({ inputTokens: 3, outputTokens: 2 });

    server.push({ type: 'recording', format: 'chunks', content: lines.slice(0, 3).join('\n') });
    const cut = await streamFailure(claude());
    expect(cut.error.code).toBe('PROVIDER_RESPONSE_INVALID');
    expect(cut.error.message).toContain('message_stop');
  });
});

describe('anthropic(): errors', () => {
  it.each([
    [529, undefined, undefined, 'PROVIDER_OVERLOADED', true],
    [429, undefined, undefined, 'PROVIDER_RATE_LIMIT', true],
    [500, undefined, undefined, 'PROVIDER_SERVER', true],
    [401, undefined, undefined, 'PROVIDER_AUTH', false],
    [404, undefined, undefined, 'PROVIDER_NOT_FOUND', false],
    [400, undefined, 'max_tokens: 100000 > 64000', 'PROVIDER_BAD_REQUEST', false],
    [400, undefined, 'prompt is too long: 215000 tokens > 200000 maximum', 'PROVIDER_CONTEXT_LENGTH', false],
    [500, 'overloaded_error', undefined, 'PROVIDER_OVERLOADED', true],
  ] as const)('HTTP %i %s %s → %s', async (status, errorType, message, expected, retryable) => {
    server.push({
      type: 'error',
      status,
      ...(errorType ? { errorType } : {}),
      ...(message ? { message } : {}),
    });
    const error = await rejection(claude().generate(hello));
    expect(error.code).toBe(expected);
    expect(error.retryable).toBe(retryable);
    expect(error.details).toMatchObject({
      status,
      provider: 'anthropic',
      requestId: `req_${server.requests.length - 1}`,
    });
  });

  it('maps an overloaded error event in the middle of a stream', async () => {
    server.push({ type: 'turn', text: 'Hello there', interrupt: { afterEvents: 4, mode: 'error' } });
    const { error, events } = await streamFailure(claude());
    expect(error.code).toBe('PROVIDER_OVERLOADED');
    expect(error.retryable).toBe(true);
    expect(events.length).toBeGreaterThan(0);
  });

  it('keeps retry-after-ms', async () => {
    server.push({ type: 'error', status: 429, headers: { 'retry-after-ms': '250' } });
    expect((await rejection(claude().generate(hello))).details?.retryAfterMs).toBe(250);
  });
});
