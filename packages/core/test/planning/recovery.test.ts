import {
  ASK_HUMAN,
  askHuman,
  defineAgent,
  defineTool,
  escalationStats,
  memoryApprovals,
  type RunEvent,
  RunEvents,
  resume,
  run,
  ToolError,
} from '@baton/core';
import { scriptedModel } from '@baton/core/testing';
import { metrics } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

function collect(events: RunEvents): RunEvent[] {
  const seen: RunEvent[] = [];
  events.on('*', (event) => seen.push(event));
  return seen;
}

describe('fallback tools', () => {
  it('a backup tool answers when the primary is down after its retries, recorded on the span', async () => {
    let primaryCalls = 0;
    const backup = defineTool({
      name: 'backup_search',
      description: 'The backup search API',
      input: z.object({ query: z.string() }),
      execute: ({ query }) => ({ results: [`backup hit for ${query}`] }),
    });
    const primary = defineTool({
      name: 'search',
      description: 'The primary search API',
      input: z.object({ query: z.string() }),
      retry: { attempts: 2, initialDelayMs: 1, maxDelayMs: 1 },
      fallback: backup,
      execute: () => {
        primaryCalls++;
        throw new ToolError('UNAVAILABLE', 'search API is down (503)', { retryable: true });
      },
    });
    const exporter = new InMemorySpanExporter();
    const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).getTracer(
      't',
    );
    const events = new RunEvents();
    const seen = collect(events);
    const model = scriptedModel([{ toolCalls: [{ name: 'search', args: { query: 'budgets' } }] }, 'done']);
    const agent = defineAgent({ name: 'a', description: 'd', instructions: 'i', model, tools: [primary] });
    const result = await run(agent, 'go', { events, tracer });

    expect(result.status).toBe('completed');
    expect(primaryCalls).toBe(2);
    expect(result.partial.toolResults[0]).toMatchObject({
      ok: true,
      data: { results: ['backup hit for budgets'] },
    });
    expect(seen.find((event) => event.type === 'tool.recovered')).toMatchObject({
      strategy: 'fallback',
      fallback: 'backup_search',
      ok: true,
    });
    const span = exporter.getFinishedSpans().find((entry) => entry.name === 'execute_tool search');
    expect(span?.attributes).toMatchObject({
      'baton.tool.fallback': 'backup_search',
      'baton.tool.fallback_ok': true,
    });
  });

  it('a function fallback, and both failing says so', async () => {
    const down = defineTool({
      name: 'quote',
      description: 'Stock quote',
      input: z.object({ symbol: z.string() }),
      fallback: () => {
        throw new Error('cache empty too');
      },
      execute: () => {
        throw new ToolError('UNAVAILABLE', 'quote API down');
      },
    });
    const model = scriptedModel([{ toolCalls: [{ name: 'quote', args: { symbol: 'ACME' } }] }, 'no quote']);
    const result = await run(
      defineAgent({ name: 'a', description: 'd', instructions: 'i', model, tools: [down] }),
      'go',
    );
    expect(result.partial.toolResults[0]?.ok).toBe(false);
    expect(result.partial.toolResults[0]?.error?.message).toContain(
      'the fallback "quote_fallback" failed too',
    );
  });

  it('refuses a fallback riskier than its tool (it would run without the approval the risk asks for)', () => {
    const write = defineTool({
      name: 'write_db',
      description: 'Writes',
      input: z.object({ q: z.string() }),
      risk: 'write',
      execute: () => 'ok',
    });
    expect(() =>
      defineTool({
        name: 'read_db',
        description: 'Reads',
        input: z.object({ q: z.string() }),
        fallback: write,
        execute: () => 'ok',
      }),
    ).toThrow(/no riskier than this one/);
  });
});

