/**
 * Each stage of the context pipeline on its own (issue 13 item 1), through `compactMessages`: what it
 * keeps, what it drops, what it says it did, and the configuration errors that name the bad field.
 */
import {
  BatonError,
  CLEARED_PREFIX,
  CONTEXT_NOTES_HEADER,
  type ContextStage,
  capToolResults,
  clearToolResults,
  compactMessages,
  countTokens,
  defineAgent,
  type Message,
  messageTokens,
  parseToolResult,
  SCRATCHPAD_PREFIX,
  SCRATCHPAD_TOOL,
  SUMMARY_PREFIX,
  scratchpad,
  slidingWindow,
  summarize,
  type ToolCall,
  unwrapUntrusted,
} from '@baton/core';
import { checkWireRules, scriptedModel } from '@baton/core/testing';
import { describe, expect, it } from 'vitest';
import { codeOf, codeSummarizer, filler, lookup, pairs, wrapped } from './helpers.js';

const SYSTEM: Message = { role: 'system', content: 'You find item codes.' };
const TASK: Message = { role: 'user', content: 'Find the codes of items 1 to 8.' };

/** system, task, then `turns` lookups (each ~300 tokens of result) with a note every other turn. */
function transcript(turns: number, options: { notes?: boolean } = {}): Message[] {
  const messages: Message[] = [SYSTEM, TASK];
  for (let turn = 1; turn <= turns; turn++) {
    const calls: ToolCall[] = [{ id: `c${turn}`, name: 'lookup', arguments: { item: turn } }];
    if (options.notes && turn % 2 === 0) {
      calls.push({
        id: `n${turn}`,
        name: SCRATCHPAD_TOOL,
        arguments: { note: `item ${turn} is ${codeOf(turn)}` },
      });
    }
    messages.push({ role: 'assistant', content: turn === 1 ? 'Looking items up.' : '', toolCalls: calls });
    for (const call of calls) {
      const data =
        call.name === 'lookup' ? { record: `${filler(250, turn)} ${codeOf(turn)}` } : { saved: true };
      messages.push({
        role: 'tool',
        toolCallId: call.id,
        toolName: call.name,
        content: wrapped(call.name, data),
      });
    }
  }
  return messages;
}

const valid = (messages: readonly Message[]) => {
  const rules = checkWireRules(messages);
  expect(rules.openai).toEqual([]);
  expect(rules.anthropic).toEqual([]);
};

describe('capToolResults', () => {
  it('cuts long results inside their wrapper and says so; short ones and excluded tools stay', async () => {
    const messages = transcript(2);
    messages.push({ role: 'assistant', content: '', toolCalls: [{ id: 'k', name: 'keep', arguments: {} }] });
    messages.push({ role: 'tool', toolCallId: 'k', toolName: 'keep', content: wrapped('keep', filler(400)) });
    const { messages: sent, report } = await compactMessages(messages, [
      capToolResults({ maxTokens: 60, exclude: ['keep'] }),
    ]);
    const results = sent.filter((message) => message.role === 'tool');
    for (const result of results.slice(0, 2)) {
      expect(result.content).toMatch(/^<untrusted_data source="tool:lookup">\n/);
      expect(result.content).toContain('\n</untrusted_data>\n[cut by the context pipeline: about 60 of ');
      expect(await countTokens(result.content)).toBeLessThanOrEqual(60 + 25);
    }
    expect(results[2]).toBe(messages.at(-1));
    expect(report.tokensAfter).toBeLessThan(report.tokensBefore);
    expect(report.stages).toEqual([expect.objectContaining({ stage: 'cap-tool-results', changed: true })]);
    valid(sent);
  });

  it('leaves a conversation whose results fit untouched (the same message objects)', async () => {
    const messages = transcript(3);
    const { messages: sent, report } = await compactMessages(messages, [
      capToolResults({ maxTokens: 5_000 }),
    ]);
    expect(sent).toEqual(messages);
    for (const [index, message] of sent.entries()) expect(message).toBe(messages[index]);
    expect(report.stages[0]?.changed).toBe(false);
  });
});

describe('clearToolResults', () => {
  it('keeps the last N results, clears older ones to a placeholder, never the excluded tools', async () => {
    const messages = transcript(6, { notes: true });
    const { messages: sent } = await compactMessages(messages, [
      clearToolResults({ keep: 2, exclude: [SCRATCHPAD_TOOL] }),
    ]);
    expect(sent).toHaveLength(messages.length);
    const lookups = sent.filter((message) => message.role === 'tool' && message.toolName === 'lookup');
    const cleared = lookups.filter((message) => message.content.startsWith(CLEARED_PREFIX));
    expect(cleared.map((message) => (message.role === 'tool' ? message.toolCallId : ''))).toEqual([
      'c1',
      'c2',
      'c3',
      'c4',
    ]);
    expect(cleared[0]?.content).toMatch(
      /lookup returned a result of \d+ tokens at step 1, no longer shown\.\]$/,
    );
    expect(lookups.slice(-2).every((message) => parseToolResult(message.content)?.result.ok)).toBe(true);
    // The scratchpad's acknowledgements are excluded: never cleared.
    const notes = sent.filter((message) => message.role === 'tool' && message.toolName === SCRATCHPAD_TOOL);
    expect(notes.every((message) => !message.content.startsWith(CLEARED_PREFIX))).toBe(true);
    // Calls and results stay paired: only the text of a result changed.
    expect(pairs(sent).every((pair) => pair.result)).toBe(true);
    valid(sent);
  });

  it('waits for its trigger: below triggerTokens nothing is cleared', async () => {
    const messages = transcript(4);
    const total = (await compactMessages(messages, [])).report.tokensBefore;
    const below = await compactMessages(messages, [clearToolResults({ keep: 1, triggerTokens: total + 1 })]);
    expect(below.messages).toEqual(messages);
    const above = await compactMessages(messages, [clearToolResults({ keep: 1, triggerTokens: total - 1 })]);
    expect(above.messages.filter((message) => message.content.startsWith(CLEARED_PREFIX))).toHaveLength(3);
  });
});

