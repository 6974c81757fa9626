/**
 * The context pipeline inside real runs (issue 13 item 1): compaction happens mid-run and the run still
 * completes with facts found in its first steps; `memory.compacted` events and `chat` span attributes say
 * what each call was spared; the summarizer's usage counts on the run and its budget; the transcript keeps
 * everything; a run can replace the agent's pipeline, and a bad one throws before anything runs.
 */
import {
  Budget,
  CLEARED_PREFIX,
  clearToolResults,
  defineAgent,
  type ModelRequest,
  type RunEvent,
  RunEvents,
  route,
  run,
  SCRATCHPAD_TOOL,
  SUMMARY_PREFIX,
  scratchpad,
  slidingWindow,
  summarize,
} from '@baton/core';
import { checkWireRules } from '@baton/core/testing';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { codeOf, codeSummarizer, longTaskModel, lookup, pairs } from './helpers.js';

const exporter = new InMemorySpanExporter();
const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).getTracer(
  't',
);
afterEach(() => exporter.reset());

const ITEMS = 10;
const ALL_CODES = Array.from({ length: ITEMS }, (_, item) => codeOf(item));
const base = { description: 'Finds item codes', instructions: 'Look every item up, then list the codes.' };

const sentTokens = (requests: readonly ModelRequest[]) =>
  requests.reduce((sum, request) => sum + request.messages.reduce((s, m) => s + m.content.length, 0), 0);

describe('a long run with a context pipeline', () => {
  it('compacts mid-run with notes and a window, and still completes with facts from its first steps', async () => {
    const model = longTaskModel({ items: ITEMS, notes: true });
    const agent = defineAgent({
      ...base,
      name: 'auditor',
      model,
      tools: [lookup],
      limits: { maxSteps: 20 },
      context: [
        clearToolResults({ keep: 2, exclude: [SCRATCHPAD_TOOL] }),
        slidingWindow({ maxTurns: 3 }),
        scratchpad(),
      ],
    });
    const events = new RunEvents();
    const compacted: RunEvent[] = [];
    events.on('memory.compacted', (event) => compacted.push(event));
    const result = await run(agent, 'audit', { events, tracer });
    expect(result.status).toBe('completed');
    expect(result.steps).toBe(ITEMS + 2);
    // The final answer lists every code, the first ones included: they survived in the scratchpad.
    for (const code of ALL_CODES) expect(result.output).toContain(code);
    // Late calls were sent a window, not the whole history, and always a valid conversation.
    const late = model.requests.at(-1) as ModelRequest;
    expect(late.messages.filter((message) => message.role === 'assistant')).toHaveLength(3);
    for (const request of model.requests) {
      expect(checkWireRules(request.messages, request.tools)).toEqual({ openai: [], anthropic: [] });
      expect(pairs(request.messages).every((pair) => pair.result)).toBe(true);
    }
    // Events: one per stage that changed a call, with tokens before and after.
    expect(
      new Set(compacted.map((event) => (event.type === 'memory.compacted' ? event.strategy : ''))),
    ).toEqual(new Set(['clear-tool-results', 'sliding-window', 'scratchpad']));
    for (const event of compacted) {
      if (event.type !== 'memory.compacted') continue;
      expect(event.runId).toBe(result.runId);
      // Clearing always saves; a window may not, when what it drops was cleared already (its note costs a little).
      if (event.strategy === 'clear-tool-results') expect(event.afterTokens).toBeLessThan(event.beforeTokens);
    }
    // Spans: each chat span says what the pipeline sent instead of the whole transcript.
    const chats = exporter.getFinishedSpans().filter((span) => span.name === 'chat gpt-4.1-mini');
    expect(chats).toHaveLength(result.steps);
    const last = chats.at(-1)?.attributes ?? {};
    expect(last['baton.context.tokens_after']).toBeLessThan(
      (last['baton.context.tokens_before'] as number) / 2,
    );
    expect(last['baton.context.stages']).toEqual(['clear-tool-results', 'sliding-window', 'scratchpad']);
    expect(chats[0]?.attributes['baton.context.stages']).toEqual([]);
  });

  it('summarizes past its trigger with a cheap model, counting its usage on the run and the budget', async () => {
    const model = longTaskModel({ items: ITEMS, notes: false });
    const summarizer = codeSummarizer();
    const agent = defineAgent({
      ...base,
      name: 'summarizing',
      model,
      tools: [lookup],
      limits: { maxSteps: 20 },
      context: [summarize({ triggerTokens: 1_500, keepTurns: 2, model: summarizer })],
    });
    const budget = new Budget({ maxTokens: 1_000_000 });
    const events = new RunEvents();
    const compacted: RunEvent[] = [];
    events.on('memory.compacted', (event) => compacted.push(event));
    const result = await run(agent, 'audit', { budget, events, tracer });
    expect(result.status).toBe('completed');
    for (const code of ALL_CODES) expect(result.output).toContain(code);
    expect(summarizer.requests.length).toBeGreaterThan(1);
    // Each summarizer call: 50 in, 10 out; each model step: 10 in, 5 out (the scripted defaults).
    const calls = summarizer.requests.length;
    expect(result.usage).toEqual({
      inputTokens: result.steps * 10 + calls * 50,
      outputTokens: result.steps * 5 + calls * 10,
    });
    expect(budget.used.tokens).toBe(result.usage.inputTokens + result.usage.outputTokens);
    expect(budget.used.steps).toBe(result.steps);
    // The summary reached the model marked as one, and the summarizer has its own chat span.
    const late = model.requests.at(-1) as ModelRequest;
    expect(late.messages[2]?.content).toContain(SUMMARY_PREFIX);
    const summarySpans = exporter
      .getFinishedSpans()
      .filter((span) => span.attributes['baton.context.summary'] === true);
    expect(summarySpans).toHaveLength(calls);
    expect(summarySpans[0]?.name).toBe('chat gpt-4.1-nano');
    expect(
      compacted.some((event) => event.type === 'memory.compacted' && event.strategy === 'summarize'),
    ).toBe(true);
  });

  it('the transcript keeps what happened: results in the partial result, full messages in a paused state', async () => {
    const model = longTaskModel({ items: 4, notes: false });
    const agent = defineAgent({
      ...base,
      name: 'keeper',
      model,
      tools: [lookup],
      context: [clearToolResults({ keep: 1 })],
    });
    const result = await run(agent, 'audit');
    expect(result.status).toBe('completed');
    expect(result.partial.toolResults).toHaveLength(4);
    expect(result.partial.toolResults.every((record) => record.ok)).toBe(true);
    const sent = model.requests.at(-1)?.messages ?? [];
    expect(sent.filter((message) => message.content.startsWith(CLEARED_PREFIX))).toHaveLength(3);
  });

  it('the default summarizer is the agent model asked for extraction: a route sends it to the cheap model', async () => {
    const strong = longTaskModel({ items: 6, notes: false });
    const cheap = codeSummarizer();
    const agent = defineAgent({
      ...base,
      name: 'routed',
      model: route({ default: strong, extraction: cheap }),
      tools: [lookup],
      context: [summarize({ triggerTokens: 1_000, keepTurns: 1 })],
    });
    const result = await run(agent, 'audit');
    expect(result.status).toBe('completed');
    expect(cheap.requests.length).toBeGreaterThan(0);
    expect(cheap.requests.every((request) => request.role === 'extraction')).toBe(true);
    expect(strong.requests.every((request) => request.role !== 'extraction')).toBe(true);
  });
});

