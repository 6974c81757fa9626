import type { AgentLike } from '@baton/core';
import { type McpHttpOptions, type McpServable, type ServeMcpOptions, serveMcp } from '@baton/mcp';
import { formatDuration } from '@baton/teams';
import { CliError, EXIT } from '../errors.js';
import type { Io } from '../io.js';
import { loadServed } from '../load-team.js';

export interface McpServeFlags {
  /** Serve Streamable HTTP on this port (0: a free one) instead of stdio. */
  http?: string;
  host?: string;
  /** Required as a bearer token over HTTP (or BATON_MCP_TOKEN). */
  token?: string;
  /** Each run is stopped after this long, ms. */
  timeout?: number;
  /** Runs at once. */
  concurrency?: number;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

/**
 * `baton mcp serve <agent|team>`: the agent or team as one MCP tool, over stdio (for a client that
 * starts it) or Streamable HTTP, until the client goes away or SIGINT/SIGTERM. Stdout belongs to the
 * protocol in stdio mode: everything this command says goes to stderr.
 */
export async function mcpServeCommand(reference: string, flags: McpServeFlags, io: Io): Promise<number> {
  const { target, options } = await resolveTarget(reference, flags);
  const transport = httpOptions(flags);
  const serving = await serveMcp(logged(target, io), {
    ...options,
    transport: transport ? { http: transport } : 'stdio',
    ...(flags.timeout ? { timeoutMs: flags.timeout } : {}),
    ...(flags.concurrency ? { concurrency: flags.concurrency } : {}),
  });
  io.err(
    serving.url
      ? `MCP server for ${target.name} on ${serving.url}${transport?.token ? ' (bearer token required)' : ''} — Ctrl-C to stop`
      : `MCP server for ${target.name} on stdio`,
  );
  return new Promise<number>((resolve) => {
    const stop = (why: string) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      io.err(`MCP server for ${target.name} stopped (${why})`);
      void serving.close().finally(() => resolve(EXIT.OK));
    };
    const onSignal = (signal: NodeJS.Signals) => stop(signal);
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    void serving.closed.then(() => stop('the client closed the connection'));
  });
}

async function resolveTarget(
  reference: string,
  flags: McpServeFlags,
): Promise<{ target: McpServable; options: Omit<ServeMcpOptions, 'transport'> }> {
  const served = await loadServed(reference, flags.timeout ? { timeoutMs: flags.timeout } : {}, [
    'mcp',
    'serve',
    reference,
  ]);
  if (served.kind === 'agent') return { target: served.agent, options: { contract: served.contract } };
  const { loaded } = served;
  return {
    target: loaded.team as McpServable,
    options: {
      toInput: (args) => loaded.input(String(args.input)),
      inputDescription: 'What the team works on',
    },
  };
}

function httpOptions(flags: McpServeFlags): McpHttpOptions | undefined {
  if (flags.http === undefined) {
    if (flags.host !== undefined || flags.token !== undefined) {
      throw new CliError('--host and --token need --http <port>', EXIT.USAGE);
    }
    return undefined;
  }
  const port = Number(flags.http);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new CliError(`--http must be a port from 0 to 65535 (got "${flags.http}")`, EXIT.USAGE);
  }
  const host = flags.host ?? '127.0.0.1';
  const token = flags.token ?? process.env.BATON_MCP_TOKEN;
  if (!LOOPBACK.has(host) && !token) {
    throw new CliError(
      `--host ${host} is reachable from other machines: set a bearer token`,
      EXIT.USAGE,
      'Add --token <secret> (or BATON_MCP_TOKEN); clients send `Authorization: Bearer <secret>`',
    );
  }
  return { port, host, ...(token ? { token } : {}) };
}

/** The target, with a line on stderr when each run starts and ends. */
function logged(target: McpServable, io: Io): McpServable {
  const run = target.run.bind(target) as AgentLike['run'];
  const wrapped: AgentLike['run'] = async (input, options) => {
    const started = performance.now();
    io.err(`[${target.name}] run started`);
    const result = await run(input, options);
    io.err(`[${target.name}] run ${result.status} in ${formatDuration(performance.now() - started)}`);
    return result;
  };
  // Everything else stays as it is: an agent's contract and schemas, a team's kind and its results.
  return { ...target, run: wrapped } as McpServable;
}
