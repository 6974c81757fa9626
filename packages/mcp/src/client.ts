import { type AnyTool, type BatonError, EventHub, type ToolContext, ToolError } from '@baton/core';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  type CallToolResult,
  type GetPromptResult,
  type Implementation,
  type Tool as McpTool,
  type Prompt,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { type McpServerConfig, type ResolvedMcpConfig, resolveConfig } from './config.js';
import { McpConnection, type McpConnectionState } from './connection.js';
import { resourceTools } from './resources.js';
import { requestFailure, resultData, unknownSession } from './results.js';
import type { Arguments } from './schema.js';
import { McpToolBuilder, type SkippedMcpTool } from './tools.js';

export type McpServerEvent =
  | { type: 'tools.changed'; server: string; tools: AnyTool[]; version: number }
  | { type: 'disconnected'; server: string; error: BatonError }
  | { type: 'connected'; server: string };

/** A connection to one MCP server, whose tools are Baton tools. */
export interface McpServerHandle {
  readonly name: string;
  readonly trusted: boolean;
  readonly state: McpConnectionState;
  /** The server's process id (stdio) while connected. */
  readonly pid: number | undefined;
  /** Who the server says it is, from the handshake. */
  readonly serverInfo: Implementation | undefined;
  /**
   * The server's instructions, for you to read. Baton never adds them to an agent's instructions: they
   * are a third party's words, and a server could use them to steer the model.
   */
  readonly instructions: string | undefined;
  /** Grows by one each time the tool set changes (a list-changed notification, a reconnect). */
  readonly version: number;
  readonly events: EventHub<McpServerEvent>;
  /** Connects (starting the server for stdio) and lists its tools; resolves to this handle. */
  connect(options?: { signal?: AbortSignal }): Promise<McpServerHandle>;
  /** The current tools (empty before the first connect). */
  tools(): AnyTool[];
  /** Tools the server lists that are not offered, and why. */
  skipped(): SkippedMcpTool[];
  /** Lists the tools again now. */
  refresh(): Promise<AnyTool[]>;
  /** The server's prompts (templates meant for people to pick; their text is the server's words). */
  listPrompts(options?: { signal?: AbortSignal }): Promise<Prompt[]>;
  getPrompt(
    name: string,
    args?: Record<string, string>,
    options?: { signal?: AbortSignal },
  ): Promise<GetPromptResult>;
  /** Closes the connection (and stops a stdio server). */
  close(): Promise<void>;
}

/** Extra time the SDK's own request timer gets over the tool's: Baton's timer must be the one that fires. */
const SDK_TIMER_GRACE_MS = 5_000;

/**
 * An MCP server as a source of Baton tools. Nothing connects until `connect()` (or the first call):
 *
 * ```ts
 * const files = await mcpServer({ name: 'files', transport: { stdio: { command, args } } }).connect();
 * const agent = defineAgent({ ..., tools: files.tools() });
 * ```
 */
export function mcpServer(config: McpServerConfig): McpServerHandle {
  return new McpServerClient(resolveConfig(config));
}

/** `mcpServer(config).connect()`. */
export function connectMcp(
  config: McpServerConfig,
  options?: { signal?: AbortSignal },
): Promise<McpServerHandle> {
  return mcpServer(config).connect(options);
}

class McpServerClient implements McpServerHandle {
  readonly events = new EventHub<McpServerEvent>();
  private readonly connection: McpConnection;
  private readonly builder: McpToolBuilder;
  private current: AnyTool[] = [];
  private skippedTools: SkippedMcpTool[] = [];
  private toolVersion = 0;
  private info: { server?: Implementation; instructions?: string } = {};
  private refreshing: Promise<AnyTool[]> | undefined;
  private stale = false;
  /** The newest connection: a listing that must run again runs on it, not on the one it began on. */
  private listOn: Client | undefined;

  constructor(private readonly config: ResolvedMcpConfig) {
    this.builder = new McpToolBuilder(config, (name, args, context) => this.callTool(name, args, context));
    this.connection = new McpConnection(config, {
      ready: (client) => this.onConnected(client),
      connected: () => this.events.emit({ type: 'connected', server: config.name }),
      lost: (error) => this.events.emit({ type: 'disconnected', server: config.name, error }),
    });
  }

  get name(): string {
    return this.config.name;
  }
  get trusted(): boolean {
    return this.config.trusted;
  }
  get state(): McpConnectionState {
    return this.connection.state;
  }
  get pid(): number | undefined {
    return this.connection.pid;
  }
  get serverInfo(): Implementation | undefined {
    return this.info.server;
  }
  get instructions(): string | undefined {
    return this.info.instructions;
  }
  get version(): number {
    return this.toolVersion;
  }

  async connect(options: { signal?: AbortSignal } = {}): Promise<McpServerHandle> {
    await this.connection.ready(options.signal);
    return this;
  }

  tools(): AnyTool[] {
    return [...this.current];
  }

  skipped(): SkippedMcpTool[] {
    return [...this.skippedTools];
  }

  async refresh(): Promise<AnyTool[]> {
    return this.relist(await this.connection.ready());
  }

