import { BatonError, defineAgent, defineTool, run } from '@baton/core';
import { scriptedModel } from '@baton/core/testing';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const tracer = provider.getTracer('test');

afterEach(() => exporter.reset());

const lookup = defineTool({
  name: 'lookup',
  description: 'Looks up',
  input: z.object({ q: z.string() }),
  execute: ({ q }) => `found ${q}`,
});

/** A priced researcher that calls `lookup` once (call `call_a`), then answers. */
function researcher(limits?: Parameters<typeof defineAgent>[0]['limits']) {
  const model = scriptedModel([{ toolCalls: [{ name: 'lookup', args: { q: 'x' }, id: 'call_a' }] }, 'done'], {
    id: 'gpt-4.1-mini',
    provider: 'openai',
    usage: { inputTokens: 100, outputTokens: 20 },
  });
  return defineAgent({
    name: 'researcher',
    description: 'Finds things',
    instructions: 'i',
    model,
    tools: [lookup],
    ...(limits ? { limits } : {}),
  });
}

describe('tracing', () => {
  it('one invoke_agent span with chat and execute_tool children carrying usage and tool attributes', async () => {
    const result = await run(researcher(), 'go', { tracer });
    const spans = exporter.getFinishedSpans();
    const root = spans.find((span) => span.name === 'invoke_agent researcher');
    expect(root).toBeDefined();
    expect(root?.attributes).toMatchObject({
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.agent.name': 'researcher',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4.1-mini',
      'gen_ai.usage.input_tokens': 200,
      'gen_ai.usage.output_tokens': 40,
      'baton.run.id': result.runId,
      'baton.run.status': 'completed',
      'baton.steps': 2,
    });
    expect(root?.attributes['baton.cost_usd']).toBeCloseTo((2 * (100 * 0.4 + 20 * 1.6)) / 1e6, 12);
    const rootId = root?.spanContext().spanId;
    expect(result.traceId).toBe(root?.spanContext().traceId);
    expect(result.spanId).toBe(rootId);

    const chats = spans.filter((span) => span.name === 'chat gpt-4.1-mini');
    expect(chats).toHaveLength(2);
    for (const [index, chat] of chats.entries()) {
      expect(chat.parentSpanContext?.spanId).toBe(rootId);
      expect(chat.attributes).toMatchObject({
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'gpt-4.1-mini',
        'gen_ai.response.model': 'gpt-4.1-mini',
        'gen_ai.usage.input_tokens': 100,
        'gen_ai.usage.output_tokens': 20,
        'baton.step': index + 1,
      });
    }
    const tool = spans.find((span) => span.name === 'execute_tool lookup');
    expect(tool?.parentSpanContext?.spanId).toBe(rootId);
    expect(tool?.attributes).toMatchObject({
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'lookup',
      'gen_ai.tool.call.id': 'call_a',
      'gen_ai.tool.type': 'function',
      'baton.tool.ok': true,
      'baton.step': 1,
    });
    expect(spans.every((span) => span.spanContext().traceId === result.traceId)).toBe(true);
    // Content is opt-in.
    expect(chats[0]?.attributes['gen_ai.input.messages']).toBeUndefined();
  });

  it("the run's span ends with its limits and what it used: steps, tokens, dollars", async () => {
    const agent = researcher({ maxSteps: 6, maxTokens: 5_000, maxCostUsd: 1 });
    const result = await run(agent, 'go', { tracer });
    const root = exporter.getFinishedSpans().find((span) => span.name === 'invoke_agent researcher');
    expect(root?.attributes).toMatchObject({
      'baton.budget.limit.maxSteps': 6,
      'baton.budget.limit.maxTokens': 5_000,
      'baton.budget.limit.maxCostUsd': 1,
      'baton.budget.used.steps': 2,
      'baton.budget.used.tokens': 240,
      'baton.budget.used.costUsd': result.costUsd,
    });
    expect(result.costUsd).toBeGreaterThan(0);
  });

  it('marks failures on the span and captures content only when asked', async () => {
    const model = scriptedModel([{ error: new BatonError('PROVIDER_RATE_LIMIT', 'slow down') }]);
    const agent = defineAgent({ name: 'a', description: 'd', instructions: 'secret prompt', model });
    const result = await run(agent, 'go', { tracer, captureContent: true });
    expect(result.status).toBe('failed');
    const chat = exporter.getFinishedSpans().find((span) => span.name.startsWith('chat'));
    expect(chat?.status.code).toBe(2);
    expect(chat?.attributes['error.type']).toBe('PROVIDER_RATE_LIMIT');
    expect(String(chat?.attributes['gen_ai.input.messages'])).toContain('secret prompt');
    const root = exporter.getFinishedSpans().find((span) => span.name === 'invoke_agent a');
    expect(root?.attributes['baton.run.status']).toBe('failed');
  });

  it('without an SDK, a run still gets a real trace id', async () => {
    const agent = defineAgent({
      name: 'a',
      description: 'd',
      instructions: 'i',
      model: scriptedModel(['x']),
    });
    const result = await run(agent, 'go');
    expect(result.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(result.traceId).not.toBe('0'.repeat(32));
  });
});
