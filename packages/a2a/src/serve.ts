import { timingSafeEqual } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NatsBus } from '@baton/bus';
import { BatonError } from '@baton/core';
import { serve } from '@hono/node-server';
import { Hono, type MiddlewareHandler } from 'hono';
import { agentCardOf, type CardOptions } from './card.js';
import { type A2aStores, BatonRequestHandler, memoryA2aStores, natsA2aStores } from './handler.js';
import { mountA2aEndpoint } from './http.js';
import {
  type A2aRunner,
  type A2aServable,
  type A2aTarget,
  type A2aTargetOptions,
  a2aTarget,
} from './target.js';

export interface A2aHandlerOptions extends A2aTargetOptions {
  /** The endpoint's URL for the card (a request for the card is answered with the URL it came to). */
  url?: string;
  card?: Omit<CardOptions, 'url'>;
  /** Tasks and events on NATS (any replica answers); default this process's memory. */
  nats?: NatsBus;
  /** With `nats`: the tenant whose bucket and subjects hold the tasks (default `default`). */
  namespace?: string;
  /** Stores of your own (overrides `nats`). */
  stores?: A2aStores;
  /** Stops each run after this long. */
  timeoutMs?: number;
  /**
   * Runs each task's input instead of running the agent or team here (the gateway passes its executor,
   * so a task gets a run record, a journal and durable approvals). The card and the input checks stay.
   */
  runner?: A2aRunner;
}

/** The request handler (the SDK's, with Baton's checks) serving an agent or a team. */
export function createA2aHandler(
  servable: A2aServable,
  options: A2aHandlerOptions = {},
): BatonRequestHandler {
  const own = a2aTarget(servable, options);
  const runner = options.runner;
  const target: A2aTarget = runner
    ? {
        ...own,
        run: (input, run) => runner(input, { signal: run.signal, taskId: run.runId, events: run.events }),
      }
    : own;
  const stores =
    options.stores ??
    (options.nats
      ? natsA2aStores(options.nats, options.namespace === undefined ? {} : { namespace: options.namespace })
      : memoryA2aStores());
  const card = agentCardOf(target, { url: options.url ?? 'http://localhost/', ...(options.card ?? {}) });
  return new BatonRequestHandler(card, target, {
    stores,
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
  });
}

export interface ServeA2aOptions extends A2aHandlerOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** The endpoint's path (default `/`); the card is at `<path>/.well-known/agent-card.json`. */
  path?: string;
  /** Required as `Authorization: Bearer <token>` on JSON-RPC calls when set (the card stays public). */
  token?: string;
}

export interface A2aServing {
  /** The JSON-RPC endpoint. */
  readonly url: string;
  /** Where the agent card is. */
  readonly cardUrl: string;
  readonly port: number;
  readonly handler: BatonRequestHandler;
  /** Stops listening; runs in flight are aborted after `graceMs` (default 5 s). */
  close(options?: { graceMs?: number }): Promise<void>;
}

/**
 * Serves an agent or a team as an A2A server on its own port:
 *
 * ```ts
 * const serving = await serveA2a(researchTeam(), { port: 4000, fromText: (topic) => ({ topic }) });
 * // card: serving.cardUrl — JSON-RPC: serving.url
 * ```
 */
export async function serveA2a(servable: A2aServable, options: ServeA2aOptions = {}): Promise<A2aServing> {
  const host = options.host ?? '127.0.0.1';
  const path = normalizePath(options.path ?? '/');
  const app = new Hono();
  const handler = createA2aHandler(servable, options);
  mountA2aEndpoint(app, path, () => handler, options.token ? { guard: bearer(options.token) } : {});
  let server: Server;
  try {
    server = await new Promise<Server>((resolve, reject) => {
      const started = serve({ fetch: app.fetch, port: options.port ?? 0, hostname: host }) as Server;
      started.once('error', reject);
      started.once('listening', () => {
        started.off('error', reject);
        resolve(started);
      });
    });
  } catch (error) {
    handler.stores.close();
    throw new BatonError(
      'CONFIG_INVALID',
      `Cannot listen on ${host}:${options.port ?? 0}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  const port = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  const url = `http://${shownHost}:${port}${path === '/' ? '/' : path}`;
  let closing: Promise<void> | undefined;
  return {
    url,
    cardUrl: `${url.replace(/\/$/, '')}/.well-known/agent-card.json`,
    port,
    handler,
    close(closeOptions = {}) {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const deadline = Date.now() + (closeOptions.graceMs ?? 5_000);
        while (handler.executor.active > 0 && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 20));
        handler.executor.abortAll();
        handler.stores.close();
        server.closeAllConnections();
        await stopped;
      })();
      return closing;
    },
  };
}

function normalizePath(path: string): string {
  const withSlash = path.startsWith('/') ? path : `/${path}`;
  return withSlash.length > 1 ? withSlash.replace(/\/+$/, '') : withSlash;
}

function bearer(token: string): MiddlewareHandler {
  const expected = Buffer.from(`Bearer ${token}`);
  return async (c, next) => {
    const given = Buffer.from(c.req.header('authorization') ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      c.header('WWW-Authenticate', 'Bearer realm="baton-a2a"');
      return c.json({ jsonrpc: '2.0', id: null, error: { code: -32001, message: 'Unauthorized' } }, 401);
    }
    await next();
  };
}
