import type { AgentLike } from '@baton/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { expect, it } from 'vitest';
import { served } from './fixtures/members.js';
import { researchPipeline } from './fixtures/scenarios.js';

it('one trace: invoke_workflow at the root, a handoff span and an invoke_agent span per member invocation', async () => {
  const exporter = new InMemorySpanExporter();
  const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).getTracer(
    't',
  );
  const local = (name: keyof typeof served): AgentLike => served[name].make();
  const result = await researchPipeline(local).run({ topic: 'agents' }, { tracer });
  const spans = exporter.getFinishedSpans();
  const root = spans.find((span) => span.name === 'invoke_workflow research');
  expect(root?.attributes).toMatchObject({
    'gen_ai.operation.name': 'invoke_workflow',
    'baton.team': 'research',
    'baton.run.status': 'completed',
    'baton.stop_reason': 'completed',
    'baton.rounds': 2,
  });
  expect(result.spanId).toBe(root?.spanContext().spanId);
  const handoffs = spans.filter((span) => span.name.startsWith('handoff '));
  expect(handoffs).toHaveLength(5);
  for (const handoff of handoffs) {
    expect(handoff.parentSpanContext?.spanId).toBe(root?.spanContext().spanId);
    expect(handoff.attributes['messaging.operation.type']).toBe('send');
  }
  const agents = spans.filter((span) => span.name.startsWith('invoke_agent '));
  expect(agents.map((span) => span.name).sort()).toEqual([
    'invoke_agent researcher',
    'invoke_agent reviewer',
    'invoke_agent reviewer',
    'invoke_agent writer',
    'invoke_agent writer',
  ]);
  const handoffIds = new Set(handoffs.map((span) => span.spanContext().spanId));
  expect(agents.every((span) => handoffIds.has(span.parentSpanContext?.spanId ?? ''))).toBe(true);
  // Each member's span id in the TeamResult points at its own invoke_agent span.
  const writerSpan = agents.find((span) => span.spanContext().spanId === result.members.writer?.spanId);
  expect(writerSpan?.name).toBe('invoke_agent writer');
  expect(new Set(spans.map((span) => span.spanContext().traceId))).toEqual(new Set([result.traceId]));
  expect(spans.some((span) => span.name.startsWith('chat ') && span.name !== 'chat ')).toBe(true);
});

it("a team's span carries its budget and what it used, so a trace that was never journaled shows both", async () => {
  const exporter = new InMemorySpanExporter();
  const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).getTracer(
    't',
  );
  const local = (name: keyof typeof served): AgentLike => served[name].make();
  const result = await researchPipeline(local, { budgetTokens: 1_000_000 }).run(
    { topic: 'agents' },
    { tracer },
  );
  expect(result.status).toBe('completed');
  const root = exporter.getFinishedSpans().find((span) => span.name === 'invoke_workflow research');
  expect(root?.attributes).toMatchObject({
    'baton.budget.limit.maxTokens': 1_000_000,
    'baton.budget.used.tokens': result.budget.used.tokens,
    'baton.budget.used.steps': result.budget.used.steps,
    'baton.budget.used.costUsd': result.budget.used.costUsd,
  });
  expect(result.budget.used.tokens).toBeGreaterThan(0);
  // Each member's span carries its own limits (steps at least) against what its run spent.
  const writer = exporter
    .getFinishedSpans()
    .find((span) => span.spanContext().spanId === result.members.writer?.spanId);
  expect(writer?.attributes['baton.budget.limit.maxSteps']).toBeGreaterThan(0);
  expect(writer?.attributes['baton.budget.used.steps']).toBeGreaterThan(0);
});
