import {
  A2A_VERSION_HEADER,
  AGENT_CARD_PATH,
  AgentCard,
  Extensions,
  HTTP_EXTENSION_HEADER,
} from '@a2a-js/sdk';
import { A2A_LEGACY_PROTOCOL_VERSION } from '@a2a-js/sdk/compat/v0_3';
import { LegacyJsonRpcTransportHandler } from '@a2a-js/sdk/compat/v0_3/server';
import {
  defaultServerCallContextBuilder,
  JsonRpcTransportHandler,
  UnauthenticatedUser,
  validateVersion,
} from '@a2a-js/sdk/server';
import type { Context, Env, Hono, MiddlewareHandler } from 'hono';
import type { BatonRequestHandler } from './handler.js';

export interface A2aRouteOptions<E extends Env> {
  /** Runs before the JSON-RPC endpoint (authentication, rate limits); the agent card stays public. */
  guard?: MiddlewareHandler<E> | readonly MiddlewareHandler<E>[];
  /** The endpoint's URL in the card; default the URL the card was fetched from, minus its suffix. */
  publicUrl?: string;
  /** Reports failures no client can be told of (a stream that broke). Default: nothing. */
  log?: (line: string) => void;
}

const SSE_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
} as const;

type JsonRpcEnvelope = { jsonrpc: string; id: string | number | null; result?: unknown; error?: unknown };

/**
 * Mounts one A2A endpoint on a Hono app: `GET <base>/.well-known/agent-card.json` (the card) and
 * `POST <base>` (JSON-RPC: v1.0 methods with `A2A-Version: 1.0`, the v0.3 methods — `message/send`,
 * `message/stream`, `tasks/get`, `tasks/cancel`, `tasks/resubscribe` — without it). Streaming methods
 * answer with server-sent events, one JSON-RPC response per event.
 */
export function mountA2aEndpoint<E extends Env>(
  app: Hono<E>,
  base: string,
  handler: (c: Context<E>) => BatonRequestHandler | Promise<BatonRequestHandler>,
  options: A2aRouteOptions<E> = {},
): void {
  const card = `${base.replace(/\/$/, '')}/${AGENT_CARD_PATH}`;
  app.get(card, async (c) => {
    const requestHandler = await handler(c);
    const served = await requestHandler.getAgentCard();
    // The endpoint is where this card was fetched from (minus the well-known suffix), unless pinned.
    const url = options.publicUrl ?? new URL(c.req.url).href.slice(0, -(AGENT_CARD_PATH.length + 1));
    const body = AgentCard.toJSON({
      ...served,
      supportedInterfaces: served.supportedInterfaces.map((entry) => ({ ...entry, url })),
    });
    c.header('cache-control', 'public, max-age=300');
    return c.json(body as Record<string, unknown>, 200);
  });
  const guards =
    options.guard === undefined ? [] : Array.isArray(options.guard) ? options.guard : [options.guard];
  for (const guard of guards as MiddlewareHandler<E>[]) app.post(base, guard);
  app.post(base, async (c) => {
    let body: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(await c.req.text());
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        throw new Error('not an object');
      body = parsed as Record<string, unknown>;
    } catch {
      return c.json(
        {
          jsonrpc: '2.0',
          id: null,
          error: { code: -32700, message: 'Parse error: the body is not a JSON object' },
        },
        200,
      );
    }
    const id = typeof body.id === 'string' || typeof body.id === 'number' ? body.id : null;
    const requestHandler = await handler(c);
    const requestedVersion = c.req.header(A2A_VERSION_HEADER) || undefined;
    const legacy = (requestedVersion ?? A2A_LEGACY_PROTOCOL_VERSION) === A2A_LEGACY_PROTOCOL_VERSION;
    const mapError = legacy
      ? LegacyJsonRpcTransportHandler.mapToLegacyJSONRPCError
      : JsonRpcTransportHandler.mapToJSONRPCError;
    let response: JsonRpcEnvelope | AsyncGenerator<JsonRpcEnvelope, void, undefined>;
    try {
      const context = defaultServerCallContextBuilder({
        extensions: Extensions.parseServiceParameter(c.req.header(HTTP_EXTENSION_HEADER)),
        user: new UnauthenticatedUser(),
        headers: Object.fromEntries(c.req.raw.headers.entries()),
        requestedVersion,
      });
      if (!legacy) validateVersion(context.requestedVersion, await requestHandler.getAgentCard(), 'JSONRPC');
      response = legacy
        ? await new LegacyJsonRpcTransportHandler(requestHandler).handle(body, context)
        : await new JsonRpcTransportHandler(requestHandler).handle(body, context);
    } catch (error) {
      return c.json({ jsonrpc: '2.0', id, error: mapError(error) }, 200);
    }
    if (!isAsyncIterable(response)) return c.json(response, 200);

    const iterator = response[Symbol.asyncIterator]();
    let first: IteratorResult<JsonRpcEnvelope, void>;
    try {
      first = await iterator.next();
    } catch (error) {
      // Refused before anything streamed (invalid input, unknown task): a plain JSON-RPC error.
      return c.json({ jsonrpc: '2.0', id, error: mapError(error) }, 200);
    }
    const encoder = new TextEncoder();
    const frame = (value: unknown, event?: string) =>
      encoder.encode(`${event ? `event: ${event}\n` : ''}data: ${JSON.stringify(value)}\n\n`);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        if (!first.done) controller.enqueue(frame(first.value));
        if (first.done) controller.close();
      },
      async pull(controller) {
        try {
          const next = await iterator.next();
          if (next.done) controller.close();
          else controller.enqueue(frame(next.value));
        } catch (error) {
          options.log?.(`A2A stream ${String(id)} failed: ${(error as Error)?.message ?? String(error)}`);
          controller.enqueue(frame({ jsonrpc: '2.0', id, error: mapError(error) }, 'error'));
          controller.close();
        }
      },
      async cancel() {
        // The client went away: the task runs on (it can be resubscribed to); only this stream stops.
        await iterator.return?.(undefined);
      },
    });
    return new Response(stream, { status: 200, headers: SSE_HEADERS });
  });
}

function isAsyncIterable<T>(value: unknown): value is AsyncGenerator<T, void, undefined> {
  return typeof (value as { [Symbol.asyncIterator]?: unknown })?.[Symbol.asyncIterator] === 'function';
}
