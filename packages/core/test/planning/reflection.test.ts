import {
  Budget,
  defineAgent,
  defineTool,
  type ModelRequest,
  type RunEvent,
  RunEvents,
  run,
  unwrapUntrusted,
} from '@baton/core';
import { scriptedModel } from '@baton/core/testing';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { json, kindOf } from './script.js';

const revenue = defineTool({
  name: 'revenue',
  description: 'Quarterly revenue',
  input: z.object({ quarter: z.string() }),
  execute: ({ quarter }) => ({ quarter, revenueMUsd: quarter === 'Q2' ? 42 : 37 }),
});

const answerSchema = z.object({ q2RevenueMUsd: z.number(), source: z.string() });

function agentWith(
  model: ReturnType<typeof scriptedModel>,
  reflect: Parameters<typeof defineAgent>[0]['reflect'],
) {
  return defineAgent({
    name: 'analyst',
    description: 'Answers revenue questions',
    instructions: 'Look the figure up, then answer as JSON.',
    model,
    tools: [revenue],
    output: answerSchema,
    reflect,
  });
}

function collect(events: RunEvents): RunEvent[] {
  const seen: RunEvent[] = [];
  events.on('*', (event) => seen.push(event));
  return seen;
}

describe('reflection', () => {
  it('turns a wrong answer into the corrected one, reading the tool results as data', async () => {
    let reviewed: ModelRequest | undefined;
    const model = scriptedModel((request: ModelRequest, call: number) => {
      if (kindOf(request) === 'review') {
        reviewed = request;
        return json({
          verdict: 'REVISED',
          issues: ['Q2 revenue is 42, not 37: the answer used the Q1 figure'],
          answer: JSON.stringify({ q2RevenueMUsd: 42, source: 'revenue' }),
        });
      }
      if (call === 0) return { toolCalls: [{ name: 'revenue', args: { quarter: 'Q2' } }] };
      return JSON.stringify({ q2RevenueMUsd: 37, source: 'revenue' });
    });
    const exporter = new InMemorySpanExporter();
    const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).getTracer(
      't',
    );
    const events = new RunEvents();
    const seen = collect(events);
    const ledger = new Budget({ maxTokens: 10_000 });
    const result = await run(agentWith(model, true), 'What was Q2 revenue?', {
      events,
      tracer,
      budget: ledger,
    });

    expect(result.status).toBe('completed');
    expect(result.output).toEqual({ q2RevenueMUsd: 42, source: 'revenue' });
    expect(result.partial.text).toBe(JSON.stringify({ q2RevenueMUsd: 42, source: 'revenue' }));
    // The review is a step of the run, charged to its ledger.
    expect(result.steps).toBe(3);
    expect(ledger.used.steps).toBe(3);
    expect(seen.find((event) => event.type === 'reflection.reviewed')).toMatchObject({
      verdict: 'revised',
      revision: 1,
      issues: ['Q2 revenue is 42, not 37: the answer used the Q1 figure'],
    });
    // The reviewer read the tool results wrapped as untrusted data, not as instructions.
    const user = reviewed?.messages.find((message) => message.role === 'user')?.content ?? '';
    expect(unwrapUntrusted(user)).toMatchObject({
      source: 'tool:results',
      value: [{ tool: 'revenue', result: { quarter: 'Q2', revenueMUsd: 42 } }],
    });
    expect(reviewed?.tools).toBeUndefined();
    const span = exporter.getFinishedSpans().find((entry) => entry.name === 'reflect analyst');
    expect(span?.attributes['baton.reflection.verdict']).toBe('revised');
  });

  it('leaves a right answer alone (one review call, nothing revised)', async () => {
    const model = scriptedModel((request: ModelRequest, call: number) => {
      if (kindOf(request) === 'review') return 'APPROVED';
      if (call === 0) return { toolCalls: [{ name: 'revenue', args: { quarter: 'Q2' } }] };
      return JSON.stringify({ q2RevenueMUsd: 42, source: 'revenue' });
    });
    const events = new RunEvents();
    const seen = collect(events);
    const result = await run(agentWith(model, { maxRevisions: 2 }), 'What was Q2 revenue?', { events });
    expect(result.status).toBe('completed');
    expect(result.output).toEqual({ q2RevenueMUsd: 42, source: 'revenue' });
    expect(model.requests.filter((request) => kindOf(request) === 'review')).toHaveLength(1);
    expect(
      seen.filter((event) => event.type === 'reflection.reviewed').map((event) => event.verdict),
    ).toEqual(['approved']);
  });

  it('bounds revisions, refuses a correction that breaks the schema, and uses its own model and rubric', async () => {
    const reviewer = scriptedModel([
      json({
        verdict: 'REVISED',
        issues: ['wrong'],
        answer: JSON.stringify({ q2RevenueMUsd: 41, source: 'revenue' }),
      }),
      json({ verdict: 'REVISED', issues: ['still wrong'], answer: 'not json at all' }),
    ]);
    const model = scriptedModel([
      { toolCalls: [{ name: 'revenue', args: { quarter: 'Q2' } }] },
      JSON.stringify({ q2RevenueMUsd: 37, source: 'revenue' }),
    ]);
    const events = new RunEvents();
    const seen = collect(events);
    const agent = agentWith(model, {
      model: reviewer,
      rubric: 'Figures in millions of USD.',
      maxRevisions: 2,
    });
    const result = await run(agent, 'Q2?', { events });
    expect(result.status).toBe('completed');
    expect(result.output).toEqual({ q2RevenueMUsd: 41, source: 'revenue' });
    expect(
      seen.filter((event) => event.type === 'reflection.reviewed').map((event) => event.verdict),
    ).toEqual(['revised', 'rejected']);
    expect(reviewer.requests).toHaveLength(2);
    expect(reviewer.requests[0]?.messages[0]?.content).toContain('Also: Figures in millions of USD.');
  });

  it('skips the review when no step is left, keeping the answer and saying so', async () => {
    const model = scriptedModel([JSON.stringify({ q2RevenueMUsd: 42, source: 'memory' })]);
    const events = new RunEvents();
    const seen = collect(events);
    const agent = defineAgent({
      name: 'short',
      description: 'One step',
      instructions: 'i',
      model,
      output: answerSchema,
      reflect: true,
      limits: { maxSteps: 1 },
    });
    const result = await run(agent, 'Q2?', { events });
    expect(result.status).toBe('completed');
    expect(seen.find((event) => event.type === 'reflection.reviewed')).toMatchObject({ verdict: 'skipped' });
  });
});

