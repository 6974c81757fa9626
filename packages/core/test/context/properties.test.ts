/**
 * The invariants of the context pipeline, property-tested (issue 13 item 1): for random conversations and
 * random pipelines, a tool call is never separated from its result, the system prompt and the task are
 * never dropped, and what is sent still satisfies both providers' wire rules — checked on the bodies the
 * real OpenAI and Anthropic request builders produce. The checker itself is shown to catch the bug the
 * pipeline exists to avoid (a trim that splits a call from its result).
 */
import {
  type AssistantMessage,
  type ContextStage,
  capToolResults,
  clearToolResults,
  compactMessages,
  type Message,
  SCRATCHPAD_TOOL,
  scratchpad,
  slidingWindow,
  summarize,
  type ToolCall,
} from '@baton/core';
import { checkAnthropicWire, checkOpenAIWire, checkWireRules, scriptedModel } from '@baton/core/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { filler, wrapped } from './helpers.js';

const TOOLS = ['search', 'read_document', SCRATCHPAD_TOOL, 'fetch'] as const;

interface CallSpec {
  tool: (typeof TOOLS)[number];
  words: number;
  error: boolean;
  wrap: boolean;
}

interface TurnSpec {
  text: string;
  calls: CallSpec[];
}

const callSpec: fc.Arbitrary<CallSpec> = fc.record({
  tool: fc.constantFrom(...TOOLS),
  words: fc.integer({ min: 1, max: 400 }),
  error: fc.boolean(),
  wrap: fc.boolean(),
});

const turnSpec: fc.Arbitrary<TurnSpec> = fc.record({
  text: fc.oneof(fc.constant(''), fc.lorem({ maxCount: 12 })),
  calls: fc.array(callSpec, { maxLength: 3 }),
});

interface ConversationSpec {
  system: string;
  history: boolean;
  task: string;
  turns: TurnSpec[];
}

const conversationSpec: fc.Arbitrary<ConversationSpec> = fc.record({
  system: fc.lorem({ maxCount: 30 }).map((text) => `You are an agent. ${text}`),
  history: fc.boolean(),
  task: fc.lorem({ maxCount: 20 }).map((text) => `Task: ${text}`),
  turns: fc.array(turnSpec, { maxLength: 14 }),
});

/**
 * A conversation as the loop builds it: system prompt, optional history, the task, then per step an
 * assistant message followed by one result per call — or, for an answer with no calls, the corrective
 * user message the loop sends back (a conversation handed to a model never ends on the assistant).
 */
function build(spec: ConversationSpec) {
  const messages: Message[] = [{ role: 'system', content: spec.system }];
  if (spec.history) {
    messages.push(
      { role: 'user', content: 'Earlier question' },
      { role: 'assistant', content: 'Earlier answer' },
    );
  }
  messages.push({ role: 'user', content: spec.task });
  const preamble = messages.length;
  for (const [step, turn] of spec.turns.entries()) {
    const calls: ToolCall[] = turn.calls.map((call, index) => ({
      id: `call_${step + 1}_${index}`,
      name: call.tool,
      arguments:
        call.tool === SCRATCHPAD_TOOL
          ? { note: `note ${step}.${index}: ${filler(5, step)}` }
          : { q: `${step}` },
    }));
    const assistant: AssistantMessage = { role: 'assistant', content: turn.text };
    if (calls.length > 0) assistant.toolCalls = calls;
    messages.push(assistant);
    if (calls.length === 0) {
      messages.push({ role: 'user', content: 'Your answer did not match the output schema; answer again.' });
      continue;
    }
    for (const [index, call] of turn.calls.entries()) {
      const text = `${filler(call.words, step + index)} fact-${step}-${index}`;
      messages.push({
        role: 'tool',
        toolCallId: `call_${step + 1}_${index}`,
        toolName: call.tool,
        content: call.wrap ? wrapped(call.tool, { text }) : text,
        isError: call.error,
      });
    }
  }
  return { messages, preamble };
}