describe('slidingWindow', () => {
  it('keeps the last N turns whole, with the system prompt and the task, and says what it dropped', async () => {
    const messages = transcript(6);
    const { messages: sent } = await compactMessages(messages, [slidingWindow({ maxTurns: 2 })]);
    expect(sent.slice(0, 2)).toEqual([SYSTEM, TASK]);
    expect(sent[2]?.role).toBe('user');
    expect(sent[2]?.content).toContain(CONTEXT_NOTES_HEADER);
    expect(sent[2]?.content).toContain(
      '[Turns 1–4 of this run (4 model steps and their tool results) are no longer shown',
    );
    expect(sent.slice(3)).toEqual(messages.slice(-4));
    valid(sent);
  });

  it('with maxTokens keeps the most recent turns that fit, and always the last one', async () => {
    const messages = transcript(6);
    const turn =
      (await messageTokens(messages[2] as Message)) + (await messageTokens(messages[3] as Message));
    const preamble = (await messageTokens(SYSTEM)) + (await messageTokens(TASK));
    const { messages: sent } = await compactMessages(messages, [
      slidingWindow({ maxTokens: preamble + 2 * turn + 20 }),
    ]);
    expect(sent.filter((message) => message.role === 'assistant')).toHaveLength(2);
    const tiny = await compactMessages(messages, [slidingWindow({ maxTokens: 10 })]);
    expect(tiny.messages.filter((message) => message.role === 'assistant')).toHaveLength(1);
    expect(tiny.messages.at(-1)).toBe(messages.at(-1));
    valid(tiny.messages);
  });
});

describe('summarize', () => {
  it('past its trigger, replaces all but the last N turns with a marked summary from the summarizer', async () => {
    const messages = transcript(6);
    const summarizer = codeSummarizer();
    const result = await compactMessages(messages, [
      summarize({ triggerTokens: 800, keepTurns: 2, model: summarizer }),
    ]);
    expect(summarizer.requests).toHaveLength(1);
    const asked = summarizer.requests[0];
    expect(asked?.role).toBe('extraction');
    expect(asked?.messages[1]?.content).toContain(TASK.content);
    expect(asked?.messages[1]?.content).toContain('## Turn 4');
    expect(asked?.messages[1]?.content).not.toContain('## Turn 5');
    expect(result.summary).toMatchObject({ through: 4 });
    const note = result.messages[2];
    expect(note?.role).toBe('user');
    expect(note?.content).toContain(`${SUMMARY_PREFIX}s 1–4 of this run, written by a summarizer model`);
    const body = unwrapUntrusted(note?.content ?? '');
    expect(body?.source).toBe('agent:context-summary');
    expect(body?.value).toBe(`Facts found so far: ${[1, 2, 3, 4].map(codeOf).join(', ')}.`);
    expect(result.messages.slice(3)).toEqual(messages.slice(-4));
    expect(result.report.tokensAfter).toBeLessThan(result.report.tokensBefore / 2);
    valid(result.messages);
  });

  it('is incremental: the next summary starts from the last and covers only the new turns', async () => {
    const summarizer = codeSummarizer();
    const stage = summarize({ triggerTokens: 800, keepTurns: 1, model: summarizer });
    const first = await compactMessages(transcript(4), [stage]);
    expect(first.summary?.through).toBe(3);
    // Below the trigger, the summary is reused as it is: no new call.
    const same = await compactMessages(transcript(4), [stage], { summary: first.summary });
    expect(summarizer.requests).toHaveLength(1);
    expect(same.messages[2]?.content).toContain(`${SUMMARY_PREFIX}s 1–3`);
    const next = await compactMessages(transcript(8), [stage], { summary: first.summary });
    expect(summarizer.requests).toHaveLength(2);
    const material = summarizer.requests[1]?.messages[1]?.content ?? '';
    expect(material).toContain('Facts found so far: CODE-1037');
    expect(material).not.toContain('## Turn 3');
    expect(material).toContain('## Turn 4');
    expect(next.summary?.through).toBe(7);
  });

  it('below its trigger does nothing, and an empty summary is an error, never a silent loss', async () => {
    const messages = transcript(2);
    const summarizer = codeSummarizer();
    const result = await compactMessages(messages, [
      summarize({ triggerTokens: 100_000, model: summarizer }),
    ]);
    expect(result.messages).toEqual(messages);
    expect(summarizer.requests).toHaveLength(0);
    const mute = scriptedModel(['  ']);
    await expect(
      compactMessages(transcript(6), [summarize({ triggerTokens: 100, model: mute })]),
    ).rejects.toMatchObject({ code: 'PROVIDER_RESPONSE_INVALID' });
  });
});

