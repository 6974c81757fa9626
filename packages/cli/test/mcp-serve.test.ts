import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN_SOURCE, collect, runCli, startCli, waitForStderr } from './cli.js';

const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
/** `baton` from its sources, as an MCP client starts a stdio server: this Node, no npx. */
const BATON = ['--conditions=@baton/source', '--import', TSX, BIN_SOURCE];
/** Generous bounds: they catch a hang, not slowness (the suite must hold with every core busy). */
const STARTUP_MS = 180_000;
const TEST_MS = 400_000;

let cwd: string;
beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'baton-mcp-cli-'));
});
afterAll(async () => {
  if (cwd) await rm(cwd, { recursive: true, force: true });
});

describe('baton mcp serve', () => {
  it(
    'serves an agent over stdio to the SDK client, typed by its handoff contract',
    async () => {
      const transport = new StdioClientTransport({
        command: process.execPath,
        args: [...BATON, 'mcp', 'serve', 'researcher'],
        cwd,
        stderr: 'pipe',
      });
      let stderr = '';
      transport.stderr?.on('data', (chunk: Buffer) => {
        stderr += String(chunk);
      });
      const client = new Client({ name: 'test', version: '1.0.0' });
      try {
        // Node + tsx compile the CLI's sources at start: minutes, on a machine with every core busy.
        await client.connect(transport, { timeout: STARTUP_MS });
        const { tools } = await client.listTools();
        expect(tools.map((tool) => tool.name)).toEqual(['researcher']);
        expect(tools[0]?.inputSchema).toMatchObject({
          type: 'object',
          properties: { topic: { type: 'string' } },
          required: ['topic'],
        });
        const result = await client.callTool(
          { name: 'researcher', arguments: { topic: 'retries' } },
          undefined,
          { timeout: STARTUP_MS },
        );
        expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
        expect(result.structuredContent).toMatchObject({ topic: 'retries', sources: expect.any(Array) });
        const invalid = await client.callTool({ name: 'researcher', arguments: { subject: 'retries' } });
        expect(invalid.isError).toBe(true);
        expect(JSON.stringify(invalid.content)).toMatch(/topic/);
      } finally {
        await client.close();
      }
      expect(stderr).toMatch(/MCP server for researcher on stdio/);
      expect(stderr).toMatch(/\[researcher\] run completed/);
      // Closing stdin is how a stdio client says goodbye: the server leaves by itself, no signal needed.
      expect(stderr).toMatch(/stopped \(the client closed the connection\)/);
    },
    TEST_MS,
  );

  it(
    'serves a team over Streamable HTTP, with a bearer token',
    async () => {
      const child = startCli(['mcp', 'serve', 'research', '--http', '0', '--token', 'let-me-in'], { cwd });
      const said = await waitForStderr(child, /on (http:\/\/\S+) /, STARTUP_MS);
      const url = /on (http:\/\/\S+) /.exec(said)?.[1] as string;
      const client = new Client({ name: 'test', version: '1.0.0' });
      try {
        const refused = await fetch(url, { method: 'POST', body: '{}' });
        expect(refused.status).toBe(401);
        await client.connect(
          new StreamableHTTPClientTransport(new URL(url), {
            requestInit: { headers: { authorization: 'Bearer let-me-in' } },
          }),
        );
        const { tools } = await client.listTools();
        expect(tools[0]).toMatchObject({
          name: 'research',
          inputSchema: { properties: { input: { type: 'string' } }, required: ['input'] },
        });
        const result = await client.callTool(
          { name: 'research', arguments: { input: 'retries and backoff' } },
          undefined,
          { timeout: STARTUP_MS },
        );
        expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
        expect(JSON.stringify(result.content)).toMatch(/retries/i);
      } finally {
        await client.close();
        child.kill('SIGINT');
      }
      const exit = await collect(child, STARTUP_MS);
      expect(exit.code).toBe(0);
    },
    TEST_MS,
  );

  it(
    'refuses an unknown name, and a public address without a token',
    async () => {
      const [unknown, open] = await Promise.all([
        runCli(['mcp', 'serve', 'nobody'], { cwd, timeoutMs: STARTUP_MS }),
        runCli(['mcp', 'serve', 'researcher', '--http', '0', '--host', '0.0.0.0'], {
          cwd,
          env: { BATON_MCP_TOKEN: undefined },
          timeoutMs: STARTUP_MS,
        }),
      ]);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toMatch(/Unknown agent or team "nobody"/);
      expect(open.code).toBe(2);
      expect(open.stderr).toMatch(/bearer token/);
    },
    TEST_MS,
  );
});