const summarizer = scriptedModel(
  (request) => `Summary of ${request.messages[1]?.content.length ?? 0} characters.`,
  {
    id: 'summarizer',
  },
);

const stage: fc.Arbitrary<ContextStage> = fc.oneof(
  fc.integer({ min: 5, max: 400 }).map((maxTokens) => capToolResults({ maxTokens })),
  fc
    .record({ keep: fc.integer({ min: 0, max: 5 }), exclude: fc.subarray([...TOOLS]) })
    .map((options) => clearToolResults(options)),
  fc.integer({ min: 1, max: 6 }).map((maxTurns) => slidingWindow({ maxTurns })),
  fc.integer({ min: 10, max: 3_000 }).map((maxTokens) => slidingWindow({ maxTokens })),
  fc
    .record({ triggerTokens: fc.integer({ min: 20, max: 4_000 }), keepTurns: fc.integer({ min: 0, max: 4 }) })
    .map((options) => summarize({ ...options, model: summarizer })),
  fc.integer({ min: 5, max: 300 }).map((maxTokens) => scratchpad({ maxTokens })),
);

const pipeline = fc.array(stage, { maxLength: 6 });

/** The invariants, checked on one input and what the pipeline made of it. */
function expectInvariants(input: readonly Message[], preamble: number, output: readonly Message[]) {
  // The system prompt, the history and the task come first, the same objects, in order.
  expect(output.slice(0, preamble)).toEqual(input.slice(0, preamble));
  for (const [index, message] of output.slice(0, preamble).entries()) expect(message).toBe(input[index]);
  // Every assistant message sent is one from the input (never edited), in the same order.
  const assistants = output.slice(preamble).filter((message) => message.role === 'assistant');
  let last = -1;
  for (const message of assistants) {
    const at = input.indexOf(message, preamble);
    expect(at).toBeGreaterThan(last);
    last = at;
  }
  // An assistant message with calls is kept iff all its results are, and they follow it directly.
  for (const [index, message] of output.entries()) {
    if (message.role !== 'assistant') continue;
    const ids = (message.toolCalls ?? []).map((call) => call.id);
    const following = output.slice(index + 1, index + 1 + ids.length);
    expect(
      following.map((next) => (next.role === 'tool' ? next.toolCallId : `not a result: ${next.role}`)),
    ).toEqual(ids);
  }
  // And no result is sent without its call right before it.
  for (const [index, message] of output.entries()) {
    if (message.role !== 'tool') continue;
    const owner = output.slice(0, index).findLast((previous) => previous.role !== 'tool');
    expect(owner?.role).toBe('assistant');
    const calls = owner?.role === 'assistant' ? (owner.toolCalls ?? []) : [];
    expect(calls.map((call) => call.id)).toContain(message.toolCallId);
    expect(message.content.trim()).not.toBe('');
  }
  // Both providers would accept it, as their request builders put it on the wire.
  const rules = checkWireRules(output);
  expect(rules.openai).toEqual([]);
  expect(rules.anthropic).toEqual([]);
}

