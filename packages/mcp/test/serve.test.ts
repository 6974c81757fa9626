import { type AgentLike, defineAgent, defineHandoff, type RunResult, run } from '@baton/core';
import { scriptedModel, toolContext } from '@baton/core/testing';
import { type McpServing, mcpServer, serveMcp } from '@baton/mcp';
import { pipeline } from '@baton/supervisor';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { until } from './helpers.js';

const summarize = defineHandoff({
  name: 'summary.request',
  version: 1,
  input: z.object({ topic: z.string().min(2), words: z.number().int().max(200).optional() }),
  output: z.object({ summary: z.string(), sources: z.array(z.string()) }),
});

function summarizer(
  reply: string | { text: string; delayMs: number } = JSON.stringify({
    summary: 'Budgets bound teams.',
    sources: ['a'],
  }),
) {
  return defineAgent<{ topic: string }, { summary: string; sources: string[] }>({
    name: 'summarizer',
    description: 'Summarizes a topic with sources',
    instructions: 'Summarize.',
    model: scriptedModel(() => reply),
    output: summarize.output,
  });
}

const servings: McpServing[] = [];
const clients: Client[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await Promise.all(servings.splice(0).map((serving) => serving.close()));
});

async function serve(
  target: Parameters<typeof serveMcp>[0],
  options: Omit<Parameters<typeof serveMcp>[1], 'transport'> & { http?: object } = {},
) {
  const { http, ...rest } = options;
  const serving = await serveMcp(target, { ...rest, transport: { http: { port: 0, ...http } } });
  servings.push(serving);
  return serving;
}

async function sdkClient(url: string, headers?: Record<string, string>): Promise<Client> {
  const client = new Client({ name: 'test', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(url), headers ? { requestInit: { headers } } : {}),
  );
  clients.push(client);
  return client;
}

