import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  anthropicErrorBody,
  anthropicEvents,
  anthropicJson,
  anthropicStreamError,
} from './anthropic-wire.js';
import { openaiEmbeddingsJson } from './embeddings-wire.js';
import {
  openaiErrorBody,
  openaiEvents,
  openaiJson,
  openaiModerationJson,
  openaiStreamError,
} from './openai-wire.js';
import { recordingEvents } from './recording.js';
import type { RenderContext, SseEvent } from './render.js';
import type {
  ProviderReply,
  ProviderServer,
  ProviderServerOptions,
  ReceivedRequest,
  StreamInterrupt,
  WireFormat,
} from './types.js';

const RESET_GRACE_MS = 30;

interface Exchange {
  received: ReceivedRequest;
  req: IncomingMessage;
  res: ServerResponse;
  /** Resolves when the connection closes, for whatever reason. */
  closed: Promise<void>;
  /** The server itself ended the connection (a scripted reset, or close()). */
  endedByServer: boolean;
}

/**
 * A local HTTP server that speaks the OpenAI Chat Completions (`POST /chat/completions`,
 * `POST /v1/chat/completions`), OpenAI Moderations (`POST /v1/moderations`), OpenAI Embeddings
 * (`POST /v1/embeddings`) and Anthropic Messages
 * (`POST /v1/messages`) wire formats, JSON and
 * server-sent events, so tests run the official SDK clients against real HTTP. Each request gets the
 * next scripted reply (or the handler's): a model turn rendered in the request's format, a recorded
 * response replayed verbatim, an HTTP error with headers such as `retry-after`, a connection reset,
 * a stream cut short, or no answer at all. It records every request body and notices when a client
 * disconnects before its response is complete.
 *
 * ```ts
 * const server = await startProviderServer({ replies: [{ type: 'turn', text: 'Hi' }] });
 * const model = openai('gpt-4.1-mini', { baseURL: server.openaiBaseURL, apiKey: 'test' });
 * // ... later: server.requests[0].body.messages, then await server.close()
 * ```
 */
