import { defineTool, type Message, type ModelRequest, openai } from '@baton/core';
import { type ProviderServer, startProviderServer } from '@baton/core/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { chunk, collect, finish, hello, rejection, streamFailure } from './helpers.js';

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

const compatible = (options: Parameters<typeof openai>[1] = {}) =>
  openai('local-model', { baseURL: server.openaiBaseURL, apiKey: 'test-key', maxRetries: 0, ...options });
/** OpenAI semantics (a gateway in front of api.openai.com) on the local server. */
const official = (model = 'gpt-4.1-mini', options: Parameters<typeof openai>[1] = {}) =>
  openai(model, {
    baseURL: server.openaiBaseURL,
    apiKey: 'test-key',
    provider: 'openai',
    maxRetries: 0,
    ...options,
  });

const weather = defineTool({
  name: 'weather',
  description: 'Weather for a city',
  input: z.strictObject({ city: z.string() }),
  execute: async ({ city }) => ({ city, sky: 'clear' }),
});
const search = defineTool({
  name: 'search',
  description: 'Search the docs',
  input: z.object({ query: z.string(), limit: z.number().optional() }),
  execute: async () => [],
});

const conversation: Message[] = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'Weather in Paris and Rome?' },
  {
    role: 'assistant',
    content: '',
    toolCalls: [
      { id: 'call_a', name: 'weather', arguments: { city: 'Paris' } },
      { id: 'call_b', name: 'weather', arguments: { city: 'Rome' } },
    ],
  },
  { role: 'tool', toolCallId: 'call_a', toolName: 'weather', content: '{"sky":"clear"}' },
  { role: 'tool', toolCallId: 'call_b', toolName: 'weather', content: '{"sky":"rain"}' },
];

describe('openai(): the request on the wire', () => {
  it('maps messages, tools, tool choice, response schema and limits for OpenAI', async () => {
    server.push({ type: 'turn', text: 'Paris clear, Rome rain.' });
    const request: ModelRequest = {
      messages: conversation,
      tools: [weather.spec, search.spec],
      toolChoice: { name: 'weather' },
      responseSchema: { name: 'forecast summary', schema: { type: 'object', properties: {} } },
      maxOutputTokens: 300,
      temperature: 0.2,
    };
    const response = await official().generate(request);
    expect(response.text).toBe('Paris clear, Rome rain.');
    const sent = server.requests.at(-1);
    expect(sent?.path).toBe('/v1/chat/completions');
    expect(sent?.headers.authorization).toBe('Bearer test-key');
    const body = sent?.body as Record<string, unknown>;
    expect(body.model).toBe('gpt-4.1-mini');
    expect(body.messages).toEqual([
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: 'Weather in Paris and Rome?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_a', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } },
          { id: 'call_b', type: 'function', function: { name: 'weather', arguments: '{"city":"Rome"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_a', content: '{"sky":"clear"}' },
      { role: 'tool', tool_call_id: 'call_b', content: '{"sky":"rain"}' },
    ]);
    const tools = body.tools as Array<{ type: string; function: Record<string, unknown> }>;
    expect(tools[0]).toEqual({
      type: 'function',
      function: {
        name: 'weather',
        description: 'Weather for a city',
        parameters: weather.spec.parameters,
        strict: true,
      },
    });
    expect(tools[1]?.function.strict).toBeUndefined();
    expect(tools[1]?.function.parameters).toEqual(search.spec.parameters);
    expect(body.tool_choice).toEqual({ type: 'function', function: { name: 'weather' } });
    expect(body.response_format).toEqual({
      type: 'json_schema',
      json_schema: { name: 'forecast_summary', schema: { type: 'object', properties: {} }, strict: false },
    });
    expect(body.max_completion_tokens).toBe(300);
    expect(body.max_tokens).toBeUndefined();
    expect(body.temperature).toBe(0.2);
    expect(body.stream).toBeUndefined();
  });

  it('speaks the common dialect to compatible servers: max_tokens, no strict flag', async () => {
    server.push({ type: 'turn', text: 'ok' });
    const model = compatible();
    expect(model.provider).toBe('openai-compatible');
    await model.generate({
      messages: conversation,
      tools: [weather.spec],
      maxOutputTokens: 50,
      toolChoice: 'required',
    });
    const body = server.requests.at(-1)?.body as Record<string, unknown>;
    expect(body.max_tokens).toBe(50);
    expect(body.max_completion_tokens).toBeUndefined();
    expect((body.tools as Array<{ function: Record<string, unknown> }>)[0]?.function.strict).toBeUndefined();
    expect(body.tool_choice).toBe('required');
  });

  it('asks for usage in the stream and leaves temperature out for reasoning models', async () => {
    server.push({ type: 'turn', text: 'ok' });
    await collect(official('o4-mini'), { ...hello, temperature: 0.3, maxOutputTokens: 20 });
    const body = server.requests.at(-1)?.body as Record<string, unknown>;
    expect(body.stream).toBe(true);
    expect(body.stream_options).toEqual({ include_usage: true });
    expect(body.temperature).toBeUndefined();
    expect(body.max_completion_tokens).toBe(20);
  });

  it('merges extraBody and sends custom headers', async () => {
    server.push({ type: 'turn', text: 'ok' });
    await compatible({ extraBody: { reasoning_effort: 'low' }, headers: { 'x-tenant': 'acme' } }).generate(
      hello,
    );
    const sent = server.requests.at(-1);
    expect(sent?.body.reasoning_effort).toBe('low');
    expect(sent?.headers['x-tenant']).toBe('acme');
  });

  it('needs no API key for a compatible server', async () => {
    vi.stubEnv('OPENAI_API_KEY', '');
    server.push({ type: 'turn', text: 'keyless' });
    const model = openai('llama3.1:8b', { baseURL: server.openaiBaseURL, maxRetries: 0 });
    expect((await model.generate(hello)).text).toBe('keyless');
  });

  it('says what to set when api.openai.com has no key', async () => {
    vi.stubEnv('OPENAI_API_KEY', '');
    vi.stubEnv('OPENAI_BASE_URL', '');
    const error = await rejection(openai('gpt-4.1', { maxRetries: 0 }).generate(hello));
    expect(error.code).toBe('MODEL_NOT_CONFIGURED');
    expect(error.message).toContain('OPENAI_API_KEY');
    expect(error.retryable).toBe(false);
  });
});

