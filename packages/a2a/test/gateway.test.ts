import { type StreamResponse, type Task, TaskState } from '@a2a-js/sdk';
import { ClientFactory, ClientFactoryOptions, JsonRpcTransportFactory } from '@a2a-js/sdk/client';
import { a2aAgent } from '@baton/a2a';
import { type Catalogue, type GatewayServer, startGateway } from '@baton/serve';
import { pipeline } from '@baton/supervisor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  client,
  data,
  dropContract,
  janitor,
  send,
  stateOf,
  summarizeContract,
  summarizer,
  text,
} from './helpers.js';

const KEY = 'a2a-test-key-0123456789';

/** The SDK's client with the gateway's API key on every call (the card itself is public). */
function authedClient(url: string) {
  const fetchImpl: typeof fetch = (input, init) => {
    const headers = new Headers(init?.headers);
    headers.set('authorization', `Bearer ${KEY}`);
    return fetch(input, { ...init, headers });
  };
  const factory = new ClientFactory(
    ClientFactoryOptions.createFrom(ClientFactoryOptions.default, {
      transports: [new JsonRpcTransportFactory({ fetchImpl })],
    }),
  );
  return factory.createFromUrl(`${url}/`);
}

/** A call to the gateway's own API with the key. */
async function gatewayApi<T>(
  base: string,
  path: string,
  method = 'GET',
): Promise<{ status: number; body: T }> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    ...(method === 'POST' ? { body: '{}' } : {}),
  });
  return { status: response.status, body: (await response.json()) as T };
}

/** The status lines of a task's stream, in order. */
function statusLines(events: readonly StreamResponse[]): string[] {
  return events.flatMap((event) =>
    event.payload?.$case === 'statusUpdate' && event.payload.value.status?.message
      ? [String(event.payload.value.status.message.parts[0]?.content?.value)]
      : [],
  );
}

