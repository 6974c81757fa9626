import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BatonError } from '@baton/core';
import { serve } from '@hono/node-server';
import { createGateway, type Gateway, type GatewayOptions } from './gateway.js';

export const DEFAULT_PORT = 8787;

export interface StartGatewayOptions extends GatewayOptions {
  /** Default 8787; 0 picks a free port. */
  port?: number;
  /**
   * Default 127.0.0.1. Without API keys only a loopback address is allowed: an open gateway runs
   * anything for anyone who can reach it.
   */
  host?: string;
}

export interface GatewayServer {
  readonly gateway: Gateway;
  readonly host: string;
  readonly port: number;
  /** `http://<host>:<port>` */
  readonly url: string;
  /** Stops accepting connections, closes the gateway (runs in flight get `graceMs`), then the sockets. */
  close(options?: { graceMs?: number }): Promise<void>;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** Starts the gateway on HTTP with @hono/node-server; resolves once it listens. */
export async function startGateway(options: StartGatewayOptions = {}): Promise<GatewayServer> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new BatonError('CONFIG_INVALID', `Invalid port ${port}`, { details: { port } });
  }
  const gateway = await createGateway(options);
  if (gateway.open && !isLoopback(host)) {
    await gateway.close({ graceMs: 0 });
    throw new BatonError(
      'CONFIG_INVALID',
      `No API keys are configured, so the gateway only listens on loopback, not ${host}`,
      {
        hint: 'Configure keys (BATON_API_KEYS="<key>=<tenant>" or a --config file), or leave --host out',
      },
    );
  }
  let server: Server;
  try {
    server = await new Promise<Server>((resolve, reject) => {
      const started = serve({ fetch: gateway.app.fetch, port, hostname: host }) as Server;
      started.once('error', reject);
      started.once('listening', () => {
        started.off('error', reject);
        resolve(started);
      });
    });
  } catch (error) {
    await gateway.close({ graceMs: 0 });
    throw new BatonError('CONFIG_INVALID', `Cannot listen on ${host}:${port}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    gateway,
    host: address.address,
    port: address.port,
    url: `http://${shownHost}:${address.port}`,
    close(closeOptions = {}) {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await gateway.close(closeOptions);
        // Runs have ended, so their streams have too; whatever still holds a socket is let go.
        server.closeAllConnections();
        await stopped;
      })();
      return closing;
    },
  };
}