describe('openai(): responses from quirky servers', () => {
  const recording = (...lines: string[]) => ({
    type: 'recording' as const,
    format: 'chunks' as const,
    content: lines.join('\n'),
  });

  it('assembles arguments split into one-character chunks, from a scripted turn', async () => {
    server.push({
      type: 'turn',
      text: 'Checking.',
      toolCalls: [
        { name: 'weather', args: { city: 'Paris' }, id: 'call_p' },
        { name: 'weather', args: { city: 'Rome' }, id: 'call_r' },
      ],
      chunkSize: 1,
      usage: { inputTokens: 100, outputTokens: 20, cachedInputTokens: 60 },
    });
    const { events, response } = await collect(official('gpt-4.1-mini'));
    expect(response.toolCalls).toEqual([
      { id: 'call_p', name: 'weather', arguments: { city: 'Paris' } },
      { id: 'call_r', name: 'weather', arguments: { city: 'Rome' } },
    ]);
    expect(response.finishReason).toBe('tool-calls');
    expect(events.filter((event) => event.type === 'tool-call-delta').length).toBeGreaterThan(20);
    expect(response.usage).toEqual({
      inputTokens: 100,
      outputTokens: 20,
      cachedInputTokens: 60,
      reasoningTokens: 0,
    });
    // 40 plain input at $0.40, 60 cached at $0.10, 20 output at $1.60 per million.
    expect(response.costUsd).toBeCloseTo((40 * 0.4 + 60 * 0.1 + 20 * 1.6) / 1e6, 12);
  });

  it('ignores an empty tool_calls array and a placeholder first chunk', async () => {
    server.push(
      recording(
        chunk({ role: 'assistant', content: '', tool_calls: [] }),
        chunk({ content: 'Just text.', tool_calls: [] }),
        finish('stop'),
      ),
    );
    const { response } = await collect(compatible());
    expect(response.text).toBe('Just text.');
    expect(response.toolCalls).toEqual([]);
    expect(response.finishReason).toBe('stop');
    expect(response.usage).toBeUndefined();
    expect(response.costUsd).toBeUndefined();
  });

  it('follows tool deltas with no index, and parallel calls that all say index 0', async () => {
    server.push(
      recording(
        chunk({
          tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"ci' } }],
        }),
        chunk({ tool_calls: [{ function: { arguments: 'ty":"Oslo"}' } }] }),
        chunk({
          tool_calls: [
            { index: 0, id: 'call_2', type: 'function', function: { name: 'weather', arguments: '' } },
          ],
        }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":"Bergen"}' } }] }),
        finish('tool_calls'),
      ),
    );
    const { events, response } = await collect(compatible());
    expect(response.toolCalls).toEqual([
      { id: 'call_1', name: 'weather', arguments: { city: 'Oslo' } },
      { id: 'call_2', name: 'weather', arguments: { city: 'Bergen' } },
    ]);
    expect(events.filter((event) => event.type === 'tool-call-start').map((event) => event.index)).toEqual([
      0, 1,
    ]);
  });

  it('reports invalid argument JSON on the call instead of failing, and reads empty arguments as {}', async () => {
    server.push(
      recording(
        chunk({
          tool_calls: [
            {
              index: 0,
              id: 'call_bad',
              type: 'function',
              function: { name: 'weather', arguments: '{"city": Par' },
            },
          ],
        }),
        chunk({
          tool_calls: [
            { index: 1, id: 'call_empty', type: 'function', function: { name: 'now', arguments: '' } },
          ],
        }),
        chunk({
          tool_calls: [
            {
              index: 2,
              id: 'call_twice',
              type: 'function',
              function: { name: 'weather', arguments: '"{\\"city\\":\\"Nice\\"}"' },
            },
          ],
        }),
        finish('tool_calls'),
      ),
    );
    const { response } = await collect(compatible());
    const [bad, empty, twice] = response.toolCalls;
    expect(bad?.arguments).toBeUndefined();
    expect(bad?.argumentsError).toMatch(/not valid JSON.*\{"city": Par/);
    expect(empty).toEqual({ id: 'call_empty', name: 'now', arguments: {} });
    expect(twice?.arguments).toEqual({ city: 'Nice' });

    server.push({
      type: 'turn',
      toolCalls: [{ name: 'weather', rawArguments: '{"city":' }],
    });
    const generated = await compatible().generate(hello);
    expect(generated.toolCalls[0]?.argumentsError).toContain('not valid JSON');
  });

  it('keeps reasoning apart from text: reasoning_content, reasoning, and Mistral thinking parts', async () => {
    server.push(
      recording(
        chunk({ reasoning: 'Groq-style ' }),
        chunk({ content: [{ type: 'thinking', thinking: [{ type: 'text', text: 'mistral thought' }] }] }),
        chunk({ content: [{ type: 'text', text: 'Answer.' }] }),
        finish('stop'),
      ),
    );
    const { events, response } = await collect(compatible());
    expect(response.reasoning).toBe('Groq-style mistral thought');
    expect(response.text).toBe('Answer.');
    expect(events.filter((event) => event.type === 'reasoning-delta')).toHaveLength(2);

    server.push({
      type: 'recording',
      format: 'json',
      content: JSON.stringify({
        id: 'cmpl-m',
        model: 'magistral-small',
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant',
              content: [
                { type: 'thinking', thinking: [{ type: 'text', text: 'Think first.' }] },
                { type: 'text', text: 'Then answer.' },
              ],
              tool_calls: [
                {
                  id: 'call_o',
                  type: 'function',
                  function: { name: 'weather', arguments: { city: 'Lyon' } },
                },
              ],
            },
            finish_reason: 'stop',
          },
        ],
      }),
    });
    const generated = await compatible().generate(hello);
    expect(generated.reasoning).toBe('Think first.');
    expect(generated.text).toBe('Then answer.');
    // Arguments sent as an object, and `stop` on a turn that calls a tool.
    expect(generated.toolCalls).toEqual([{ id: 'call_o', name: 'weather', arguments: { city: 'Lyon' } }]);
    expect(generated.finishReason).toBe('tool-calls');
    expect(generated.finishReasonRaw).toBe('stop');
  });

  it('maps a refusal to content-filter with its text', async () => {
    server.push({
      type: 'recording',
      format: 'json',
      content: JSON.stringify({
        id: 'r',
        model: 'gpt-4.1',
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: null, refusal: 'I cannot help with that.' },
            finish_reason: 'stop',
          },
        ],
      }),
    });
    const response = await official().generate(hello);
    expect(response.text).toBe('I cannot help with that.');
    expect(response.finishReason).toBe('content-filter');
  });

  it('fails a truncated stream or a malformed chunk with PROVIDER_RESPONSE_INVALID', async () => {
    server.push({ type: 'turn', text: 'cut short here', interrupt: { afterEvents: 3, mode: 'end' } });
    const truncated = await streamFailure(compatible());
    expect(truncated.error.code).toBe('PROVIDER_RESPONSE_INVALID');
    expect(truncated.error.retryable).toBe(true);
    expect(truncated.events.length).toBeGreaterThan(0);

    server.push(recording(chunk({ content: 'fine' }), '{"choices": [{"delta": {"content": "br'));
    const malformed = await streamFailure(compatible());
    expect(malformed.error.code).toBe('PROVIDER_RESPONSE_INVALID');

    server.push(recording(JSON.stringify({ choices: 'not-an-array' })));
    expect((await streamFailure(compatible())).error.code).toBe('PROVIDER_RESPONSE_INVALID');

    server.push({ type: 'recording', format: 'json', content: '{"object":"list","data":[]}' });
    expect((await rejection(compatible().generate(hello))).code).toBe('PROVIDER_RESPONSE_INVALID');
  });
});

