import { type StreamResponse, type Task, TaskState } from '@a2a-js/sdk';
import { ClientFactory, ClientFactoryOptions, JsonRpcTransportFactory } from '@a2a-js/sdk/client';
import { a2aAgent } from '@baton/a2a';
import { type Catalogue, type GatewayServer, startGateway } from '@baton/serve';
import { pipeline } from '@baton/supervisor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, data, send, stateOf, summarizeContract, summarizer, text } from './helpers.js';

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

describe('the gateway serves every catalogue team and agent over A2A (/a2a/:name)', () => {
  let server: GatewayServer;

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
