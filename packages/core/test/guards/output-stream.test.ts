/**
 * What a run shows of its model's text when it has output guards (issue 12 follow-ups): an answer streams
 * only once the guards passed it, a rewritten answer streams rewritten, a tripped one not at all, and
 * `partial.text` never carries text the guards did not pass. `guard.checked` names the tool at tool stages.
 */
import {
  defineAgent,
  defineTool,
  type Guard,
  type Model,
  type ModelResponse,
  type ModelStreamEvent,
  piiGuard,
  type RunEvent,
  RunEvents,
  run,
} from '@baton/core';
import { scriptedModel } from '@baton/core/testing';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

const base = { description: 'd', instructions: 'i' };
const SSN = '078-05-1120';

/** Trips on a word, with a reason that does not quote what it read. */
const tripOn = (word: string): Guard => ({
  name: 'no-word',
  check: (value) =>
    JSON.stringify(value).includes(word) ? { action: 'trip', reason: 'forbidden word' } : { action: 'pass' },
});

function recorder() {
  const events = new RunEvents();
  const seen: RunEvent[] = [];
  events.on('*', (event) => seen.push(event));
  return { events, seen };
}

const deltas = (seen: RunEvent[]) =>
  seen.filter((event): event is Extract<RunEvent, { type: 'model.delta' }> => event.type === 'model.delta');

/**
 * A model that streams its answer's text, then waits for `open()` before it completes the response: a
 * test sees which deltas a listener got while the answer was still being written.
 */
function gatedModel(text: string) {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  let streamed!: () => void;
  const allStreamed = new Promise<void>((resolve) => {
    streamed = resolve;
  });
  const response: ModelResponse = {
    model: 'gated',
    provider: 'test',
    text,
    toolCalls: [],
    finishReason: 'stop',
    usage: { inputTokens: 1, outputTokens: 1 },
  };
  const model: Model = {
    id: 'gated',
    provider: 'test',
    generate: async () => response,
    async *stream(): AsyncIterable<ModelStreamEvent> {
      for (const piece of text.split(' ')) yield { type: 'text-delta', text: `${piece} ` };
      streamed();
      await gate;
      yield { type: 'response', response };
    },
  };
  return { model, open, allStreamed };
}