describe('openai(): errors', () => {
  it.each([
    [401, undefined, 'PROVIDER_AUTH', false],
    [403, undefined, 'PROVIDER_AUTH', false],
    [404, undefined, 'PROVIDER_NOT_FOUND', false],
    [400, undefined, 'PROVIDER_BAD_REQUEST', false],
    [422, undefined, 'PROVIDER_BAD_REQUEST', false],
    [400, 'context_length_exceeded', 'PROVIDER_CONTEXT_LENGTH', false],
    [429, 'insufficient_quota', 'PROVIDER_RATE_LIMIT', false],
    [429, undefined, 'PROVIDER_RATE_LIMIT', true],
    [500, undefined, 'PROVIDER_SERVER', true],
    [502, undefined, 'PROVIDER_SERVER', true],
    [503, undefined, 'PROVIDER_OVERLOADED', true],
  ] as const)('HTTP %i %s → %s (retryable %s)', async (status, code, expected, retryable) => {
    server.push({ type: 'error', status, message: `scripted ${status}`, ...(code ? { code } : {}) });
    const error = await rejection(official().generate(hello));
    expect(error.code).toBe(expected);
    expect(error.retryable).toBe(retryable);
    expect(error.category).toBe('provider');
    const index = server.requests.length - 1;
    expect(error.details).toMatchObject({
      status,
      provider: 'openai',
      model: 'gpt-4.1-mini',
      providerMessage: `scripted ${status}`,
      requestId: `req_${index}`,
    });
  });

  it('reads retry-after into details.retryAfterMs', async () => {
    server.push({ type: 'error', status: 429, headers: { 'retry-after': '7' } });
    expect((await rejection(official().generate(hello))).details?.retryAfterMs).toBe(7000);
    server.push({ type: 'error', status: 429, headers: { 'retry-after-ms': '1234' } });
    expect((await rejection(official().generate(hello))).details?.retryAfterMs).toBe(1234);
  });

  it('maps an error event inside the stream by its type', async () => {
    server.push({
      type: 'turn',
      text: 'partial answer',
      interrupt: { afterEvents: 2, mode: 'error', error: { type: 'server_error', message: 'upstream died' } },
    });
    const { error, events } = await streamFailure(compatible());
    expect(error.code).toBe('PROVIDER_SERVER');
    expect(error.details?.providerMessage).toBe('upstream died');
    expect(events.some((event) => event.type === 'text-delta')).toBe(true);
  });

  it('maps a refused connection to PROVIDER_NETWORK', async () => {
    const closed = await startProviderServer();
    const url = closed.openaiBaseURL;
    await closed.close();
    const error = await rejection(openai('m', { baseURL: url, apiKey: 'k', maxRetries: 0 }).generate(hello));
    expect(error.code).toBe('PROVIDER_NETWORK');
    expect(error.retryable).toBe(true);
  });
});
