import { BatonError } from '@baton/core';
import {
  DEFAULT_PORT,
  type GatewayServer,
  loadServeConfig,
  type ServeConfigInput,
  startGateway,
} from '@baton/serve';
import { CliError, EXIT } from '../errors.js';
import type { Io } from '../io.js';
import { envNatsUrl } from '../stores.js';

export interface ServeFlags {
  port?: number;
  host?: string;
  nats?: string;
  namespace?: string;
  config?: string;
  remoteMembers?: boolean;
  /** On SIGINT/SIGTERM, how long runs in flight may finish, ms. */
  drainTimeout?: number;
}

/**
 * `baton serve`: the HTTP gateway until SIGINT/SIGTERM. Keys come from `--config` and BATON_API_KEYS; with
 * none it is open and listens on loopback only, and says so. With `--nats` (or NATS_URL) async jobs go
 * on the JetStream work queue and survive a restart.
 */
export async function serveCommand(flags: ServeFlags, io: Io): Promise<number> {
  const nats = flags.nats ?? envNatsUrl();
  if (flags.remoteMembers && !nats)
    throw new CliError('--remote-members needs --nats (or NATS_URL)', EXIT.USAGE);
  const overrides: Partial<ServeConfigInput> = flags.namespace ? { namespace: flags.namespace } : {};
  let server: GatewayServer;
  // GET /metrics on the gateway (and OTLP too when OTEL_EXPORTER_OTLP_ENDPOINT is set).
  const { startMetrics } = await import('@baton/telemetry');
  const metrics = await startMetrics({ serviceName: 'baton-serve', scrape: true });
  try {
    const config = loadServeConfig({ ...(flags.config ? { file: flags.config } : {}), overrides });
    server = await startGateway({
      config,
      port: flags.port ?? DEFAULT_PORT,
      ...(flags.host ? { host: flags.host } : {}),
      ...(nats ? { nats } : {}),
      ...(flags.remoteMembers ? { remoteMembers: true } : {}),
      log: io.err,
      ...(metrics.scrape ? { metrics: metrics.scrape } : {}),
    });
  } catch (error) {
    await metrics.shutdown();
    if (error instanceof BatonError && error.code === 'CONFIG_INVALID') {
      throw new CliError(error.message, EXIT.USAGE, error.hint);
    }
    throw error;
  }
  const { gateway } = server;
  const where =
    gateway.mode === 'nats' ? `NATS ${nats} (tenants ${gateway.tenants.join(', ')})` : 'in this process';
  io.err(`Baton gateway listening on ${server.url} — runs ${where}`);
  if (gateway.open) {
    io.err(
      `OPEN: no API keys are configured, so anyone who can connect may run any team; listening on ${server.host} only. ` +
        'Set BATON_API_KEYS="<key>=<tenant>,…" (or keys in --config) to require keys.',
    );
  } else {
    io.err(`API keys: ${gateway.config.keys.length} (tenants ${gateway.tenants.join(', ')})`);
  }
  io.err(
    `OpenAPI: ${server.url}/openapi.json    Health: ${server.url}/health    Metrics: ${server.url}/metrics`,
  );

  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      io.err(`${signal}: draining (runs in flight get ${(flags.drainTimeout ?? 10_000) / 1_000} s)…`);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await server.close({ graceMs: flags.drainTimeout ?? 10_000 });
  await metrics.shutdown();
  io.err('Gateway stopped.');
  return EXIT.OK;
}
