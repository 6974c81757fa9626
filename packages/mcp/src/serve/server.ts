import { BatonError, EventHub, type RunEvent, type RunResult } from '@baton/core';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  type CallToolResult,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
  type ServerNotification,
} from '@modelcontextprotocol/sdk/types.js';
import { answerText, failureText, type McpServable, type ServedTool, type TeamLikeResult } from './target.js';

export interface RunGate {
  /** False when `concurrency` runs are already going: the call is refused, not queued without bound. */
  enter(): boolean;
  leave(): void;
}

export function runGate(concurrency: number): RunGate {
  let running = 0;
  return {
    enter: () => {
      if (running >= concurrency) return false;
      running++;
      return true;
    },
    leave: () => {
      running--;
    },
  };
}

export interface ServerSetup {
  target: McpServable;
  tool: ServedTool;
  gate: RunGate;
  info: { name: string; version: string };
  /** Stops runs that take longer (a real timer: the run's signal aborts). */
  timeoutMs: number | undefined;
}

/**
 * One MCP server (a connection's worth) exposing the target as a single tool. The call's cancellation
 * (`notifications/cancelled`, or the client going away) aborts the run through its signal.
 */
export function createMcpServer(setup: ServerSetup): Server {
  const { tool, info } = setup;
  const server = new Server(info, { capabilities: { tools: {} } });
  const definition = {
    name: tool.name,
    description: tool.description,
    inputSchema: tool.inputSchema,
    ...(tool.outputSchema ? { outputSchema: tool.outputSchema } : {}),
    // An agent is a model acting in the world: nothing it does is promised to be read-only or closed.
    annotations: { readOnlyHint: false, openWorldHint: true },
  };
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: [definition] }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    if (request.params.name !== tool.name) {
      throw new McpError(
        ErrorCode.InvalidParams,
        `Unknown tool "${request.params.name}"; this server has "${tool.name}"`,
      );
    }
    const parsed = tool.parse(request.params.arguments);
    if (!parsed.ok) return errorResult(parsed.message);
    if (!setup.gate.enter())
      return errorResult(`"${tool.name}" is busy with other calls; try again shortly.`);
    try {
      const progressToken = request.params._meta?.progressToken;
      const events =
        progressToken === undefined
          ? undefined
          : progressEvents((n) => extra.sendNotification(progress(progressToken, n)));
      const result = await runTarget(setup, parsed.input, extra.signal, events);
      return toCallResult(tool, result);
    } catch (error) {
      // Runs return a status for every limit; what throws is a fault the caller should still read.
      const failure = BatonError.wrap(error);
      return errorResult(`The run failed (${failure.code}): ${failure.message}`);
    } finally {
      setup.gate.leave();
    }
  });
  return server;
}

async function runTarget(
  setup: ServerSetup,
  input: unknown,
  callSignal: AbortSignal,
  events: EventHub<RunEvent> | undefined,
): Promise<RunResult | TeamLikeResult> {
  const deadline = new AbortController();
  const { timeoutMs } = setup;
  const timer =
    timeoutMs === undefined
      ? undefined
      : setTimeout(
          () => deadline.abort(new BatonError('TIMEOUT', `The run did not finish within ${timeoutMs} ms`)),
          timeoutMs,
        );
  const signal = AbortSignal.any([callSignal, deadline.signal]);
  // Teams and agents take the same two options; each returns its own kind of result.
  const run = setup.target.run as (input: unknown, options: object) => Promise<RunResult | TeamLikeResult>;
  try {
    return await run.call(setup.target, input, { signal, ...(events ? { events } : {}) });
  } finally {
    clearTimeout(timer);
  }
}

function toCallResult(tool: ServedTool, result: RunResult | TeamLikeResult): CallToolResult {
  if (result.status !== 'completed') return errorResult(failureText(result));
  const structured = tool.structured(result.output);
  if (!structured.ok) return errorResult(structured.message);
  return {
    content: [{ type: 'text', text: answerText(result.output) }],
    ...(structured.value ? { structuredContent: structured.value } : {}),
    _meta: { 'baton/runId': result.runId, 'baton/traceId': result.traceId },
  };
}

function errorResult(text: string): CallToolResult {
  return { content: [{ type: 'text', text }], isError: true };
}

/** Every step and tool call of the run (members of a team included) as one more unit of progress. */
function progressEvents(
  send: (message: { progress: number; message: string }) => Promise<void>,
): EventHub<RunEvent> {
  const events = new EventHub<RunEvent>();
  let count = 0;
  events.on('*', (event) => {
    let message: string | undefined;
    if (event.type === 'step.start') message = `${event.agent}: step ${event.step}`;
    else if (event.type === 'tool.start') message = `${event.agent}: ${event.tool}`;
    if (message === undefined) return;
    count++;
    // Progress is best effort: a client that went away must not fail the run.
    send({ progress: count, message }).catch(() => {});
  });
  return events;
}

function progress(token: string | number, update: { progress: number; message: string }): ServerNotification {
  return { method: 'notifications/progress', params: { progressToken: token, ...update } };
}