describe('context pipeline invariants (property-based)', () => {
  it('random conversations are valid before the pipeline (the generator is honest)', () => {
    fc.assert(
      fc.property(conversationSpec, (spec) => {
        const { messages } = build(spec);
        const rules = checkWireRules(messages);
        expect(rules.openai).toEqual([]);
        expect(rules.anthropic).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('any pipeline keeps calls with their results, the system prompt and the task, and both wire formats', async () => {
    await fc.assert(
      fc.asyncProperty(conversationSpec, pipeline, async (spec, stages) => {
        const { messages, preamble } = build(spec);
        const result = await compactMessages(messages, stages, { preamble });
        expectInvariants(messages, preamble, result.messages);
        // The input is never changed: the run's transcript keeps what happened.
        expect(build(spec).messages).toEqual(messages);
      }),
      { numRuns: 300 },
    );
  });

  it('the invariants hold step after step, with the summary carried from call to call', async () => {
    await fc.assert(
      fc.asyncProperty(conversationSpec, pipeline, async (spec, stages) => {
        const { messages, preamble } = build(spec);
        let summary: Awaited<ReturnType<typeof compactMessages>>['summary'];
        // Every prefix that ends where a model call would happen (after a turn is complete).
        for (let end = preamble; end <= messages.length; end++) {
          const next = messages[end];
          if (end > preamble && next !== undefined && next.role !== 'assistant') continue;
          const prefix = messages.slice(0, end);
          const result = await compactMessages(
            prefix,
            stages,
            summary ? { preamble, summary } : { preamble },
          );
          expectInvariants(prefix, preamble, result.messages);
          summary = result.summary;
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe('the wire-rule checker catches what providers reject', () => {
  const base: Message[] = [
    { role: 'system', content: 'sys' },
    { role: 'user', content: 'task' },
    { role: 'assistant', content: '', toolCalls: [{ id: 'a', name: 'search', arguments: { q: 'x' } }] },
    { role: 'tool', toolCallId: 'a', toolName: 'search', content: 'result' },
    { role: 'assistant', content: '', toolCalls: [{ id: 'b', name: 'read', arguments: { id: '1' } }] },
    { role: 'tool', toolCallId: 'b', toolName: 'read', content: 'text' },
  ];

  it('accepts a well-formed conversation', () => {
    expect(checkWireRules(base)).toEqual({ openai: [], anthropic: [] });
  });

  it('a result whose call was trimmed away (the bug a naive window makes)', () => {
    const naive = [...base.slice(0, 2), ...base.slice(3)];
    const rules = checkWireRules(naive);
    expect(rules.openai.map((violation) => violation.rule)).toContain('tool-answers-call');
    expect(rules.anthropic.map((violation) => violation.rule)).toContain('tool-result-matches');
  });

  it('a call whose result was trimmed away', () => {
    const rules = checkWireRules([...base.slice(0, 3), ...base.slice(4)]);
    expect(rules.openai.map((violation) => violation.rule)).toContain('tool-calls-answered');
    expect(rules.anthropic.map((violation) => violation.rule)).toContain('tool-results-follow');
  });

  it('a naive "last N messages" trim breaks the rules for some conversation (found by fast-check)', () => {
    const found = fc.check(
      fc.property(conversationSpec, fc.integer({ min: 1, max: 6 }), (spec, keep) => {
        const { messages, preamble } = build(spec);
        const trimmed = [...messages.slice(0, preamble), ...messages.slice(preamble).slice(-keep)];
        const rules = checkWireRules(trimmed);
        return rules.openai.length === 0 && rules.anthropic.length === 0;
      }),
      { numRuns: 500, seed: 13 },
    );
    expect(found.failed).toBe(true);
  });

  it('Anthropic-only rules: empty text, tool results after text, consecutive turns, assistant last', () => {
    expect(
      checkAnthropicWire({ messages: [{ role: 'user', content: [{ type: 'text', text: ' ' }] }] })[0]?.rule,
    ).toBe('nonempty');
    const late = checkAnthropicWire({
      messages: [
        { role: 'user', content: 'task' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 't', name: 'x', input: {} }] },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'note' },
            { type: 'tool_result', tool_use_id: 't', content: 'r' },
          ],
        },
      ],
    });
    expect(late.map((violation) => violation.rule)).toEqual(['tool-results-first']);
    const twice = checkAnthropicWire({
      messages: [
        { role: 'user', content: 'a' },
        { role: 'user', content: 'b' },
        { role: 'assistant', content: 'c' },
      ],
    });
    expect(twice.map((violation) => violation.rule)).toEqual(['alternation', 'ends-with-user']);
  });

  it('OpenAI-only rules: tool-call shape and empty assistant messages', () => {
    const violations = checkOpenAIWire({
      messages: [
        { role: 'user', content: 'task' },
        { role: 'assistant', content: null },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'x', type: 'function', function: { name: 'f', arguments: 'not json' } }],
        },
        { role: 'tool', tool_call_id: 'x', content: 'r' },
      ],
    });
    expect(violations.map((violation) => violation.rule)).toEqual(['assistant-content', 'tool-call-shape']);
  });
});
