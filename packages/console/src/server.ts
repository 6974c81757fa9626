import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { consoleApp } from './app.js';
import type { ConsoleOptions } from './types.js';

export interface ServeConsoleOptions extends ConsoleOptions {
  /** Default 127.0.0.1: the console shows tool arguments and decides approvals, so it stays local. */
  host?: string;
  /** 0 picks a free port (default 4477). */
  port?: number;
}

export interface ConsoleServer {
  /** `http://127.0.0.1:<port>/` */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Serves the console (pages and API) over HTTP until closed. */
export function serveConsole(options: ServeConsoleOptions): Promise<ConsoleServer> {
  const app = consoleApp(options);
  const host = options.host ?? '127.0.0.1';
  return new Promise((resolve, reject) => {
    const server = serve(
      { fetch: app.fetch, hostname: host, port: options.port ?? 4477 },
      (info: AddressInfo) => {
        const shown = host.includes(':') ? `[${host}]` : host;
        resolve({
          url: `http://${shown}:${info.port}/`,
          port: info.port,
          close: () =>
            new Promise<void>((done) => {
              // Open SSE streams would hold close() forever.
              (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
              server.close(() => done());
            }),
        });
      },
    );
    server.once('error', reject);
  });
}
