import { anthropic, defineAgent, defineTool, type Model, openai, run, stream } from '@baton/core';
import { type ProviderServer, type ReceivedRequest, startProviderServer } from '@baton/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';

// A full agent run (tool call → tool result → final answer) through the official SDK clients against the
// local server, checking that what reached the server is a valid request for that API.

let server: ProviderServer;
beforeAll(async () => {
  server = await startProviderServer({
    // First call of a run: two parallel tool calls; the call after the tool results: the answer.
    handler: (request) => {
      const messages = request.body.messages as unknown[];
      const answered = JSON.stringify(messages).includes('sunny');
      if (answered)
        return {
          type: 'turn',
          text: 'Paris is sunny and Rome is rainy.',
          usage: { inputTokens: 120, outputTokens: 9 },
        };
      return {
        type: 'turn',
        text: request.wire === 'anthropic' ? 'Checking both cities.' : '',
        toolCalls: [
          { name: 'weather', args: { city: 'Paris' } },
          { name: 'weather', args: { city: 'Rome' } },
        ],
        usage: { inputTokens: 80, outputTokens: 30 },
      };
    },
  });
});
afterAll(async () => {
  await server.close();
});

const SKIES: Record<string, string> = { Paris: 'sunny', Rome: 'rainy' };
const weather = defineTool({
  name: 'weather',
  description: 'Current weather for a city',
  input: z.strictObject({ city: z.string() }),
  execute: async ({ city }) => ({ city, sky: SKIES[city] ?? 'unknown' }),
});

function forecaster(model: Model) {
  return defineAgent({
    name: 'forecaster',
    description: 'Reports the weather',
    instructions: 'You report the weather. Use the weather tool.',
    model,
    tools: [weather],
  });
}

type Json = Record<string, unknown>;

/** Chat Completions rules: system first, every tool message answers a call of the assistant turn before it. */
function expectValidOpenAIBody(body: Json): void {
  const messages = body.messages as Json[];
  expect(messages[0]?.role).toBe('system');
  expect(String(messages[0]?.content)).toContain('You report the weather.');
  expect(messages.slice(1).some((message) => message.role === 'system')).toBe(false);
  for (const [index, message] of messages.entries()) {
    if (message.role !== 'assistant' || !Array.isArray(message.tool_calls)) continue;
    const ids = (message.tool_calls as Json[]).map((call) => call.id);
    const results = messages.slice(index + 1, index + 1 + ids.length);
    expect(results.map((result) => result.role)).toEqual(ids.map(() => 'tool'));
    expect(results.map((result) => result.tool_call_id)).toEqual(ids);
    for (const call of message.tool_calls as Array<{ function: { arguments: string } }>) {
      expect(() => JSON.parse(call.function.arguments)).not.toThrow();
    }
  }
  const tools = body.tools as Array<{ type: string; function: Json }>;
  expect(tools).toEqual([
    {
      type: 'function',
      function: {
        name: 'weather',
        description: 'Current weather for a city',
        parameters: weather.spec.parameters,
        strict: true,
      },
    },
  ]);
}

/** Messages API rules: system at the top level, alternating roles from user, tool_result blocks first in the next user turn, paired by id. */
function expectValidAnthropicBody(body: Json): void {
  expect(String(body.system)).toContain('You report the weather.');
  expect(typeof body.max_tokens).toBe('number');
  const messages = body.messages as Array<{ role: string; content: Json[] }>;
  expect(messages.map((message) => message.role)).toEqual(
    messages.map((_, index) => (index % 2 === 0 ? 'user' : 'assistant')),
  );
  for (const [index, message] of messages.entries()) {
    const uses = message.content.filter((block) => block.type === 'tool_use');
    if (message.role !== 'assistant' || uses.length === 0) continue;
    const next = messages[index + 1]?.content ?? [];
    const results = next.slice(0, uses.length);
    expect(results.map((block) => block.type)).toEqual(uses.map(() => 'tool_result'));
    expect(results.map((block) => block.tool_use_id)).toEqual(uses.map((block) => block.id));
  }
  expect(body.tools).toEqual([
    { name: 'weather', description: 'Current weather for a city', input_schema: weather.spec.parameters },
  ]);
}

const providers = [
  {
    wire: 'openai' as const,
    model: () =>
      openai('gpt-4.1-mini', {
        baseURL: server.openaiBaseURL,
        apiKey: 'k',
        provider: 'openai',
        maxRetries: 0,
      }),
    validate: expectValidOpenAIBody,
  },
  {
    wire: 'anthropic' as const,
    model: () => anthropic('claude-haiku-4-5', { baseURL: server.url, apiKey: 'k', maxRetries: 0 }),
    validate: expectValidAnthropicBody,
  },
];

describe.each(providers)('an agent run over $wire', ({ wire, model, validate }) => {
  it.each(['run', 'stream'] as const)(
    'calls the tool, feeds the results back and answers (%s)',
    async (mode) => {
      const start = server.requests.length;
      const agent = forecaster(model());
      let deltas = '';
      let result: Awaited<ReturnType<typeof run>>;
      if (mode === 'run') {
        result = await run(agent, 'Weather in Paris and Rome?');
      } else {
        const events = stream(agent, 'Weather in Paris and Rome?');
        for await (const event of events)
          if (event.type === 'model.delta' && event.kind === 'text') deltas += event.text;
        result = await events.result;
      }

      expect(result.status).toBe('completed');
      expect(result.output).toBe('Paris is sunny and Rome is rainy.');
      expect(result.steps).toBe(2);
      expect(result.usage.inputTokens).toBe(200);
      expect(result.usage.outputTokens).toBe(39);
      expect(result.costUsd).toBeGreaterThan(0);
      if (mode === 'stream') expect(deltas).toContain('Paris is sunny and Rome is rainy.');

      const sent: ReceivedRequest[] = server.requests.slice(start);
      expect(sent).toHaveLength(2);
      for (const request of sent) {
        expect(request.wire).toBe(wire);
        expect(request.stream).toBe(mode === 'stream');
        validate(request.body);
      }
      // The second call carries both tool results, each paired with its call id.
      const second = JSON.stringify(sent[1]?.body.messages);
      expect(second).toContain('sunny');
      expect(second).toContain('rainy');
      if (wire === 'openai') {
        const messages = sent[1]?.body.messages as Json[];
        expect(messages.map((message) => message.role)).toEqual([
          'system',
          'user',
          'assistant',
          'tool',
          'tool',
        ]);
        expect(messages.slice(3).map((message) => message.tool_call_id)).toEqual([
          `call_${start}_0`,
          `call_${start}_1`,
        ]);
      } else {
        const messages = sent[1]?.body.messages as Array<{ role: string; content: Json[] }>;
        expect(messages.map((message) => message.role)).toEqual(['user', 'assistant', 'user']);
        expect(messages[1]?.content.map((block) => block.type)).toEqual(['text', 'tool_use', 'tool_use']);
        expect(messages[2]?.content.map((block) => block.tool_use_id)).toEqual([
          `toolu_${start}_0`,
          `toolu_${start}_1`,
        ]);
      }
    },
  );
});
