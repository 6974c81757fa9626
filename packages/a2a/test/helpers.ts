/** Agents and clients the A2A tests share: real Baton agents on a scripted model, the SDK's own client. */
import { randomUUID } from 'node:crypto';
import { type Message, type Part, Role, type StreamResponse, TaskState } from '@a2a-js/sdk';
import { type Client, ClientFactory } from '@a2a-js/sdk/client';
import { defineAgent, defineHandoff, defineTool } from '@baton/core';
import { scriptedModel } from '@baton/core/testing';
import { z } from 'zod';

export const summarizeContract = defineHandoff({
  name: 'text.summarize',
  version: 1,
  description: 'Summarizes a text and counts its words',
  input: z.object({ text: z.string().min(1) }),
  output: z.object({ summary: z.string(), words: z.number().int() }),
});

const countWords = defineTool({
  name: 'count_words',
  description: 'Counts the words of a text',
  input: z.object({ text: z.string() }),
  risk: 'read',
  execute: async ({ text }) => ({ words: text.split(/\s+/).filter(Boolean).length }),
});

/** Calls count_words on its input, then answers `{ summary, words }` from the tool's result. */
export function summarizer(options: { gate?: Promise<void>; delayMs?: number } = {}) {
  return defineAgent({
    name: 'summarizer',
    description: 'Summarizes a text and counts its words',
    instructions: 'Count the words with count_words, then answer {"summary", "words"}.',
    input: summarizeContract.input,
    output: summarizeContract.output,
    // Decides from the conversation (one model serves every run): no tool result yet → count the words.
    model: scriptedModel(async (request) => {
      if (!request.messages.some((entry) => entry.role === 'tool')) {
        const input = request.messages.findLast((entry) => entry.role === 'user')?.content ?? '{}';
        const text = String(JSON.parse(String(input)).text ?? '');
        return { toolCalls: [{ name: 'count_words', args: { text } }] };
      }
      // The test holds the run here until it has subscribed (or cancels it meanwhile).
      if (options.gate) await options.gate;
      const words = Number(/"words":\s*(\d+)/.exec(String(request.messages.at(-1)?.content))?.[1] ?? -1);
      return {
        text: JSON.stringify({ summary: `A text of ${words} words.`, words }),
        delayMs: options.delayMs ?? 0,
      };
    }),
    tools: [countWords],
  });
}

/**
 * Never answers on its own: each model call takes ten minutes, far past any test's time limit, so a run
 * that ends within a test was ended by its abort.
 */
export function slowAgent() {
  return defineAgent({
    name: 'slow',
    description: 'Takes its time',
    instructions: 'Think for a long time.',
    input: summarizeContract.input,
    model: scriptedModel([{ text: 'done', delayMs: 600_000 }]),
  });
}

export function client(url: string): Promise<Client> {
  return new ClientFactory().createFromUrl(url.endsWith('/') ? url : `${url}/`);
}

export function text(value: string): Part {
  return { content: { $case: 'text', value }, mediaType: 'text/plain', filename: '', metadata: {} };
}

export function data(value: unknown): Part {
  return { content: { $case: 'data', value }, mediaType: 'application/json', filename: '', metadata: {} };
}

export function message(parts: Part[]): Message {
  return {
    messageId: randomUUID(),
    contextId: '',
    taskId: '',
    role: Role.ROLE_USER,
    parts,
    metadata: {},
    extensions: [],
    referenceTaskIds: [],
  };
}

export function send(parts: Part[]) {
  return { tenant: '', message: message(parts), configuration: undefined, metadata: {} };
}

export function stateOf(event: StreamResponse): TaskState | undefined {
  const payload = event.payload;
  if (payload?.$case === 'statusUpdate') return payload.value.status?.state;
  if (payload?.$case === 'task') return payload.value.status?.state;
  return undefined;
}

export function statusText(event: StreamResponse): string | undefined {
  const payload = event.payload;
  if (payload?.$case !== 'statusUpdate') return undefined;
  const part = payload.value.status?.message?.parts[0]?.content;
  return part?.$case === 'text' ? part.value : undefined;
}

export const TERMINAL = new Set([
  TaskState.TASK_STATE_COMPLETED,
  TaskState.TASK_STATE_FAILED,
  TaskState.TASK_STATE_CANCELED,
  TaskState.TASK_STATE_REJECTED,
]);

/** A deferred: a promise and the function that settles it. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** Waits for `check` to hold, polling; fails with `what` after `timeoutMs`. */
export async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export const dropContract = defineHandoff({
  name: 'table.drop',
  version: 1,
  description: 'Drops a table',
  input: z.object({ table: z.string().min(1) }),
  output: z.object({ dropped: z.string() }),
});

/** Drops the table it is given with a destructive tool (which waits for a person); counts the drops. */
export function janitor(drops: { count: number }) {
  const dropTable = defineTool({
    name: 'drop_table',
    description: 'Drops a table. This cannot be undone.',
    input: z.object({ table: z.string() }),
    risk: 'destructive',
    execute: async ({ table }) => {
      drops.count++;
      return { dropped: table };
    },
  });
  return defineAgent({
    name: 'janitor',
    description: 'Drops a table',
    instructions: 'Drop the table with drop_table, then answer {"dropped"}.',
    input: dropContract.input,
    output: dropContract.output,
    model: scriptedModel((request) => {
      const input = request.messages.findLast((entry) => entry.role === 'user')?.content ?? '{}';
      const table = String(JSON.parse(String(input)).table ?? '');
      if (!request.messages.some((entry) => entry.role === 'tool'))
        return { toolCalls: [{ name: 'drop_table', args: { table } }] };
      return { text: JSON.stringify({ dropped: table }) };
    }),
    tools: [dropTable],
  });
}
