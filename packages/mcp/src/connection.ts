import { BatonError, raceAbort } from '@baton/core';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { ResolvedMcpConfig } from './config.js';
import { type OpenedTransport, openTransport } from './transport.js';

export type McpConnectionState = 'idle' | 'connecting' | 'ready' | 'disconnected' | 'closed';

export interface ConnectionHooks {
  /** Runs on every new connection before it is handed out (lists the tools). */
  ready(client: Client): Promise<void>;
  /** A new connection is ready (after `ready`), the first one or a reconnect. */
  connected(): void;
  /** The connection was lost (not closed by us). */
  lost(error: BatonError): void;
}

const CLIENT_INFO = { name: 'baton', version: '0.1.0' };

/**
 * One server's connection: opened on demand, shared by every call, rebuilt when the transport is lost.
 *
 * Each connection gets a generation number; events from an older one (its close, its late errors) are
 * ignored, so a reconnect never races the teardown of the connection it replaces.
 */
export class McpConnection {
  private client: Client | undefined;
  private opened: OpenedTransport | undefined;
  private opening: Promise<Client> | undefined;
  private generation = 0;
  private attempts = 0;
  private timer: NodeJS.Timeout | undefined;
  private current: McpConnectionState = 'idle';

  constructor(
    private readonly config: ResolvedMcpConfig,
    private readonly hooks: ConnectionHooks,
  ) {}

  get state(): McpConnectionState {
    return this.current;
  }

  /** The server's process id (stdio) while connected. */
  get pid(): number | undefined {
    return this.client ? this.opened?.pid() : undefined;
  }

  /** The live client: connects first, or joins the connect in progress. */
  ready(signal?: AbortSignal): Promise<Client> {
    if (this.current === 'closed') return Promise.reject(closedError(this.config.name));
    if (this.client) return Promise.resolve(this.client);
    const opening = this.opening ?? this.open();
    return signal ? raceAbort(opening, signal) : opening;
  }

  /**
   * A request on `client` failed because its transport is gone (an HTTP server that died says so only
   * through failed requests): drop it so the next call connects again.
   */
  invalidate(client: Client, error: BatonError): void {
    if (this.client !== client) return;
    this.dropped(this.generation, error);
    void client.close().catch(() => {});
  }

  async close(): Promise<void> {
    this.current = 'closed';
    this.generation++;
    clearTimeout(this.timer);
    this.timer = undefined;
    const client = this.client;
    const transport = this.opened?.transport;
    this.client = undefined;
    this.opening = undefined;
    // An HTTP session is ended explicitly, so a server with a session limit does not wait for it to expire.
    if (client && transport instanceof StreamableHTTPClientTransport) {
      await bounded(transport.terminateSession(), 2_000);
    }
    await client?.close().catch(() => {});
  }

  private open(): Promise<Client> {
    const generation = ++this.generation;
    this.current = 'connecting';
    const opening = this.connect(generation);
    this.opening = opening;
    opening.then(
      () => {
        if (this.opening === opening) this.opening = undefined;
      },
      () => {
        if (this.opening !== opening) return;
        this.opening = undefined;
        if (this.current === 'connecting') this.current = 'disconnected';
      },
    );
    return opening;
  }

  private async connect(generation: number): Promise<Client> {
    const { name, connectTimeoutMs } = this.config;
    const client = new Client(CLIENT_INFO, { capabilities: {} });
    let opened: OpenedTransport;
    try {
      opened = openTransport(this.config.transport);
    } catch (error) {
      throw unavailable(name, error, '');
    }
    // Set before connect: a server that dies during the handshake must not leave a live-looking client.
    client.onclose = () => this.dropped(generation, lostError(name, opened.stderrTail()));
    client.onerror = () => {};
    try {
      await client.connect(opened.transport, { timeout: connectTimeoutMs });
      if (generation === this.generation) await this.hooks.ready(client);
    } catch (error) {
      await client.close().catch(() => {});
      throw unavailable(name, error, opened.stderrTail());
    }
    if (generation !== this.generation) {
      // Closed (or replaced) while connecting: this connection is nobody's.
      await client.close().catch(() => {});
      throw closedError(name);
    }
    this.client = client;
    this.opened = opened;
    this.current = 'ready';
    this.attempts = 0;
    this.hooks.connected();
    return client;
  }

  private dropped(generation: number, error: BatonError): void {
    if (generation !== this.generation || this.current === 'closed' || !this.client) return;
    this.client = undefined;
    this.generation++;
    this.current = 'disconnected';
    this.hooks.lost(error);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    const policy = this.config.reconnect;
    if (!policy || this.timer || this.attempts >= policy.attempts) return;
    const delay = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** this.attempts);
    this.attempts++;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.current !== 'disconnected' || this.client || this.opening) return;
      this.open().catch(() => this.scheduleReconnect());
    }, delay);
    // A reconnect loop must not keep a finished program alive.
    this.timer.unref();
  }
}

function unavailable(server: string, error: unknown, stderr: string): BatonError {
  if (error instanceof BatonError && error.code !== 'MCP_DISCONNECTED') return error;
  const reason = error instanceof Error ? error.message : String(error);
  const said = stderr ? `; it wrote on stderr: ${stderr.slice(-500)}` : '';
  return new BatonError('MCP_UNAVAILABLE', `Cannot connect to MCP server "${server}": ${reason}${said}`, {
    cause: error,
    hint: 'Check the server command or URL; the next call tries again.',
  });
}

function lostError(server: string, stderr: string): BatonError {
  const said = stderr ? ` (its last words on stderr: ${stderr.slice(-300)})` : '';
  return new BatonError('MCP_DISCONNECTED', `The connection to MCP server "${server}" was lost${said}`);
}

function closedError(server: string): BatonError {
  return new BatonError('MCP_UNAVAILABLE', `MCP server "${server}" was closed`, { retryable: false });
}

/** Waits for `work` at most `ms`, ignoring how it ends: for courtesy calls on the way out. */
function bounded(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return Promise.race([
    work.then(
      () => {},
      () => {},
    ),
    timeout,
  ]).finally(() => clearTimeout(timer));
}
