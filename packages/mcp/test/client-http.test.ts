import { randomUUID } from 'node:crypto';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { defineAgent, run } from '@baton/core';
import { scriptedModel, toolContext } from '@baton/core/testing';
import { mcpServer, withMcpTools } from '@baton/mcp';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { everythingOverHttp, exited, freePort, until } from './helpers.js';

describe('server-everything over Streamable HTTP', () => {
  it('runs an agent against it, fails typed when the server dies, and reconnects when it is back', async () => {
    const port = await freePort();
    let { url, child } = await everythingOverHttp(port);
    const server = await mcpServer({
      name: 'everything',
      transport: { http: { url } },
      reconnect: { attempts: 3, initialDelayMs: 50, maxDelayMs: 200 },
    }).connect();
    try {
      const agent = withMcpTools(
        defineAgent({
          name: 'http-user',
          description: 'uses the everything server over HTTP',
          instructions: 'x',
          model: scriptedModel([
            { toolCalls: [{ name: 'everything__echo', args: { message: 'over http' } }] },
            'ok',
          ]),
          untrustedPolicy: 'off',
        }),
        [server],
      );
      const result = await run(agent, 'go');
      expect(result.status).toBe('completed');
      expect(result.partial.toolResults[0]).toMatchObject({
        tool: 'everything__echo',
        ok: true,
        data: 'Echo: over http',
      });

      const echo = server.tools().find((tool) => tool.name === 'everything__echo');
      if (!echo) throw new Error('no echo');
      child.kill('SIGKILL');
      await exited(child);
      await expect(
        Promise.resolve(echo.execute({ message: 'anyone?' }, toolContext())),
      ).rejects.toMatchObject({
        code: expect.stringMatching(/^MCP_(DISCONNECTED|UNAVAILABLE)$/),
      });

      ({ url, child } = await everythingOverHttp(port));
      await expect(echo.execute({ message: 'back' }, toolContext())).resolves.toBe('Echo: back');
    } finally {
      await server.close();
      child.kill('SIGKILL');
    }
  });
});

/** A tiny MCP server made with the SDK's McpServer, over Streamable HTTP in this process. */
describe('a server built with the SDK, over Streamable HTTP', () => {
  let http: HttpServer;
  let url: string;
  const cancelled: string[] = [];
  /** One McpServer per client session, as an SDK server keeps one client. */
  const sessions = new Map<string, { mcp: McpServer; transport: StreamableHTTPServerTransport }>();

  function tinyServer(): McpServer {
    const mcp = new McpServer(
      { name: 'tiny', version: '1.0.0' },
      { capabilities: { tools: { listChanged: true } } },
    );
    mcp.registerTool(
      'add',
      { description: 'Adds two numbers', inputSchema: { a: z.number(), b: z.number() } },
      async ({ a, b }) => ({ content: [{ type: 'text', text: String(a + b) }] }),
    );
    mcp.registerTool(
      'wait',
      { description: 'Waits until cancelled', inputSchema: { label: z.string() } },
      ({ label }, extra) =>
        new Promise((resolve) => {
          extra.signal.addEventListener('abort', () => {
            cancelled.push(label);
            resolve({ content: [{ type: 'text', text: 'cancelled' }] });
          });
        }),
    );
    return mcp;
  }

  beforeAll(async () => {
    http = createServer(async (req, res) => {
      const id = req.headers['mcp-session-id'];
      const known = typeof id === 'string' ? sessions.get(id) : undefined;
      if (known) return known.transport.handleRequest(req, res);
      const mcp = tinyServer();
      const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (sessionId) => {
          sessions.set(sessionId, { mcp, transport });
        },
      });
      await mcp.connect(transport);
      await transport.handleRequest(req, res);
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`;
  });
  afterAll(async () => {
    for (const { mcp } of sessions.values()) await mcp.close();
    http?.closeAllConnections();
    await new Promise((resolve) => http?.close(resolve));
  });

  it('follows tool-list change notifications, and a new run gets the new tools', async () => {
    const server = await mcpServer({ name: 'tiny', transport: { http: { url } } }).connect();
    try {
      expect(server.tools().map((tool) => tool.name)).toEqual(['tiny__add', 'tiny__wait']);
      const agent = withMcpTools(
        defineAgent({
          name: 'calc',
          description: 'calculates',
          instructions: 'x',
          model: scriptedModel(['ok']),
        }),
        [server],
      );
      expect([...agent.current().tools.keys()]).toEqual(['tiny__add', 'tiny__wait']);
      const version = server.version;
      for (const { mcp } of sessions.values()) {
        mcp.registerTool(
          'times',
          { description: 'Multiplies two numbers', inputSchema: { a: z.number(), b: z.number() } },
          async ({ a, b }) => ({ content: [{ type: 'text', text: String(a * b) }] }),
        );
      }
      await until(() => server.version > version, 20_000, 'the tool list to refresh');
      expect(server.tools().map((tool) => tool.name)).toContain('tiny__times');
      expect([...agent.current().tools.keys()]).toContain('tiny__times');
      const times = server.tools().find((tool) => tool.name === 'tiny__times');
      await expect(times?.execute({ a: 6, b: 7 }, toolContext())).resolves.toBe('42');
    } finally {
      await server.close();
    }
  });

  it('sends the MCP cancel when a call times out: the server sees its request aborted', async () => {
    const server = await mcpServer({ name: 'tiny', transport: { http: { url } }, timeoutMs: 300 }).connect();
    try {
      const agent = defineAgent({
        name: 'waiter',
        description: 'waits',
        instructions: 'x',
        model: scriptedModel([{ toolCalls: [{ name: 'tiny__wait', args: { label: 'first' } }] }, 'gave up']),
        tools: server.tools(),
        untrustedPolicy: 'off',
      });
      const result = await run(agent, 'go');
      expect(result.partial.toolResults[0]?.error?.code).toBe('TOOL_TIMEOUT');
      await until(() => cancelled.includes('first'), 20_000, 'the server to see the cancel');
    } finally {
      await server.close();
    }
  });

  it('sends headers with every request', async () => {
    const seen: (string | undefined)[] = [];
    const listener = (req: { headers: Record<string, string | string[] | undefined> }) => {
      seen.push(req.headers['x-tenant'] as string | undefined);
    };
    http.on('request', listener);
    const server = await mcpServer({
      name: 'tiny',
      transport: { http: { url, headers: { 'x-tenant': 'acme' } } },
    }).connect();
    try {
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.every((value) => value === 'acme')).toBe(true);
    } finally {
      http.off('request', listener);
      await server.close();
    }
  });
});
