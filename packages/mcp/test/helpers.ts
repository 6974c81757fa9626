/** Reference MCP servers from npm, started with this Node (no npx: works offline), and test doubles. */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import type { McpTransportConfig } from '@baton/mcp';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { afterAll } from 'vitest';

const require = createRequire(import.meta.url);

export type ReferenceServer = 'everything' | 'filesystem' | 'memory';

/** The entry script of a reference server: its package's `bin`. */
export function entryOf(server: ReferenceServer): string {
  const manifest = require.resolve(`@modelcontextprotocol/server-${server}/package.json`);
  const { bin } = JSON.parse(readFileSync(manifest, 'utf8')) as { bin: Record<string, string> };
  const script = Object.values(bin)[0];
  if (!script) throw new Error(`@modelcontextprotocol/server-${server} has no bin`);
  return join(dirname(manifest), script);
}

export function stdio(
  server: ReferenceServer,
  args: string[] = [],
  env?: Record<string, string>,
): McpTransportConfig {
  return { stdio: { command: process.execPath, args: [entryOf(server), ...args], ...(env ? { env } : {}) } };
}

/** A transport that records what the client sends, to show what the server saw (or never saw). */
export interface SpiedTransport {
  sent: JSONRPCMessage[];
  wrap(transport: Transport): Transport;
}

export function spy(): SpiedTransport {
  const sent: JSONRPCMessage[] = [];
  return {
    sent,
    wrap(inner) {
      const outer: Transport = {
        start: () => inner.start(),
        close: () => inner.close(),
        send: (message, options) => {
          sent.push(message);
          return inner.send(message, options);
        },
      };
      inner.onmessage = (message, extra) => outer.onmessage?.(message, extra);
      inner.onclose = () => outer.onclose?.();
      inner.onerror = (error) => outer.onerror?.(error);
      if (inner.setProtocolVersion)
        outer.setProtocolVersion = (version) => inner.setProtocolVersion?.(version);
      Object.defineProperty(outer, 'sessionId', { get: () => inner.sessionId });
      return outer;
    },
  };
}

/** Methods of the messages sent, in order. */
export function methods(spied: SpiedTransport): string[] {
  return spied.sent.map((message) => ('method' in message ? message.method : 'response'));
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const children = new Set<ChildProcess>();
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
});

/** server-everything in its Streamable HTTP mode, on `port`; resolves once it listens. */
export async function everythingOverHttp(port: number): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [entryOf('everything'), 'streamableHttp'], {
    env: { PATH: process.env.PATH ?? '', PORT: String(port) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  await new Promise<void>((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`server-everything did not listen: ${seen}`)), 60_000);
    child.stderr?.on('data', (chunk: Buffer) => {
      seen += String(chunk);
      if (/listening on port/.test(seen)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server-everything exited (${code}): ${seen}`));
    });
  });
  return { url: `http://127.0.0.1:${port}/mcp`, child };
}

/** Resolves when `predicate` holds, polling; fails after `timeoutMs` (generous: the machine may be busy). */
export async function until(predicate: () => boolean, timeoutMs = 30_000, what = 'condition'): Promise<void> {
  const started = Date.now();
  while (!predicate()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once('exit', () => resolve()));
}