describe('serveMcp over Streamable HTTP, called by the SDK client', () => {
  it('exposes an agent as one tool typed by its handoff contract, with structured output', async () => {
    const serving = await serve(summarizer(), { contract: summarize });
    expect(serving.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    const client = await sdkClient(serving.url as string);
    const { tools } = await client.listTools();
    expect(tools).toHaveLength(1);
    expect(tools[0]).toMatchObject({
      name: 'summarizer',
      description: 'Summarizes a topic with sources',
      inputSchema: {
        type: 'object',
        properties: { topic: { type: 'string' }, words: { type: 'integer' } },
        required: ['topic'],
      },
      outputSchema: { type: 'object', required: ['summary', 'sources'] },
    });
    const progress: string[] = [];
    const result = await client.callTool({ name: 'summarizer', arguments: { topic: 'budgets' } }, undefined, {
      onprogress: (update) => progress.push(update.message ?? ''),
    });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toEqual({ summary: 'Budgets bound teams.', sources: ['a'] });
    expect(progress).toContain('summarizer: step 1');
  });

  it('answers invalid arguments with an error result naming the problem, and runs nothing', async () => {
    let runs = 0;
    const agent = summarizer();
    const counted: AgentLike = {
      ...agent,
      name: agent.name,
      description: agent.description,
      run: (input, options) => {
        runs++;
        return agent.run(input as { topic: string }, options);
      },
    };
    const serving = await serve(counted, { contract: summarize });
    const client = await sdkClient(serving.url as string);
    const result = await client.callTool({ name: 'summarizer', arguments: { topic: 'x', words: 1.5 } });
    expect(result.isError).toBe(true);
    expect(JSON.stringify(result.content)).toMatch(/topic/);
    expect(JSON.stringify(result.content)).toMatch(/words/);
    expect(runs).toBe(0);
  });

  it('takes { input: string } from an agent without a contract, and reports a run that did not complete', async () => {
    const agent = defineAgent({
      name: 'echoer',
      description: 'Answers in words',
      instructions: 'x',
      model: scriptedModel((request) => `You said: ${String(request.messages.at(-1)?.content).slice(0, 40)}`),
    });
    const serving = await serve(agent);
    const client = await sdkClient(serving.url as string);
    const [tool] = (await client.listTools()).tools;
    expect(tool?.inputSchema).toMatchObject({
      type: 'object',
      properties: { input: { type: 'string' } },
      required: ['input'],
    });
    const ok = await client.callTool({ name: 'echoer', arguments: { input: 'hello' } });
    expect(ok.isError).toBeFalsy();
    expect(JSON.stringify(ok.content)).toContain('You said:');

    const failing = defineAgent({
      name: 'looper',
      description: 'Never finishes',
      instructions: 'x',
      model: scriptedModel(() => ({ toolCalls: [{ name: 'nothing', args: {} }] })),
      limits: { maxSteps: 2 },
    });
    const second = await serve(failing);
    const other = await sdkClient(second.url as string);
    const stopped = await other.callTool({ name: 'looper', arguments: { input: 'go' } });
    expect(stopped.isError).toBe(true);
    expect(JSON.stringify(stopped.content)).toMatch(/stopped \((max_steps|repeated_action|no_progress)\)/);
  });

  it('exposes a team, and cancelling the call aborts the run', async () => {
    const results: RunResult[] = [];
    const slow = defineAgent({
      name: 'slow',
      description: 'Takes its time',
      instructions: 'x',
      model: scriptedModel([{ text: 'late', delayMs: 120_000 }]),
    });
    const recorded: AgentLike = {
      name: 'slow',
      description: slow.description,
      run: async (input, options) => {
        const result = await slow.run(String(input), options);
        results.push(result);
        return result;
      },
    };
    const team = pipeline({ name: 'slow-team', stages: [{ agent: recorded }] });
    const serving = await serve(team, { description: 'A team that takes its time' });
    const client = await sdkClient(serving.url as string);
    const [tool] = (await client.listTools()).tools;
    expect(tool).toMatchObject({ name: 'slow-team', description: 'A team that takes its time' });
    const controller = new AbortController();
    const call = client.callTool({ name: 'slow-team', arguments: { input: 'go' } }, undefined, {
      signal: controller.signal,
    });
    // Wait for the member's model call to be in flight, then cancel from the client.
    await until(() => slowStarted(slow), 20_000, 'the member to start');
    controller.abort();
    await expect(call).rejects.toThrow();
    await until(() => results.length === 1, 20_000, 'the member run to end');
    expect(results[0]?.status).toBe('aborted');
  });

  it('checks the bearer token and the Host header', async () => {
    const serving = await serve(summarizer(), { contract: summarize, http: { token: 's3cret' } });
    const url = serving.url as string;
    const post = (headers: Record<string, string>) =>
      fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          ...headers,
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      });
    expect((await post({})).status).toBe(401);
    expect((await post({ authorization: 'Bearer wrong!' })).status).toBe(401);
    const client = await sdkClient(url, { authorization: 'Bearer s3cret' });
    expect((await client.listTools()).tools).toHaveLength(1);
    // A page on another site that resolves its name to 127.0.0.1 (DNS rebinding) sends its own Host.
    const rebinding = await import('node:http').then(
      ({ request }) =>
        new Promise<number>((resolve, reject) => {
          const req = request(
            url,
            { method: 'POST', headers: { host: 'evil.example:80', authorization: 'Bearer s3cret' } },
            (res) => {
              res.resume();
              resolve(res.statusCode ?? 0);
            },
          );
          req.on('error', reject);
          req.end('{}');
        }),
    );
    expect(rebinding).toBe(403);
  });

  it('answers "busy" beyond its concurrency instead of queueing without bound', async () => {
    const agent = defineAgent({
      name: 'sleepy',
      description: 'Slow',
      instructions: 'x',
      model: scriptedModel(() => ({ text: 'ok', delayMs: 120_000 })),
    });
    const serving = await serve(agent, { concurrency: 1 });
    const client = await sdkClient(serving.url as string);
    const controller = new AbortController();
    const first = client.callTool({ name: 'sleepy', arguments: { input: 'a' } }, undefined, {
      signal: controller.signal,
    });
    first.catch(() => {});
    await until(() => slowStarted(agent), 20_000, 'the first run to start');
    const second = await client.callTool({ name: 'sleepy', arguments: { input: 'b' } });
    expect(second.isError).toBe(true);
    expect(JSON.stringify(second.content)).toMatch(/busy/);
    controller.abort();
  });

  it('is a tool source for another Baton agent: MCP both ways', async () => {
    const serving = await serve(summarizer(), { contract: summarize });
    const remote = await mcpServer({
      name: 'team',
      transport: { http: { url: serving.url as string } },
      trusted: true,
    }).connect();
    try {
      const caller = defineAgent({
        name: 'caller',
        description: 'asks the summarizer',
        instructions: 'x',
        model: scriptedModel([
          { toolCalls: [{ name: 'team__summarizer', args: { topic: 'budgets' } }] },
          'done',
        ]),
        tools: remote.tools(),
      });
      // The served agent declares nothing read-only: a trusted client still treats it as destructive.
      expect(remote.tools()[0]?.risk).toBe('destructive');
      const result = await run(caller, 'go', { approve: () => ({ decision: 'approve' }) });
      expect(result.status).toBe('completed');
      expect(result.partial.toolResults[0]?.data).toEqual({
        summary: 'Budgets bound teams.',
        sources: ['a'],
      });
    } finally {
      await remote.close();
    }
  });
});

describe('a Baton client of a restarted server', () => {
  it('starts a new session when the server forgot its own, without failing the call', async () => {
    const serving = await serveMcp(summarizer(), {
      contract: summarize,
      transport: { http: { port: 0, sessionIdleMs: 500 } },
    });
    const remote = await mcpServer({
      name: 'team',
      transport: { http: { url: serving.url as string } },
    }).connect();
    try {
      const tool = remote.tools()[0];
      if (!tool) throw new Error('no tool');
      await expect(tool.execute({ topic: 'budgets' }, toolContext())).resolves.toMatchObject({
        sources: ['a'],
      });
      // The server expires the idle session; the client does not know yet.
      await until(() => serving.sessions === 0, 20_000, 'the session to expire');
      // Its next request is answered 404: nothing ran, so the client sends it again on a new session.
      await expect(tool.execute({ topic: 'budgets' }, toolContext())).resolves.toMatchObject({
        sources: ['a'],
      });
    } finally {
      await remote.close();
      await serving.close();
    }
  });
});

/** True once the agent's scripted model has received a request. */
function slowStarted(agent: { config: { model: unknown } }): boolean {
  return ((agent.config.model as { requests: readonly unknown[] }).requests.length ?? 0) > 0;
}