  async listPrompts(options: { signal?: AbortSignal } = {}): Promise<Prompt[]> {
    return this.request('listing prompts', options.signal, async (client) => {
      if (!client.getServerCapabilities()?.prompts) return [];
      const prompts: Prompt[] = [];
      let cursor: string | undefined;
      do {
        const page = await client.listPrompts(cursor ? { cursor } : {}, this.requestOptions(options.signal));
        prompts.push(...page.prompts);
        cursor = page.nextCursor;
      } while (cursor);
      return prompts;
    });
  }

  getPrompt(
    name: string,
    args: Record<string, string> = {},
    options: { signal?: AbortSignal } = {},
  ): Promise<GetPromptResult> {
    return this.request(`prompt "${name}"`, options.signal, (client) =>
      client.getPrompt({ name, arguments: args }, this.requestOptions(options.signal)),
    );
  }

  close(): Promise<void> {
    return this.connection.close();
  }

  private async onConnected(client: Client): Promise<void> {
    this.info = { server: client.getServerVersion(), instructions: client.getInstructions() };
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      void this.relist(client).catch(() => {
        // The old tool set stays; the next change notification or reconnect lists again.
      });
    });
    // A listing still running on the connection this one replaces may fail with it: list once more.
    await this.relist(client).catch(() => this.relist(client));
  }

  /** Lists the tools on `client`; notifications that arrive meanwhile make one more listing, not many. */
  private relist(client: Client): Promise<AnyTool[]> {
    this.listOn = client;
    if (this.refreshing) {
      this.stale = true;
      return this.refreshing;
    }
    const run = async (): Promise<AnyTool[]> => {
      do {
        this.stale = false;
        await this.list(this.listOn ?? client);
      } while (this.stale);
      return this.tools();
    };
    const refreshing = run().finally(() => {
      this.refreshing = undefined;
    });
    this.refreshing = refreshing;
    return refreshing;
  }

  private async list(client: Client): Promise<void> {
    const capabilities = client.getServerCapabilities();
    const listed: McpTool[] = [];
    if (capabilities?.tools) {
      let cursor: string | undefined;
      do {
        const page = await client.listTools(cursor ? { cursor } : {}, this.requestOptions());
        listed.push(...page.tools);
        cursor = page.nextCursor;
      } while (cursor);
    }
    const built = this.builder.build(listed);
    const tools = [...built.tools];
    if (capabilities?.resources && this.config.resources) {
      for (const tool of resourceTools(this.config, this.resourceAccess())) {
        // A server tool of the same name wins: it is what the server offers under that name.
        if (!built.names.has(tool.name)) tools.push(tool);
      }
    }
    this.skippedTools = built.skipped;
    const changed = tools.length !== this.current.length || tools.some((tool, i) => tool !== this.current[i]);
    if (!changed) return;
    this.current = tools;
    this.toolVersion++;
    this.events.emit({
      type: 'tools.changed',
      server: this.config.name,
      tools: this.tools(),
      version: this.toolVersion,
    });
  }

  private resourceAccess() {
    return {
      list: (cursor: string | undefined, context: ToolContext) =>
        this.request('listing resources', context.signal, (client) =>
          client.listResources(cursor ? { cursor } : {}, this.requestOptions(context.signal)),
        ),
      read: (uri: string, context: ToolContext) =>
        this.request(`reading "${uri}"`, context.signal, (client) =>
          client.readResource({ uri }, this.requestOptions(context.signal)),
        ),
    };
  }

  private callTool(mcpName: string, args: Arguments, context: ToolContext): Promise<unknown> {
    const timeoutMs = this.config.overrides[mcpName]?.timeoutMs ?? this.config.timeoutMs;
    return this.request(`the call to "${mcpName}"`, context.signal, async (client) => {
      const result = await client.callTool(
        { name: mcpName, arguments: args },
        undefined,
        // The signal carries Baton's timeout and the run's cancel; aborting it sends notifications/cancelled.
        { signal: context.signal, timeout: timeoutMs + SDK_TIMER_GRACE_MS },
      );
      // Servers of protocol 2024-10-07 answer `{ toolResult }`; the SDK passes it through.
      if (!('content' in result) && 'toolResult' in result) return result.toolResult;
      return resultData(this.config.name, mcpName, result as CallToolResult);
    });
  }

  /** One request on the live connection, with every failure turned into a typed error. */
  private async request<T>(
    what: string,
    signal: AbortSignal | undefined,
    send: (client: Client) => Promise<T>,
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const client = await this.connection.ready(signal);
      try {
        return await send(client);
      } catch (error) {
        if (error instanceof ToolError) throw error;
        const failure = requestFailure(this.config.name, what, error, signal);
        if (failure.lost) this.connection.invalidate(client, failure.error);
        // An HTTP server that forgot the session (it restarted, or expired it) never ran the request:
        // sending it once more on a new session cannot run anything twice.
        if (attempt === 1 && unknownSession(error)) continue;
        throw failure.error;
      }
    }
  }

  private requestOptions(signal?: AbortSignal): { signal?: AbortSignal; timeout: number } {
    return signal
      ? { signal, timeout: this.config.timeoutMs + SDK_TIMER_GRACE_MS }
      : { timeout: this.config.timeoutMs };
  }
}