describe('scratchpad', () => {
  it('puts every note back once compaction removed a turn that wrote one', async () => {
    const messages = transcript(8, { notes: true });
    const { messages: sent } = await compactMessages(messages, [
      slidingWindow({ maxTurns: 1 }),
      scratchpad(),
    ]);
    const note = sent[2]?.content ?? '';
    expect(note).toContain(SCRATCHPAD_PREFIX);
    const block = note.slice(note.indexOf(SCRATCHPAD_PREFIX));
    expect(unwrapUntrusted(block)).toEqual({
      source: 'agent:scratchpad',
      value: [2, 4, 6, 8].map((item) => `item ${item} is ${codeOf(item)}`),
    });
    valid(sent);
  });

  it('adds nothing while every note is still in view, and keeps the newest notes within its budget', async () => {
    const messages = transcript(8, { notes: true });
    const full = await compactMessages(messages, [scratchpad()]);
    expect(full.messages).toEqual(messages);
    const tight = await compactMessages(messages, [
      slidingWindow({ maxTurns: 1 }),
      scratchpad({ maxTokens: 12 }),
    ]);
    const note = tight.messages[2]?.content ?? '';
    expect(note).toContain('older notes did not fit');
    const block = note.slice(note.indexOf(SCRATCHPAD_PREFIX));
    expect(unwrapUntrusted(block)?.value).toEqual([`item 8 is ${codeOf(8)}`]);
  });

  it('gives the agent its tool, and refuses a tool name the agent already uses', () => {
    const model = scriptedModel(['ok']);
    const agent = defineAgent({
      name: 'a',
      description: 'd',
      instructions: 'i',
      model,
      tools: [lookup],
      context: [scratchpad()],
    });
    expect([...agent.tools.keys()]).toEqual(['lookup', SCRATCHPAD_TOOL]);
    expect(agent.tools.get(SCRATCHPAD_TOOL)?.risk).toBe('read');
    expect(agent.tools.get(SCRATCHPAD_TOOL)?.untrustedOutput).toBe(false);
    expect(() =>
      defineAgent({
        name: 'a',
        description: 'd',
        instructions: 'i',
        model,
        tools: [lookup],
        context: [scratchpad({ toolName: 'lookup' })],
      }),
    ).toThrow(/"context\[0\]" \(scratchpad\) brings the tool "lookup"/);
  });
});

describe('configuration errors name the field', () => {
  const cases: [string, () => unknown, string][] = [
    ['cap', () => capToolResults({ maxTokens: 0 }), 'capToolResults: "maxTokens"'],
    ['clear', () => clearToolResults({ keep: -1 }), 'clearToolResults: "keep"'],
    [
      'clear exclude',
      () => clearToolResults({ exclude: 'x' as unknown as string[] }),
      'clearToolResults: "exclude"',
    ],
    ['window', () => slidingWindow({}), 'slidingWindow: "maxTurns" needs a limit'],
    ['summarize', () => summarize({ triggerTokens: 1.5 }), 'summarize: "triggerTokens"'],
    [
      'summarize model',
      () => summarize({ triggerTokens: 10, model: {} as never }),
      'summarize: "model" must be a Model',
    ],
    ['unknown key', () => slidingWindow({ maxTurns: 2, turns: 3 } as never), 'slidingWindow: '],
  ];
  for (const [name, make, message] of cases) {
    it(name, () => {
      let thrown: unknown;
      try {
        make();
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(BatonError);
      expect((thrown as BatonError).code).toBe('CONFIG_INVALID');
      expect((thrown as BatonError).message).toContain(message);
      expect((thrown as BatonError).details?.field).toBeDefined();
    });
  }

  it('defineAgent refuses a context that is not a list of stages', () => {
    const model = scriptedModel(['ok']);
    expect(() =>
      defineAgent({ name: 'a', description: 'd', instructions: 'i', model, context: [{}] as never }),
    ).toThrow(/"context\[0\]" must be a context stage/);
  });

  it('a custom stage that splits a call from its result is stopped and named', async () => {
    const splitter: ContextStage = {
      kind: 'context-stage',
      name: 'naive-trim',
      settings: {},
      apply: (view) => ({
        ...view,
        turns: view.turns.map((turn) => ({ index: turn.index, messages: turn.messages.slice(0, 1) })),
      }),
    };
    await expect(compactMessages(transcript(2), [splitter])).rejects.toThrow(
      /context\[0\] \(naive-trim\) broke the conversation: it removed or added messages inside turn 1/,
    );
  });
});
