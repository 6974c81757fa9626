import type { Agent, AgentLike, AnyTool, RunOptions, RunResult } from '@baton/core';
import type { McpServerHandle } from './client.js';

/** An agent whose MCP tools follow the servers' tool lists. */
export interface McpAgent<I, O> extends AgentLike<I, O> {
  /** The agent with the servers' current tools (rebuilt only when a tool set changed). */
  current(): Agent<I, O>;
}

/**
 * The agent with the tools of `servers` added to its own, as they are when each run starts. An agent's
 * tool set is fixed for a run (the model is shown one list, and the journal records calls by name); a
 * server's list-changed notification takes effect at the next run.
 */
export function withMcpTools<I, O>(agent: Agent<I, O>, servers: readonly McpServerHandle[]): McpAgent<I, O> {
  let built: Agent<I, O> | undefined;
  let versions = '';
  const current = (): Agent<I, O> => {
    const now = servers.map((server) => `${server.name}:${server.version}`).join(',');
    if (!built || now !== versions) {
      const own: readonly AnyTool[] = agent.config.tools ?? [];
      built = agent.with({ tools: [...own, ...servers.flatMap((server) => server.tools())] });
      versions = now;
    }
    return built;
  };
  return {
    name: agent.name,
    description: agent.description,
    current,
    run: (input: I, options?: RunOptions): Promise<RunResult<O>> => current().run(input, options),
  };
}