describe('output guards and the streamed answer', () => {
  it('without output guards, deltas stream while the answer is written', async () => {
    const { model, open, allStreamed } = gatedModel('hello there world');
    const { events, seen } = recorder();
    const running = run(defineAgent({ ...base, name: 'a', model }), 'x', { events });
    await allStreamed;
    // The last piece is emitted when the generator is asked for the next event, which it is now.
    await Promise.resolve();
    expect(deltas(seen).length).toBeGreaterThan(0);
    open();
    expect((await running).status).toBe('completed');
  });

  it('with output guards, no delta of the answer is emitted before the guards passed it', async () => {
    const { model, open, allStreamed } = gatedModel('hello there world');
    const { events, seen } = recorder();
    const agent = defineAgent({ ...base, name: 'a', model, guardrails: { output: [tripOn('secret')] } });
    const running = run(agent, 'x', { events });
    await allStreamed;
    await Promise.resolve();
    expect(deltas(seen)).toHaveLength(0);
    open();
    const result = await running;
    expect(result.status).toBe('completed');
    const text = deltas(seen)
      .map((delta) => delta.text)
      .join('');
    expect(text).toBe('hello there world ');
    // Released after the verdict: the output guard's event comes first.
    const verdict = seen.findIndex((event) => event.type === 'guard.checked' && event.stage === 'output');
    const firstDelta = seen.findIndex((event) => event.type === 'model.delta');
    expect(verdict).toBeGreaterThanOrEqual(0);
    expect(firstDelta).toBeGreaterThan(verdict);
  });

  it('a rewritten answer streams as its rewrite; the raw text is in no event and not in partial.text', async () => {
    const { events, seen } = recorder();
    const agent = defineAgent({
      ...base,
      name: 'a',
      model: scriptedModel([{ text: `The number is ${SSN}.`, reasoning: `I will quote ${SSN}` }]),
      guardrails: { output: [piiGuard()] },
    });
    const result = await run(agent, 'x', { events });
    expect(result.status).toBe('completed');
    expect(result.output).not.toContain(SSN);
    expect(result.partial.text).toBe(result.output);
    const streamed = deltas(seen);
    expect(streamed).toHaveLength(1);
    expect(streamed[0]).toMatchObject({ kind: 'text', text: result.output });
    expect(JSON.stringify(seen)).not.toContain(SSN);
  });

  it('a tripped answer streams nothing and leaves no text in the result or events', async () => {
    const { events, seen } = recorder();
    const agent = defineAgent({
      ...base,
      name: 'a',
      model: scriptedModel(['the secret launch code is 0000']),
      guardrails: { output: [tripOn('secret')] },
    });
    const result = await run(agent, 'x', { events });
    expect(result.status).toBe('guardrail_tripped');
    expect(result.partial.text).toBeUndefined();
    expect(deltas(seen)).toHaveLength(0);
    expect(JSON.stringify(seen)).not.toContain('launch code');
    expect(JSON.stringify(result)).not.toContain('launch code');
  });

  it('text beside tool calls is not the answer: it streams before the tools run', async () => {
    const lookup = defineTool({
      name: 'lookup',
      description: 'looks up',
      input: z.object({ q: z.string() }),
      execute: () => ({ found: true }),
    });
    const { events, seen } = recorder();
    const agent = defineAgent({
      ...base,
      name: 'a',
      tools: [lookup],
      model: scriptedModel([
        { text: 'Let me look.', toolCalls: [{ name: 'lookup', args: { q: 'x' } }] },
        'Found it.',
      ]),
      guardrails: { output: [tripOn('secret')] },
    });
    expect((await run(agent, 'x', { events })).status).toBe('completed');
    const order = seen
      .filter((event) => event.type === 'model.delta' || event.type === 'tool.start')
      .map((event) => (event.type === 'model.delta' ? event.text : event.type));
    expect(order).toEqual(['Let ', 'me ', 'look.', 'tool.start', 'Found ', 'it.']);
  });

  it('the last text of a run that did not complete goes through the output guards too', async () => {
    const lookup = defineTool({
      name: 'lookup',
      description: 'looks up',
      input: z.object({}),
      execute: () => ({ ok: 1 }),
    });
    const looping = (guard: Guard) =>
      defineAgent({
        ...base,
        name: 'a',
        tools: [lookup],
        limits: { maxSteps: 1 },
        model: scriptedModel([{ text: `Noted ${SSN}, the secret one.`, toolCalls: [{ name: 'lookup' }] }]),
        guardrails: { output: [guard] },
      });
    const redacted = await run(looping(piiGuard()), 'x');
    expect(redacted.status).toBe('max_steps');
    expect(redacted.partial.text).toBeDefined();
    expect(redacted.partial.text).not.toContain(SSN);
    const tripped = await run(looping(tripOn('secret')), 'x');
    expect(tripped.status).toBe('max_steps');
    expect(tripped.partial.text).toBeUndefined();
    // Text the guards pass stays.
    const passed = await run(looping(tripOn('nothing-matches')), 'x');
    expect(passed.partial.text).toBe(`Noted ${SSN}, the secret one.`);
  });
});

describe('guard.checked at tool stages', () => {
  it('names the tool on every verdict, passes included', async () => {
    const lookup = defineTool({
      name: 'lookup',
      description: 'looks up',
      input: z.object({ q: z.string() }),
      execute: () => ({ text: 'plain' }),
    });
    const pass: Guard = { name: 'pass', check: () => ({ action: 'pass' }) };
    const { events, seen } = recorder();
    const agent = defineAgent({
      ...base,
      name: 'a',
      tools: [lookup],
      model: scriptedModel([{ toolCalls: [{ name: 'lookup', args: { q: 'x' } }] }, 'done']),
      guardrails: { toolInput: [pass], toolOutput: [pass], output: [pass] },
    });
    expect((await run(agent, 'x', { events })).status).toBe('completed');
    const checked = seen.filter((event) => event.type === 'guard.checked');
    expect(checked.map((event) => [event.stage, event.action, event.tool])).toEqual([
      ['toolInput', 'pass', 'lookup'],
      ['toolOutput', 'pass', 'lookup'],
      ['output', 'pass', undefined],
    ]);
  });
});