describe('modified retry', () => {
  it('an empty search is retried with broader arguments, bounded', async () => {
    const queries: string[] = [];
    const search = defineTool({
      name: 'search',
      description: 'Searches',
      input: z.object({ query: z.string().min(1) }),
      // Broaden: drop the last word each time.
      modifyOnRetry: ({ query }, { error }) =>
        error.code === 'TOOL_EMPTY_RESULT' && query.includes(' ')
          ? { query: query.split(' ').slice(0, -1).join(' ') }
          : undefined,
      execute: ({ query }) => {
        queries.push(query);
        return query === 'agent budgets' ? ['hit'] : [];
      },
    });
    const events = new RunEvents();
    const seen = collect(events);
    const model = scriptedModel([
      { toolCalls: [{ name: 'search', args: { query: 'agent budgets in production' } }] },
      'found it',
    ]);
    const agent = defineAgent({ name: 'a', description: 'd', instructions: 'i', model, tools: [search] });
    const result = await run(agent, 'go', { events });
    expect(result.status).toBe('completed');
    expect(queries).toEqual(['agent budgets in production', 'agent budgets in', 'agent budgets']);
    expect(result.partial.toolResults[0]).toMatchObject({ ok: true, data: ['hit'] });
    expect(
      seen
        .filter((event) => event.type === 'tool.recovered')
        .map((event) => [event.strategy, event.args, event.ok]),
    ).toEqual([
      ['modified_retry', { query: 'agent budgets in' }, false],
      ['modified_retry', { query: 'agent budgets' }, true],
    ]);

    queries.length = 0;
    const never = scriptedModel([
      { toolCalls: [{ name: 'search', args: { query: 'a b c d e f' } }] },
      'nothing',
    ]);
    await run(
      defineAgent({ name: 'b', description: 'd', instructions: 'i', model: never, tools: [search] }),
      'go',
    );
    // The default bound: two modified retries after the first attempt.
    expect(queries).toEqual(['a b c d e f', 'a b c d e', 'a b c d']);
  });
});

describe('human escalation', () => {
  it('ask_human pauses the run on an approval record (reason escalation) and resumes with the answer', async () => {
    const before = escalationStats();
    const model = scriptedModel([
      {
        toolCalls: [
          {
            name: ASK_HUMAN,
            args: { question: 'Which region should the report cover?', choices: ['EU', 'US'] },
          },
        ],
      },
      'Report for the EU.',
    ]);
    const agent = defineAgent({
      name: 'reporter',
      description: 'Writes reports',
      instructions: 'Ask when the task is ambiguous.',
      model,
      tools: [askHuman()],
    });
    const approvals = memoryApprovals();
    const paused = await run(agent, 'Write the quarterly report', { approvals });
    expect(paused.status).toBe('awaiting_approval');
    const [record] = await approvals.list({ status: 'pending' });
    expect(record).toMatchObject({ tool: ASK_HUMAN, reason: 'escalation' });
    expect(record?.preview).toMatchObject({ question: 'Which region should the report cover?' });
    // The model is never offered the answer field: it is the person's.
    expect(JSON.stringify(model.requests[0]?.tools)).not.toContain('"answer"');

    await approvals.decide(
      paused.runId,
      record?.toolCallId as string,
      { decision: 'edit', args: { question: 'Which region should the report cover?', answer: 'EU' } },
      'maria',
    );
    const done = await resume(agent, paused.state as NonNullable<typeof paused.state>, { approvals });
    expect(done.status).toBe('completed');
    expect(done.partial.toolResults[0]).toMatchObject({ ok: true, data: { answered: true, answer: 'EU' } });
    expect(escalationStats().escalations - before.escalations).toBe(1);
  });

  it('counts escalations and runs on OpenTelemetry meters (baton.escalations, baton.escalation.rate)', async () => {
    const added: { name: string; value: number; attributes: unknown }[] = [];
    let observe: ((result: { observe(value: number): void }) => void) | undefined;
    const meter = {
      createCounter: (name: string) => ({
        add: (value: number, attributes: unknown) => added.push({ name, value, attributes }),
      }),
      createObservableGauge: () => ({
        addCallback: (callback: typeof observe) => {
          observe = callback;
        },
      }),
      // The run metrics (steps, latency, tokens) are histograms; this test reads the counters.
      createHistogram: () => ({ record: () => undefined }),
    };
    metrics.setGlobalMeterProvider({ getMeter: () => meter } as never);
    try {
      const model = scriptedModel([
        { toolCalls: [{ name: ASK_HUMAN, args: { question: 'Proceed with the refund?' } }] },
      ]);
      const agent = defineAgent({
        name: 'desk',
        description: 'd',
        instructions: 'i',
        model,
        tools: [askHuman()],
      });
      const paused = await run(agent, 'refund?', { approve: () => undefined });
      expect(paused.status).toBe('awaiting_approval');
      expect(added).toEqual(
        expect.arrayContaining([
          {
            name: 'baton.escalations',
            value: 1,
            attributes: { 'gen_ai.agent.name': 'desk', 'gen_ai.tool.name': ASK_HUMAN },
          },
          expect.objectContaining({ name: 'baton.agent.runs', value: 1 }),
        ]),
      );
      let rate = -1;
      observe?.({ observe: (value) => (rate = value) });
      const stats = escalationStats();
      expect(rate).toBeCloseTo(stats.escalations / stats.runs);
      expect(rate).toBeGreaterThan(0);
    } finally {
      metrics.disable();
    }
  });
});
