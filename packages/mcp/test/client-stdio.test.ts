import { defineAgent, run, type ToolRecord } from '@baton/core';
import { scriptedModel, toolContext } from '@baton/core/testing';
import { type McpServerEvent, type McpServerHandle, mcpServer } from '@baton/mcp';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entryOf, methods, spy, stdio, until } from './helpers.js';

/** The record of the run's call to `tool`. */
function callOf(records: readonly ToolRecord[], tool: string): ToolRecord {
  const record = records.find((entry) => entry.tool === tool);
  if (!record) throw new Error(`no call to ${tool} in ${JSON.stringify(records.map((r) => r.tool))}`);
  return record;
}

describe('an MCP server over stdio (server-everything)', () => {
  const spied = spy();
  let everything: McpServerHandle;

  beforeAll(async () => {
    everything = await mcpServer({
      name: 'everything',
      // Wrapped to see what the server was sent; the transport is still the SDK's stdio one.
      transport: {
        custom: () =>
          spied.wrap(
            new StdioClientTransport({
              command: process.execPath,
              args: [entryOf('everything')],
              stderr: 'pipe',
            }),
          ),
      },
      timeoutMs: 20_000,
      overrides: { 'trigger-long-running-operation': { timeoutMs: 400 } },
    }).connect();
  });
  afterAll(() => everything?.close());

  it('offers each tool as a Baton tool named <server>__<tool>, with the server’s JSON Schema', () => {
    const names = everything.tools().map((tool) => tool.name);
    expect(names).toEqual(expect.arrayContaining(['everything__echo', 'everything__get-sum']));
    for (const name of names) expect(name).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);
    const echo = everything.tools().find((tool) => tool.name === 'everything__echo');
    expect(echo?.spec.parameters).toMatchObject({
      type: 'object',
      properties: { message: { type: 'string' } },
      required: ['message'],
    });
    expect(echo?.untrustedOutput).toBe(true);
  });

  it('makes every tool of an untrusted server `write`, whatever its annotations claim', () => {
    // echo says readOnlyHint: true; from a server nobody vouched for, that is only a claim.
    for (const tool of everything.tools()) expect(tool.risk).toBe('write');
    expect(everything.trusted).toBe(false);
  });

  it('runs an agent whose model calls the server’s tools, end to end', async () => {
    const model = scriptedModel([
      {
        toolCalls: [
          { name: 'everything__echo', args: { message: 'hello from baton' } },
          { name: 'everything__get-sum', args: { a: 2, b: 40 } },
        ],
      },
      { text: 'The server echoed and summed.' },
    ]);
    const agent = defineAgent({
      name: 'mcp-user',
      description: 'uses the everything server',
      instructions: 'Use the tools.',
      model,
      tools: everything.tools(),
      untrustedPolicy: 'off',
    });
    const result = await run(agent, 'try the tools');
    expect(result.status).toBe('completed');
    const echo = callOf(result.partial.toolResults, 'everything__echo');
    expect(echo).toMatchObject({ ok: true, data: 'Echo: hello from baton' });
    expect(String(callOf(result.partial.toolResults, 'everything__get-sum').data)).toContain('42');
    // The results reached the model wrapped as untrusted data, like any tool result.
    const second = model.requests[1];
    const toolMessages = second?.messages.filter((message) => message.role === 'tool') ?? [];
    expect(toolMessages).toHaveLength(2);
    for (const message of toolMessages)
      expect(String(message.content)).toMatch(/^<untrusted_data source="tool:everything__/);
  });

  it('never forwards the server’s instructions to the model', async () => {
    expect(everything.instructions).toBeTruthy();
    const model = scriptedModel(['done']);
    const agent = defineAgent({
      name: 'plain',
      description: 'checks its prompt',
      instructions: 'Be brief.',
      model,
      tools: everything.tools(),
    });
    await run(agent, 'hi');
    const sent = JSON.stringify(model.requests[0]?.messages);
    const excerpt = (everything.instructions ?? '').split('\n').find((line) => line.trim().length > 20) ?? '';
    expect(excerpt.length).toBeGreaterThan(20);
    expect(sent).not.toContain(excerpt.trim());
  });

  it('rejects invalid arguments with TOOL_INPUT_INVALID before the server sees them', async () => {
    const before = spied.sent.length;
    const agent = defineAgent({
      name: 'bad-args',
      description: 'sends wrong arguments',
      instructions: 'x',
      model: scriptedModel([
        { toolCalls: [{ name: 'everything__get-sum', args: { a: 'two', c: 3 } }] },
        { text: 'gave up' },
      ]),
      tools: everything.tools(),
    });
    const result = await run(agent, 'sum');
    const call = callOf(result.partial.toolResults, 'everything__get-sum');
    expect(call.ok).toBe(false);
    expect(call.error?.code).toBe('TOOL_INPUT_INVALID');
    expect(call.error?.message).toMatch(/a: must be number/);
    expect(call.error?.message).toMatch(/b: required/);
    expect(methods({ sent: spied.sent.slice(before), wrap: spied.wrap })).not.toContain('tools/call');
  });

  it('times a slow call out, sends the MCP cancel for it, and keeps the connection', async () => {
    const agent = defineAgent({
      name: 'slow',
      description: 'calls a slow tool',
      instructions: 'x',
      model: scriptedModel([
        {
          toolCalls: [
            { name: 'everything__trigger-long-running-operation', args: { duration: 60, steps: 60 } },
          ],
        },
        { text: 'it was too slow' },
      ]),
      tools: everything.tools(),
      untrustedPolicy: 'off',
    });
    const started = performance.now();
    const result = await run(agent, 'go');
    // 400 ms timeout against a 60 s operation: generous for a loaded machine, far from the 60 s.
    expect(performance.now() - started).toBeLessThan(30_000);
    const call = callOf(result.partial.toolResults, 'everything__trigger-long-running-operation');
    expect(call.error?.code).toBe('TOOL_TIMEOUT');
    const request = spied.sent.findLast((message) => 'method' in message && message.method === 'tools/call');
    const requestId = request && 'id' in request ? request.id : undefined;
    await until(
      () =>
        spied.sent.some(
          (message) =>
            'method' in message &&
            message.method === 'notifications/cancelled' &&
            (message.params as { requestId?: unknown }).requestId === requestId,
        ),
      10_000,
      'notifications/cancelled for the timed-out call',
    );
    const echo = everything.tools().find((tool) => tool.name === 'everything__echo');
    await expect(echo?.execute({ message: 'still here' }, toolContext())).resolves.toBe('Echo: still here');
  });

  it('cancels the call when the run is aborted', async () => {
    const controller = new AbortController();
    const agent = defineAgent({
      name: 'aborted',
      description: 'is aborted mid-call',
      instructions: 'x',
      model: scriptedModel([
        {
          toolCalls: [
            { name: 'everything__trigger-long-running-operation', args: { duration: 60, steps: 60 } },
          ],
        },
        { text: 'never' },
      ]),
      tools: [...everything.tools()].map((tool) =>
        tool.name === 'everything__trigger-long-running-operation' ? { ...tool, timeoutMs: 60_000 } : tool,
      ),
      untrustedPolicy: 'off',
    });
    const cancels = () =>
      spied.sent.filter((message) => 'method' in message && message.method === 'notifications/cancelled')
        .length;
    const before = cancels();
    const calls = () =>
      spied.sent.filter((message) => 'method' in message && message.method === 'tools/call').length;
    const callsBefore = calls();
    const running = run(agent, 'go', { signal: controller.signal });
    await until(() => calls() > callsBefore, 20_000, 'the tools/call request');
    controller.abort();
    const result = await running;
    expect(result.status).toBe('aborted');
    await until(() => cancels() > before, 10_000, 'notifications/cancelled after the abort');
  });
  it('offers the server’s resources as two tools, and its prompts to the program', async () => {
    const list = everything.tools().find((tool) => tool.name === 'everything__list_resources');
    const read = everything.tools().find((tool) => tool.name === 'everything__read_resource');
    if (!list || !read) throw new Error('resource tools missing');
    const listed = (await list.execute({}, toolContext())) as {
      resources: { uri: string; mimeType?: string }[];
    };
    const text = listed.resources.find((resource) => resource.mimeType?.startsWith('text/'));
    expect(text?.uri).toMatch(/^demo:\/\//);
    await expect(read.execute({ uri: text?.uri }, toolContext())).resolves.toEqual(expect.any(String));
    const prompts = await everything.listPrompts();
    expect(prompts.map((prompt) => prompt.name)).toContain('simple-prompt');
    const prompt = await everything.getPrompt('simple-prompt');
    expect(prompt.messages.length).toBeGreaterThan(0);
  });
});

describe('losing a stdio server', () => {
  it('fails the call in flight with MCP_DISCONNECTED, then reconnects by itself', async () => {
    const spied = spy();
    const started: StdioClientTransport[] = [];
    const server = await mcpServer({
      name: 'everything',
      transport: {
        custom: () => {
          const transport = new StdioClientTransport({
            command: process.execPath,
            args: [entryOf('everything')],
            stderr: 'pipe',
          });
          started.push(transport);
          return spied.wrap(transport);
        },
      },
      reconnect: { initialDelayMs: 50, maxDelayMs: 500 },
    }).connect();
    const events: McpServerEvent['type'][] = [];
    server.events.on('*', (event) => events.push(event.type));
    try {
      const firstPid = started[0]?.pid;
      expect(firstPid).toBeGreaterThan(0);
      const slow = server.tools().find((tool) => tool.name === 'everything__trigger-long-running-operation');
      const echo = server.tools().find((tool) => tool.name === 'everything__echo');
      if (!slow || !echo) throw new Error('tools missing');
      const call = Promise.resolve(slow.execute({ duration: 60, steps: 60 }, toolContext())).then(
        () => undefined,
        (error: unknown) => error,
      );
      await until(() => methods(spied).includes('tools/call'), 20_000, 'the call to be sent');
      process.kill(firstPid as number, 'SIGKILL');
      const error = (await call) as { code?: string; retryable?: boolean };
      expect(error?.code).toBe('MCP_DISCONNECTED');
      expect(error?.retryable).toBe(true);
      // The same tool objects work again once the background reconnect is done (a call also waits for it).
      await expect(echo.execute({ message: 'back' }, toolContext())).resolves.toBe('Echo: back');
      expect(started.length).toBeGreaterThanOrEqual(2);
      expect(started.at(-1)?.pid).not.toBe(firstPid);
      expect(events).toContain('disconnected');
      expect(events).toContain('connected');
    } finally {
      await server.close();
    }
  });

  it('knows the process id of a stdio server it started', async () => {
    const server = await mcpServer({ name: 'memory', transport: stdio('memory') }).connect();
    try {
      expect(server.pid).toBeGreaterThan(0);
      expect(server.state).toBe('ready');
    } finally {
      await server.close();
    }
    expect(server.state).toBe('closed');
  });

  it('reports a server that cannot start as MCP_UNAVAILABLE, with what it wrote on stderr', async () => {
    const server = mcpServer({
      name: 'broken',
      transport: {
        stdio: {
          command: process.execPath,
          args: ['-e', 'console.error("no config given"); process.exit(3)'],
        },
      },
      reconnect: false,
    });
    await expect(server.connect()).rejects.toMatchObject({
      code: 'MCP_UNAVAILABLE',
      message: expect.stringContaining('no config given'),
    });
    await server.close();
  });
});