describe('the gateway serves every catalogue team and agent over A2A (/a2a/:name)', () => {
  let server: GatewayServer;
  const drops = { count: 0 };

  beforeAll(async () => {
    const catalogue: Catalogue = {
      teams: {
        digest: {
          name: 'digest',
          description: 'Digests a text',
          members: ['summarizer'],
          create: () =>
            pipeline({ name: 'digest', stages: [{ agent: summarizer(), contract: summarizeContract }] }),
          fromTopic: (topic) => ({ text: topic }),
        },
      },
      agents: {
        summarizer: {
          name: 'summarizer',
          description: 'Summarizes a text and counts its words',
          contract: summarizeContract,
          create: () => summarizer(),
        },
        janitor: {
          name: 'janitor',
          description: 'Drops a table',
          contract: dropContract,
          create: () => janitor(drops),
        },
      },
    };
    server = await startGateway({
      catalogue,
      port: 0,
      config: { keys: [{ id: 'tester', key: KEY, tenant: 'acme' }] },
      log: () => {},
    });
  });
  afterAll(async () => {
    await server?.close({ graceMs: 0 });
  });

  it('publishes each agent card without a key, at the well-known path under /a2a/<name>', async () => {
    const card = await (await client(`${server.url}/a2a/summarizer`)).getAgentCard();
    expect(card.name).toBe('summarizer');
    expect(card.supportedInterfaces[0]?.url).toBe(`${server.url}/a2a/summarizer`);
    const team = await (await client(`${server.url}/a2a/digest`)).getAgentCard();
    expect(team.skills[0]?.tags).toContain('team');
    const unknown = await fetch(`${server.url}/a2a/nobody/.well-known/agent-card.json`);
    expect(unknown.status).toBe(404);
  });

  it('runs an agent and a team over JSON-RPC with the API key, and refuses calls without it', async () => {
    const anonymous = await client(`${server.url}/a2a/summarizer`);
    await expect(anonymous.sendMessage(send([data({ text: 'a b' })]))).rejects.toThrow(
      /401|Unauthorized|API key/i,
    );

    const agent = await authedClient(`${server.url}/a2a/summarizer`);
    const task = (await agent.sendMessage(send([data({ text: 'one two three' })]))) as Task;
    expect(task.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(task.artifacts[0]?.parts[1]?.content).toEqual({
      $case: 'data',
      value: { summary: 'A text of 3 words.', words: 3 },
    });

    const team = await authedClient(`${server.url}/a2a/digest`);
    const events: StreamResponse[] = [];
    for await (const event of team.sendMessageStream(send([text('four words right here')])))
      events.push(event);
    expect(stateOf(events.at(-1) as StreamResponse)).toBe(TaskState.TASK_STATE_COMPLETED);
    const lines = events.flatMap((event) =>
      event.payload?.$case === 'statusUpdate' && event.payload.value.status?.message
        ? [String(event.payload.value.status.message.parts[0]?.content?.value)]
        : [],
    );
    expect(lines).toContain('user → summarizer');
  });

  it("a task runs through the gateway's executor: it has a run record, mode a2a, with its answer", async () => {
    const agent = await authedClient(`${server.url}/a2a/summarizer`);
    const task = (await agent.sendMessage(send([data({ text: 'five little words right here' })]))) as Task;
    expect(task.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    const report = task.artifacts[0]?.metadata?.baton as { runId: string; status: string };
    expect(report.status).toBe('completed');
    const { status, body } = await gatewayApi<{ id: string; mode: string; status: string; output: unknown }>(
      server.url,
      `/v1/runs/${report.runId}`,
    );
    expect(status).toBe(200);
    expect(body).toMatchObject({
      id: report.runId,
      mode: 'a2a',
      status: 'completed',
      output: { summary: 'A text of 5 words.', words: 5 },
    });
  });

  it('a destructive call pauses the task until a person approves it through the gateway, then it completes, once', async () => {
    const agent = await authedClient(`${server.url}/a2a/janitor`);
    const events: StreamResponse[] = [];
    const stream = agent.sendMessageStream(send([data({ table: 'sessions' })]));
    const iterator = stream[Symbol.asyncIterator]();
    // Read the stream until the task says it waits for a person.
    for (;;) {
      const next = await iterator.next();
      if (next.done) throw new Error(`the stream ended before the task waited: ${statusLines(events)}`);
      events.push(next.value);
      if (statusLines(events).some((line) => line.includes("waits for a person's decision"))) break;
    }
    expect(stateOf(events.at(-1) as StreamResponse)).toBe(TaskState.TASK_STATE_WORKING);
    expect(drops.count).toBe(0);
    // The run is a gateway run paused for approval, and its call is in the tenant's approvals.
    const pending = await gatewayApi<{ approvals: { runId: string; toolCallId: string; tool: string }[] }>(
      server.url,
      '/v1/approvals',
    );
    const call = pending.body.approvals.find((approval) => approval.tool === 'drop_table');
    expect(call).toBeDefined();
    const paused = await gatewayApi<{ mode: string; status: string }>(server.url, `/v1/runs/${call?.runId}`);
    expect(paused.body).toMatchObject({ mode: 'a2a', status: 'awaiting_approval' });
    const approved = await gatewayApi(
      server.url,
      `/v1/approvals/${call?.runId}/${call?.toolCallId}/approve`,
      'POST',
    );
    expect(approved.status).toBe(200);
    for (;;) {
      const next = await iterator.next();
      if (next.done) break;
      events.push(next.value);
    }
    expect(stateOf(events.at(-1) as StreamResponse)).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(statusLines(events)).toContain('janitor: drop_table approved');
    expect(drops.count).toBe(1);
    const final = await gatewayApi<{ status: string; output: unknown }>(
      server.url,
      `/v1/runs/${call?.runId}`,
    );
    expect(final.body).toMatchObject({ status: 'completed', output: { dropped: 'sessions' } });
  });

  it('tasks/cancel reaches a run paused for a person: the task is canceled, the run aborted, nothing dropped', async () => {
    const before = drops.count;
    const agent = await authedClient(`${server.url}/a2a/janitor`);
    const iterator = agent.sendMessageStream(send([data({ table: 'carts' })]))[Symbol.asyncIterator]();
    const events: StreamResponse[] = [];
    let taskId = '';
    for (;;) {
      const next = await iterator.next();
      if (next.done) throw new Error(`the stream ended before the task waited: ${statusLines(events)}`);
      events.push(next.value);
      if (next.value.payload?.$case === 'task') taskId = next.value.payload.value.id;
      if (statusLines(events).some((line) => line.includes("waits for a person's decision"))) break;
    }
    const pending = await gatewayApi<{ approvals: { runId: string; tool: string; args: unknown }[] }>(
      server.url,
      '/v1/approvals',
    );
    const runId = pending.body.approvals.find(
      (approval) => approval.tool === 'drop_table' && JSON.stringify(approval.args).includes('carts'),
    )?.runId;
    expect(runId).toBeDefined();
    await agent.cancelTask({ id: taskId, tenant: '', metadata: {} });
    for (;;) {
      const next = await iterator.next();
      if (next.done) break;
      events.push(next.value);
    }
    expect(stateOf(events.at(-1) as StreamResponse)).toBe(TaskState.TASK_STATE_CANCELED);
    const record = await gatewayApi<{ status: string }>(server.url, `/v1/runs/${runId}`);
    expect(record.body.status).toBe('aborted');
    expect(drops.count).toBe(before);
  });

  it('a Baton pipeline calls a gateway agent as its A2A member', async () => {
    const remote = a2aAgent({
      url: `${server.url}/a2a/summarizer`,
      contract: summarizeContract,
      headers: { authorization: `Bearer ${KEY}` },
    });
    const team = pipeline({ name: 'relay', stages: [{ agent: remote, contract: summarizeContract }] });
    const result = await team.run({ text: 'the quick brown fox' });
    expect(result.status).toBe('completed');
    expect(result.output).toEqual({ summary: 'A text of 4 words.', words: 4 });
    // A Baton server reports its usage: the member's two steps and their tokens reach the team ledger.
    expect(result.budget.used.steps).toBe(2);
    expect(result.budget.used.tokens).toBe(30);
  });
});