describe('RunOptions.context', () => {
  it('replaces the agent pipeline for one run, and [] turns it off', async () => {
    const make = () =>
      defineAgent({
        ...base,
        name: 'override',
        model: longTaskModel({ items: 6, notes: false }),
        tools: [lookup],
        context: [slidingWindow({ maxTurns: 1 })],
      });
    const windowed = make();
    await run(windowed, 'audit');
    const off = make();
    await run(off, 'audit', { context: [] });
    const cleared = make();
    await run(cleared, 'audit', { context: [clearToolResults({ keep: 1 })] });
    const requests = (agent: typeof off) => (agent.config.model as ReturnType<typeof longTaskModel>).requests;
    expect(sentTokens(requests(off))).toBeGreaterThan(sentTokens(requests(cleared)));
    expect(sentTokens(requests(cleared))).toBeGreaterThan(sentTokens(requests(windowed)));
    expect(
      requests(off)
        .at(-1)
        ?.messages.filter((message) => message.role === 'assistant'),
    ).toHaveLength(6);
  });

  it('a bad pipeline throws CONFIG_INVALID naming the field before anything runs', async () => {
    const model = longTaskModel({ items: 1, notes: false });
    const agent = defineAgent({ ...base, name: 'strict', model, tools: [lookup] });
    await expect(run(agent, 'x', { context: [{ kind: 'nope' }] as never })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      details: { field: 'context[0]' },
    });
    await expect(run(agent, 'x', { context: [scratchpad()] })).rejects.toThrow(
      /"context\[0\]" \(scratchpad\) needs the tool "scratchpad_write", which the agent does not have/,
    );
    expect(model.requests).toHaveLength(0);
  });
});