export async function startProviderServer(options: ProviderServerOptions = {}): Promise<ProviderServer> {
  const queue: ProviderReply[] = [...(options.replies ?? [])];
  const requests: ReceivedRequest[] = [];
  const disconnects: ReceivedRequest[] = [];
  const waiters = new Set<{
    since: number;
    resolve: (request: ReceivedRequest) => void;
    fail: (error: Error) => void;
  }>();
  const live = new Set<Exchange>();
  let closing = false;

  const server = createServer((req, res) => {
    serve(req, res).catch((error: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`provider server failed: ${error instanceof Error ? error.message : String(error)}`);
      } else {
        res.destroy();
      }
    });
  });

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const receivedAt = Date.now();
    const raw = await readBody(req);
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const body = parseObject(raw);
    const received: ReceivedRequest = {
      index: requests.length,
      wire: wireOf(path),
      method: req.method ?? 'GET',
      path,
      headers: flattenHeaders(req),
      body,
      stream: body.stream === true,
      receivedAt,
      clientDisconnected: false,
    };
    requests.push(received);
    const exchange: Exchange = { received, req, res, closed: Promise.resolve(), endedByServer: false };
    exchange.closed = new Promise((resolve) => {
      res.on('close', () => {
        live.delete(exchange);
        if (!res.writableFinished && !exchange.endedByServer && !closing) {
          received.clientDisconnected = true;
          disconnects.push(received);
          for (const waiter of waiters) {
            if (received.index >= waiter.since) {
              waiters.delete(waiter);
              waiter.resolve(received);
            }
          }
        }
        resolve();
      });
    });
    live.add(exchange);

    if (received.wire === 'unknown' || received.method !== 'POST') {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ error: { message: `No route ${received.method} ${path}`, type: 'not_found' } }),
      );
      return;
    }
    const reply = (await options.handler?.(received)) ??
      queue.shift() ?? {
        type: 'error',
        status: 500,
        message: `provider server: no reply scripted for request #${received.index}`,
      };
    await answer(exchange, reply, received.wire);
  }

  async function answer(exchange: Exchange, reply: ProviderReply, wire: WireFormat): Promise<void> {
    const { res, received } = exchange;
    if (reply.type === 'hang') {
      await exchange.closed;
      return;
    }
    if (reply.delayMs) await Promise.race([sleep(reply.delayMs), exchange.closed]);
    if (res.destroyed) return;
    const requestIdHeader = wire === 'openai' ? 'x-request-id' : 'request-id';
    const requestId = `req_${received.index}`;
    switch (reply.type) {
      case 'reset':
        exchange.endedByServer = true;
        res.socket?.destroy();
        return;
      case 'error': {
        const body = wire === 'openai' ? openaiErrorBody(reply) : anthropicErrorBody(reply, requestId);
        res.writeHead(reply.status, {
          'content-type': 'application/json',
          [requestIdHeader]: requestId,
          ...reply.headers,
        });
        res.end(body);
        return;
      }
      case 'recording':
        if (reply.format === 'json') {
          res.writeHead(200, { 'content-type': 'application/json', [requestIdHeader]: requestId });
          res.end(reply.content);
          return;
        }
        await writeEvents(
          exchange,
          recordingEvents(reply.content, wire),
          wire,
          reply.eventDelayMs,
          reply.interrupt,
        );
        return;
      case 'moderation': {
        const context: RenderContext = {
          index: received.index,
          model: typeof received.body.model === 'string' ? received.body.model : 'unknown-model',
          includeUsage: false,
        };
        const json = openaiModerationJson(reply, context, received.body);
        res.writeHead(json.status, { 'content-type': 'application/json', [requestIdHeader]: requestId });
        res.end(json.body);
        return;
      }
      case 'embeddings': {
        const context: RenderContext = {
          index: received.index,
          model: typeof received.body.model === 'string' ? received.body.model : 'unknown-model',
          includeUsage: false,
        };
        const json = openaiEmbeddingsJson(reply, context, received.body);
        res.writeHead(json.status, { 'content-type': 'application/json', [requestIdHeader]: requestId });
        res.end(json.body);
        return;
      }
      case 'turn': {
        const context: RenderContext = {
          index: received.index,
          model: typeof received.body.model === 'string' ? received.body.model : 'unknown-model',
          includeUsage: wire === 'anthropic' || includesUsage(received.body),
        };
        if (!received.stream) {
          const json = wire === 'openai' ? openaiJson(reply, context) : anthropicJson(reply, context);
          res.writeHead(json.status, { 'content-type': 'application/json', [requestIdHeader]: requestId });
          res.end(json.body);
          return;
        }
        const events = wire === 'openai' ? openaiEvents(reply, context) : anthropicEvents(reply, context);
        await writeEvents(exchange, events, wire, reply.eventDelayMs, reply.interrupt);
        return;
      }
    }
  }

  async function writeEvents(
    exchange: Exchange,
    events: SseEvent[],
    wire: WireFormat,
    delayMs: number | undefined,
    interrupt: StreamInterrupt | undefined,
  ): Promise<void> {
    const { res } = exchange;
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      [wire === 'openai' ? 'x-request-id' : 'request-id']: `req_${exchange.received.index}`,
    });
    res.flushHeaders();
    for (let position = 0; position <= events.length; position++) {
      if (res.destroyed) return;
      if (interrupt && position === Math.min(interrupt.afterEvents, events.length)) {
        await interruptStream(exchange, interrupt, wire);
        return;
      }
      const event = events[position];
      if (!event) break;
      const written = new Promise<void>((resolve) =>
        res.write(`${event.event ? `event: ${event.event}\n` : ''}data: ${event.data}\n\n`, () => resolve()),
      );
      if (delayMs) await Promise.race([sleep(delayMs), exchange.closed]);
      // Before a reset, let the client read what was sent: a destroyed socket drops unsent bytes, and
      // a fetch body that errors drops the chunks its reader has not pulled yet.
      if (interrupt?.mode === 'reset' && position + 1 === interrupt.afterEvents) {
        await Promise.race([written, exchange.closed]);
        await Promise.race([sleep(RESET_GRACE_MS), exchange.closed]);
      }
    }
    res.end();
  }

  async function interruptStream(
    exchange: Exchange,
    interrupt: StreamInterrupt,
    wire: WireFormat,
  ): Promise<void> {
    const { res } = exchange;
    switch (interrupt.mode) {
      case 'reset':
        exchange.endedByServer = true;
        res.socket?.destroy();
        return;
      case 'hang':
        await exchange.closed;
        return;
      case 'end':
        res.end();
        return;
      case 'error': {
        const error = interrupt.error ?? { type: 'overloaded_error', message: 'Overloaded' };
        const event = wire === 'openai' ? openaiStreamError(error) : anthropicStreamError(error);
        res.end(`${event.event ? `event: ${event.event}\n` : ''}data: ${event.data}\n\n`);
        return;
      }
    }
  }

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  return {
    url,
    openaiBaseURL: `${url}/v1`,
    requests,
    disconnects,
    push: (...replies) => {
      queue.push(...replies);
    },
    waitForDisconnect: ({ timeoutMs = 5_000, since = 0 } = {}) => {
      const seen = disconnects.find((request) => request.index >= since);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const waiter = {
          since,
          resolve: (request: ReceivedRequest) => {
            clearTimeout(timer);
            resolve(request);
          },
          fail: (error: Error) => {
            clearTimeout(timer);
            reject(error);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`provider server: no client disconnect within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    close: async () => {
      closing = true;
      for (const waiter of waiters) waiter.fail(new Error('provider server closed'));
      waiters.clear();
      for (const exchange of live) {
        exchange.endedByServer = true;
        exchange.res.destroy();
      }
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function wireOf(path: string): WireFormat | 'unknown' {
  if (path === '/chat/completions' || path.endsWith('/v1/chat/completions')) return 'openai';
  if (path === '/moderations' || path.endsWith('/v1/moderations')) return 'openai';
  if (path === '/embeddings' || path.endsWith('/v1/embeddings')) return 'openai';
  if (path === '/v1/messages' || path.endsWith('/v1/messages')) return 'anthropic';
  return 'unknown';
}

function includesUsage(body: Record<string, unknown>): boolean {
  const streamOptions = body.stream_options as { include_usage?: unknown } | undefined;
  return streamOptions?.include_usage === true;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseObject(raw: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(raw);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}

function flattenHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
