import { type StreamResponse, type Task, TaskState } from '@a2a-js/sdk';
import { type A2aServing, CONTRACT_EXTENSION, serveA2a } from '@baton/a2a';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  client,
  data,
  send,
  slowAgent,
  stateOf,
  statusText,
  summarizeContract,
  summarizer,
  TERMINAL,
  text,
  until,
} from './helpers.js';

describe('A2A server (the SDK client against a Baton agent, tasks in memory)', () => {
  let serving: A2aServing;
  let slow: A2aServing;

  beforeAll(async () => {
    serving = await serveA2a(summarizer(), { contract: summarizeContract });
    slow = await serveA2a(slowAgent(), { contract: summarizeContract });
  });
  afterAll(async () => {
    await serving?.close({ graceMs: 0 });
    await slow?.close({ graceMs: 0 });
  });

  it('serves an agent card from the agent and its contract', async () => {
    const sdk = await client(serving.url);
    const card = await sdk.getAgentCard();
    expect(card.name).toBe('summarizer');
    expect(card.description).toBe('Summarizes a text and counts its words');
    expect(card.capabilities?.streaming).toBe(true);
    expect(card.supportedInterfaces[0]).toMatchObject({ protocolBinding: 'JSONRPC', protocolVersion: '1.0' });
    expect(card.supportedInterfaces[0]?.url).toBe(serving.url.replace(/\/$/, ''));
    expect(card.defaultInputModes).toEqual(['text/plain', 'application/json']);
    expect(card.skills[0]?.tags).toContain('text.summarize@1');
    const extension = card.capabilities?.extensions.find((entry) => entry.uri === CONTRACT_EXTENSION);
    expect(extension?.params?.contract).toBe('text.summarize@1');
    expect(extension?.params?.input).toMatchObject({ type: 'object', required: ['text'] });
    expect(extension?.params?.output).toMatchObject({ properties: { words: { type: 'integer' } } });
  });

  it('message/send with a data part returns a completed task with the answer as text and data', async () => {
    const sdk = await client(serving.url);
    const result = (await sdk.sendMessage(send([data({ text: 'one two three four' })]))) as Task;
    expect(result.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    const answer = result.artifacts[0];
    const parts = answer?.parts.map((part) => part.content);
    expect(parts?.[1]).toEqual({ $case: 'data', value: { summary: 'A text of 4 words.', words: 4 } });
    expect(parts?.[0]?.$case).toBe('text');
    expect(JSON.parse(String(parts?.[0]?.value))).toEqual({ summary: 'A text of 4 words.', words: 4 });
    // The run's usage and ids travel in the artifact's metadata.
    expect(answer?.metadata?.baton).toMatchObject({
      status: 'completed',
      usage: { steps: 2, inputTokens: 20, outputTokens: 10 },
    });
  });

  it('a text part becomes the contract input through its one required string field', async () => {
    const sdk = await client(serving.url);
    const result = (await sdk.sendMessage(send([text('five words in this text')]))) as Task;
    expect(result.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(result.artifacts[0]?.parts[1]?.content).toEqual({
      $case: 'data',
      value: { summary: 'A text of 5 words.', words: 5 },
    });
  });

  it('message/stream delivers working updates (steps, tool calls) before the final status', async () => {
    const sdk = await client(serving.url);
    const events: StreamResponse[] = [];
    for await (const event of sdk.sendMessageStream(send([data({ text: 'alpha beta' })]))) events.push(event);
    const kinds = events.map((event) => event.payload?.$case);
    expect(kinds[0]).toBe('task');
    const lines = events.map(statusText).filter((line) => line !== undefined);
    expect(lines).toEqual(
      expect.arrayContaining([
        'summarizer started',
        'summarizer: step 1',
        'summarizer: count_words',
        'summarizer: step 2',
      ]),
    );
    const finalIndex = events.findIndex((event) => stateOf(event) === TaskState.TASK_STATE_COMPLETED);
    const lastWorking = events.findLastIndex((event) => stateOf(event) === TaskState.TASK_STATE_WORKING);
    const artifactIndex = kinds.indexOf('artifactUpdate');
    expect(finalIndex).toBe(events.length - 1);
    expect(lastWorking).toBeGreaterThan(0);
    expect(lastWorking).toBeLessThan(artifactIndex);
    expect(artifactIndex).toBeLessThan(finalIndex);

    // tasks/get reads the same task back, its artifact included.
    const first = events[0]?.payload;
    const taskId = first?.$case === 'task' ? first.value.id : '';
    const task = await sdk.getTask({ id: taskId, tenant: '', historyLength: undefined });
    expect(task.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(task.artifacts[0]?.parts[1]?.content).toEqual({
      $case: 'data',
      value: { summary: 'A text of 2 words.', words: 2 },
    });
    expect(task.history[0]?.parts[0]?.content).toEqual({ $case: 'data', value: { text: 'alpha beta' } });
  });

  it('tasks/cancel reaches the running Baton run through its AbortSignal', async () => {
    const sdk = await client(slow.url);
    const stream = sdk.sendMessageStream(send([data({ text: 'take your time' })]));
    const seen: StreamResponse[] = [];
    let taskId = '';
    for await (const event of stream) {
      seen.push(event);
      if (event.payload?.$case === 'task') taskId = event.payload.value.id;
      if (stateOf(event) === TaskState.TASK_STATE_WORKING) break;
    }
    expect(slow.handler.executor.active).toBe(1);
    const canceled = await sdk.cancelTask({ id: taskId, tenant: '', metadata: {} });
    expect(canceled.status?.state).toBe(TaskState.TASK_STATE_CANCELED);
    // The model call takes ten minutes (past the test's limit): only the abort can end the run here.
    await until(() => slow.handler.executor.active === 0, 'the run to stop');
    const task = await sdk.getTask({ id: taskId, tenant: '', historyLength: undefined });
    expect(task.status?.state).toBe(TaskState.TASK_STATE_CANCELED);
    expect(TERMINAL.has(task.status?.state ?? TaskState.TASK_STATE_UNSPECIFIED)).toBe(true);
  });

  it('invalid input is a JSON-RPC error, and no task is created', async () => {
    const sdk = await client(serving.url);
    await expect(sdk.sendMessage(send([data({ text: 42 })]))).rejects.toThrow(
      /does not match contract text\.summarize@1/,
    );
    const response = await fetch(serving.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'A2A-Version': '1.0' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 7,
        method: 'SendMessage',
        params: { message: { messageId: 'm-1', role: 'ROLE_USER', parts: [{ data: { words: 'none' } }] } },
      }),
    });
    const body = (await response.json()) as {
      id: number;
      error?: { code: number; message: string };
      result?: unknown;
    };
    expect(body.id).toBe(7);
    expect(body.result).toBeUndefined();
    expect(body.error?.code).toBe(-32602);
    expect(body.error?.message).toMatch(/text: Invalid input/);
    // Not JSON at all: a parse error.
    const garbage = await fetch(serving.url, { method: 'POST', body: '{nope' });
    expect(((await garbage.json()) as { error: { code: number } }).error.code).toBe(-32700);
  });

  it('answers the v0.3 method names (message/send, tasks/get) for clients without A2A-Version', async () => {
    const rpc = async (method: string, params: unknown) => {
      const response = await fetch(serving.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: method, method, params }),
      });
      return (await response.json()) as {
        result?: { id: string; status: { state: string }; artifacts?: unknown[] };
      };
    };
    const sent = await rpc('message/send', {
      message: {
        kind: 'message',
        role: 'user',
        messageId: 'legacy-1',
        parts: [{ kind: 'text', text: 'a b c' }],
      },
    });
    expect(sent.result?.status.state).toBe('completed');
    const read = await rpc('tasks/get', { id: sent.result?.id });
    expect(read.result?.status.state).toBe('completed');
    expect(JSON.stringify(read.result?.artifacts)).toContain('A text of 3 words.');
  });
});
