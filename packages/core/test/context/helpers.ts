import {
  defineTool,
  inertJson,
  type Message,
  type ModelRequest,
  SCRATCHPAD_TOOL,
  unwrapUntrusted,
  wrapUntrusted,
} from '@baton/core';
import { type ScriptedModel, type ScriptedReply, scriptedModel } from '@baton/core/testing';
import { z } from 'zod';

/** A tool result as the loop writes it: the structured result as inert JSON, wrapped as untrusted data. */
export function wrapped(tool: string, data: unknown): string {
  return wrapUntrusted(`tool:${tool}`, inertJson({ ok: true, data }));
}

/** Filler words: a few hundred tokens of text that says nothing. */
export function filler(words: number, seed = 0): string {
  const vocabulary = [
    'ledger',
    'quarterly',
    'archive',
    'routing',
    'sensor',
    'window',
    'harbor',
    'signal',
    'granite',
  ];
  return Array.from({ length: words }, (_, index) => vocabulary[(index * 7 + seed) % vocabulary.length]).join(
    ' ',
  );
}

/** The fact item `n` holds: what a final answer must still know after compaction. */
export const codeOf = (item: number) => `CODE-${1000 + item * 37}`;

/**
 * `lookup({ item })`: a long record (hundreds of tokens of filler) with one fact in the middle.
 */
export const lookup = defineTool({
  name: 'lookup',
  description: 'Looks up an item record',
  input: z.object({ item: z.number().int() }),
  execute: ({ item }) => ({
    item,
    record: `${filler(150, item)} The code of item ${item} is ${codeOf(item)}. ${filler(150, item + 1)}`,
  }),
});

/** Every code the request shows anywhere: in tool results, notes, summaries and assistant text. */
export function visibleCodes(request: ModelRequest): string[] {
  const texts: string[] = [];
  for (const message of request.messages) {
    texts.push(message.content);
    if (message.role === 'user') {
      // Notes and summaries are inert JSON inside a wrapper: read them back.
      const unwrapped = unwrapUntrusted(message.content);
      if (unwrapped) texts.push(JSON.stringify(unwrapped.value));
    }
    if (message.role === 'assistant') texts.push(JSON.stringify(message.toolCalls ?? []));
  }
  return [...new Set(texts.join('\n').match(/CODE-\d+/g) ?? [])].sort();
}

/**
 * The agent's model for a long task: step k (from `offset`) looks up item k and, when `notes` is on, notes
 * the code it found at the previous step; after `items` lookups it answers with every code it can still
 * see. Deterministic given the step, so a resumed run (offset = steps already taken) continues the script.
 */
export function longTaskModel(options: { items: number; notes: boolean; offset?: number }): ScriptedModel {
  const offset = options.offset ?? 0;
  return scriptedModel((request, call) => taskTurn(request, call + offset, options), {
    id: 'gpt-4.1-mini',
    provider: 'openai',
  });
}

function taskTurn(
  request: ModelRequest,
  step: number,
  options: { items: number; notes: boolean },
): ScriptedReply {
  const toolCalls: { name: string; args: unknown }[] = [];
  if (options.notes && step > 0 && step <= options.items) {
    const last = [...request.messages]
      .reverse()
      .find((message) => message.role === 'tool' && message.toolName === 'lookup');
    const code = last?.content.match(/CODE-\d+/)?.[0];
    if (code) toolCalls.push({ name: SCRATCHPAD_TOOL, args: { note: `item ${step - 1} has code ${code}` } });
  }
  if (step < options.items) toolCalls.push({ name: 'lookup', args: { item: step } });
  // Ids from the step, not from this model's own call count: a resumed run's fresh model continues them.
  if (toolCalls.length > 0)
    return { toolCalls: toolCalls.map((call, index) => ({ ...call, id: `call_${step + 1}_${index}` })) };
  return `Codes found: ${visibleCodes(request).join(', ')}`;
}

/** A summarizer that keeps every code it is shown (an extractive summary); `label` tells two apart. */
export function codeSummarizer(label = 'Facts found so far'): ScriptedModel {
  return scriptedModel(
    (request) => {
      const codes = visibleCodes(request);
      return {
        text: `${label}: ${codes.join(', ') || 'none'}.`,
        usage: { inputTokens: 50, outputTokens: 10 },
      };
    },
    { id: 'gpt-4.1-nano', provider: 'openai' },
  );
}

/** The turn structure of a message list: each assistant message with the tool results that follow it. */
export function pairs(messages: readonly Message[]): { call: string; result: boolean }[] {
  const found: { call: string; result: boolean }[] = [];
  for (const [index, message] of messages.entries()) {
    if (message.role !== 'assistant') continue;
    for (const call of message.toolCalls ?? []) {
      const after = messages.slice(index + 1).findIndex((next) => next.role !== 'tool');
      const group = messages.slice(index + 1, after < 0 ? undefined : index + 1 + after);
      found.push({
        call: call.id,
        result: group.some((next) => next.role === 'tool' && next.toolCallId === call.id),
      });
    }
  }
  return found;
}
