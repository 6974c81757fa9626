import { BatonError } from '@baton/core';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { hostHttp, type McpHttpOptions } from './http.js';
import { createMcpServer, runGate } from './server.js';
import { type McpServable, type ServedToolOptions, servedTool } from './target.js';

export interface ServeMcpOptions extends ServedToolOptions {
  /** `stdio` serves this process's stdin/stdout (nothing else may write to stdout then). */
  transport: 'stdio' | { http: McpHttpOptions };
  /** The server's name and version in the handshake; default the target's name and 0.1.0. */
  serverInfo?: { name: string; version: string };
  /** Runs at once, over all clients; a call beyond it is answered "busy". Default 16. */
  concurrency?: number;
  /** Each run is aborted after this long (it returns its partial result as an error). Default: none. */
  timeoutMs?: number;
}

export interface McpServing {
  /** The endpoint, for HTTP. */
  readonly url: string | undefined;
  readonly port: number | undefined;
  /** Client sessions open now (HTTP; a stdio server has its one client). */
  readonly sessions: number;
  /** Resolves when the stdio client goes away (its stdin closes) or `close()` is called. */
  readonly closed: Promise<void>;
  close(): Promise<void>;
}

/**
 * Serves an agent or a team as an MCP tool, over stdio or Streamable HTTP:
 *
 * ```ts
 * const serving = await serveMcp(researcher(), { transport: { http: { port: 3000 } }, contract: researchContract });
 * ```
 *
 * The tool's input schema is the handoff contract's input (or the agent's input schema), else
 * `{ input: string }`. A run that does not complete answers with `isError` and its partial result.
 */
export async function serveMcp(target: McpServable, options: ServeMcpOptions): Promise<McpServing> {
  if (typeof target !== 'object' || target === null || typeof target.run !== 'function') {
    throw new BatonError('CONFIG_INVALID', 'serveMcp: the target must be an agent or a team');
  }
  const concurrency = options.concurrency ?? 16;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new BatonError('CONFIG_INVALID', 'serveMcp: "concurrency" must be an integer ≥ 1', {
      details: { field: 'concurrency' },
    });
  }
  const setup = {
    target,
    tool: servedTool(target, options),
    gate: runGate(concurrency),
    info: options.serverInfo ?? { name: target.name, version: '0.1.0' },
    timeoutMs: options.timeoutMs,
  };
  let done!: () => void;
  const closed = new Promise<void>((resolve) => {
    done = resolve;
  });

  if (options.transport === 'stdio') {
    const server = createMcpServer(setup);
    const transport = new StdioServerTransport();
    transport.onclose = () => done();
    await server.connect(transport);
    // The client closing our stdin is how a stdio session ends.
    const onEnd = () => void server.close().finally(done);
    process.stdin.once('end', onEnd);
    return {
      url: undefined,
      port: undefined,
      sessions: 1,
      closed,
      close: async () => {
        process.stdin.off('end', onEnd);
        await server.close();
        done();
      },
    };
  }
  if (typeof options.transport !== 'object' || !('http' in options.transport)) {
    throw new BatonError('CONFIG_INVALID', 'serveMcp: "transport" must be "stdio" or { http: { port } }', {
      details: { field: 'transport' },
    });
  }
  const host = await hostHttp(() => createMcpServer(setup), options.transport.http);
  return {
    url: host.url,
    port: host.port,
    get sessions() {
      return host.sessions();
    },
    closed,
    close: async () => {
      await host.close();
      done();
    },
  };
}