describe('grounding', () => {
  const read = defineTool({
    name: 'read_document',
    description: 'Reads a document',
    input: z.object({ id: z.string() }),
    execute: ({ id }) => ({ id, text: `text of ${id}` }),
  });
  const findings = z.object({
    claims: z.array(z.object({ claim: z.string(), sources: z.array(z.string()) })),
  });
  const cited = (output: z.infer<typeof findings>) => output.claims.flatMap((claim) => claim.sources);

  it('sends back an answer citing a source no tool returned; the corrected answer completes', async () => {
    const model = scriptedModel([
      { toolCalls: [{ name: 'read_document', args: { id: 'budgets' } }] },
      JSON.stringify({
        claims: [
          { claim: 'a', sources: ['budgets'] },
          { claim: 'b', sources: ['made-up'] },
        ],
      }),
      JSON.stringify({ claims: [{ claim: 'a', sources: ['budgets'] }] }),
    ]);
    const events = new RunEvents();
    const seen = collect(events);
    const agent = defineAgent({
      name: 'cited',
      description: 'Cites',
      instructions: 'i',
      model,
      tools: [read],
      output: findings,
      grounding: { cited },
    });
    const result = await run(agent, 'task', { events });
    expect(result.status).toBe('completed');
    expect(result.output).toEqual({ claims: [{ claim: 'a', sources: ['budgets'] }] });
    expect(seen.filter((event) => event.type === 'grounding.checked').map((event) => event.ok)).toEqual([
      false,
      true,
    ]);
    expect(model.requests[2]?.messages.at(-1)?.content).toContain('"made-up"');
  });

  it('fails with OUTPUT_UNGROUNDED when the model keeps citing what it never read', async () => {
    const fake = JSON.stringify({ claims: [{ claim: 'a', sources: ['nowhere'] }] });
    const model = scriptedModel([fake, fake]);
    const agent = defineAgent({
      name: 'fabricator',
      description: 'Cites',
      instructions: 'i',
      model,
      tools: [read],
      output: findings,
      grounding: { cited },
    });
    const result = await run(agent, 'task');
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('OUTPUT_UNGROUNDED');
    expect(result.error?.details).toMatchObject({ unknown: ['nowhere'] });
  });
});
