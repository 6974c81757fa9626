import { randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';

export interface McpHttpOptions {
  /** 0 (default) picks a free port; `McpServing.port` says which. */
  port?: number;
  /** Default 127.0.0.1. Anything else is reachable from the network: set a `token`. */
  host?: string;
  /** Default `/mcp`. */
  path?: string;
  /** Required as `Authorization: Bearer <token>` on every request when set. */
  token?: string;
  /** Sessions open at once (each is one client); more get 503. Default 100. */
  maxSessions?: number;
  /** A session with no request for this long is closed. Default 10 minutes. */
  sessionIdleMs?: number;
}

export interface HttpHost {
  url: string;
  port: number;
  sessions(): number;
  close(): Promise<void>;
}

interface Session {
  server: Server;
  transport: StreamableHTTPServerTransport;
  lastSeen: number;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/**
 * Streamable HTTP with one MCP session per client. A loopback server only answers requests whose Host
 * is a loopback name (DNS rebinding: a web page must not reach a local agent through its own domain).
 */
export async function hostHttp(factory: () => Server, options: McpHttpOptions): Promise<HttpHost> {
  const host = options.host ?? '127.0.0.1';
  const path = options.path ?? '/mcp';
  const maxSessions = options.maxSessions ?? 100;
  const idleMs = options.sessionIdleMs ?? 600_000;
  const token = options.token === undefined ? undefined : Buffer.from(`Bearer ${options.token}`);
  const sessions = new Map<string, Session>();

  const closeSession = (id: string) => {
    const session = sessions.get(id);
    if (!session) return;
    sessions.delete(id);
    void session.server.close().catch(() => {});
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://placeholder');
    if (url.pathname !== path) return reply(res, 404, 'Not found');
    if (LOOPBACK.has(host) && !LOOPBACK.has(hostnameOf(req.headers.host))) {
      return reply(res, 403, 'Forbidden host');
    }
    if (token && !sameSecret(req.headers.authorization, token)) return reply(res, 401, 'Unauthorized');
    const sessionId = req.headers['mcp-session-id'];
    if (typeof sessionId === 'string') {
      const session = sessions.get(sessionId);
      // 404 tells the client to start a new session (the spec's answer for an unknown session).
      if (!session) return reply(res, 404, 'Session not found');
      session.lastSeen = Date.now();
      await session.transport.handleRequest(req, res);
      return;
    }
    if (req.method !== 'POST') return reply(res, 400, 'No session: send an initialize request first');
    if (sessions.size >= maxSessions) return reply(res, 503, 'Too many sessions');
    const server = factory();
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        sessions.set(id, { server, transport, lastSeen: Date.now() });
      },
      onsessionclosed: (id) => closeSession(id),
    });
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
    };
    await server.connect(transport);
    await transport.handleRequest(req, res);
    // Not an initialize request: the transport answered the error, and this server serves nobody.
    if (transport.sessionId === undefined) await server.close().catch(() => {});
  };

  const http = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) reply(res, 500, 'Internal error');
      else res.end();
    });
  });
  // MCP clients go quiet between calls for seconds. With Node's 5 s default, an idle connection can be
  // closed just as the client reuses it for its next request (a cancel, a call), and fetch does not
  // resend a POST: the request is lost. Clients follow the Keep-Alive hint and close their side first.
  http.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 0, host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const sweep = setInterval(
    () => {
      const now = Date.now();
      for (const [id, session] of sessions) if (now - session.lastSeen > idleMs) closeSession(id);
    },
    Math.min(idleMs, 60_000),
  );
  sweep.unref();

  const port = (http.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}${path}`,
    port,
    sessions: () => sessions.size,
    close: async () => {
      clearInterval(sweep);
      for (const id of [...sessions.keys()]) closeSession(id);
      const closed = new Promise<void>((resolve) => http.close(() => resolve()));
      // Open SSE streams would hold `close` forever.
      http.closeAllConnections();
      await closed;
    },
  };
}

function hostnameOf(header: string | undefined): string {
  if (!header) return '';
  if (header.startsWith('[')) return header.slice(0, header.indexOf(']') + 1);
  return header.split(':')[0] ?? '';
}

function sameSecret(given: string | undefined, expected: Buffer): boolean {
  const actual = Buffer.from(given ?? '');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

function reply(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
}
