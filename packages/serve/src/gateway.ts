import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { NatsBus } from '@baton/bus';
import { BatonError, type MetricsScrape } from '@baton/core';
import type { Hono } from 'hono';
import { createApp } from './app.js';
import type { GatewayEnv } from './auth.js';
import { type Catalogue, defaultCatalogue } from './catalogue.js';
import {
  parseServeConfig,
  type ResolvedKey,
  resolveKeys,
  type ServeConfig,
  type ServeConfigInput,
} from './config.js';
import { metricsRoute } from './routes/metrics.js';
import { type Dispatcher, localDispatcher, natsDispatcher } from './runs/dispatch.js';
import { Executor, type TenantStores } from './runs/executor.js';
import { natsRunStore } from './runs/nats-store.js';
import { memoryRunStore, type RunStore } from './runs/store.js';
import { memoryTenantStores, natsTenantStores } from './runs/tenant-stores.js';
import type { GatewayServices } from './services.js';

export interface GatewayOptions {
  /** The configuration (validated here); default: no keys, the defaults of every limit. */
  config?: ServeConfigInput;
  /** What the gateway runs (default: the catalogue of `baton run`). */
  catalogue?: Catalogue;
  /**
   * NATS mode: runs, jobs, journals and approvals on this server (a URL) or bus. Async jobs then go on
   * each tenant's JetStream work queue and survive a gateway restart.
   */
  nats?: string | NatsBus;
  /** With `nats`: teams' members run on workers (`baton worker`) instead of in the gateway. */
  remoteMembers?: boolean;
  /** Names this gateway in run records and durable claims (default host:pid:random). */
  instanceId?: string;
  /** With `nats`: how long a job of a gateway that died waits before another takes it (default 3 s). */
  jobAckWaitMs?: number;
  /** Where the gateway reports failures it cannot return to a client (default stderr). */
  log?: (line: string) => void;
  /** Serve these metrics at `GET /metrics` (see `startMetrics({ scrape: true })` in @baton/telemetry). */
  metrics?: MetricsScrape;
}

export interface Gateway {
  /** The HTTP application: `fetch` for any runtime, or mount it in another Hono app. */
  readonly app: Hono<GatewayEnv>;
  readonly config: ServeConfig;
  /** No API keys: anyone who can connect may run anything (serve on loopback only). */
  readonly open: boolean;
  readonly mode: 'embedded' | 'nats';
  /** The tenants (namespaces) whose jobs this gateway runs. */
  readonly tenants: readonly string[];
  readonly instance: string;
  /** Runs in flight in this process. */
  readonly running: number;
  /** Stops taking jobs, gives the runs in flight `graceMs` (default 10 s), then stops them; closes NATS. */
  close(options?: { graceMs?: number }): Promise<void>;
}

/** Builds a gateway: its stores (memory or NATS), its runners, and its HTTP application. */
export async function createGateway(options: GatewayOptions = {}): Promise<Gateway> {
  const config = parseServeConfig(options.config ?? {});
  const keys = resolveKeys(config);
  const catalogue = options.catalogue ?? defaultCatalogue();
  const instance = options.instanceId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const tenants = keys.length > 0 ? [...new Set(keys.map((key) => key.tenant))] : [config.namespace];
  if (options.remoteMembers && options.nats === undefined) {
    throw new BatonError('CONFIG_INVALID', 'remoteMembers needs NATS (the members run on its workers)');
  }

  let bus: NatsBus | undefined;
  let ownsBus = false;
  if (typeof options.nats === 'string') {
    bus = await NatsBus.connect({
      servers: options.nats,
      name: `baton-gateway-${process.pid}`,
      connectTimeoutMs: 3_000,
    });
    ownsBus = true;
  } else if (options.nats) bus = options.nats;

  let natsStatus: 'ok' | 'down' = 'ok';
  const stopStatus = bus?.onStatus((status) => {
    natsStatus = status === 'connected' ? 'ok' : 'down';
  });
  let draining = false;

  const store: RunStore = bus ? natsRunStore(bus) : memoryRunStore(config.runs);
  const stores: TenantStores = bus
    ? natsTenantStores(bus, { remoteMembers: options.remoteMembers === true })
    : memoryTenantStores();
  const webhookSecret = webhookSecrets(keys, config);
  const executor = new Executor({ catalogue, store, stores, config, instance, webhookSecret });
  let dispatcher: Dispatcher;
  try {
    dispatcher = bus
      ? await natsDispatcher(bus, executor, store, {
          tenants,
          concurrency: config.runs.concurrency,
          jobTimeoutMs: config.runs.jobTimeoutMs,
          instance,
          ...(options.jobAckWaitMs !== undefined ? { ackWaitMs: options.jobAckWaitMs } : {}),
        })
      : localDispatcher(executor, store, config.runs.concurrency);
  } catch (error) {
    stopStatus?.();
    await store.close();
    if (ownsBus) await bus?.close();
    throw error;
  }

  const services: GatewayServices = {
    config,
    keys,
    catalogue,
    ...(bus ? { bus } : {}),
    store,
    stores,
    executor,
    dispatcher,
    webhookSecret,
    readiness: () => {
      const checks: Record<string, 'ok' | 'down' | 'draining'> = { gateway: draining ? 'draining' : 'ok' };
      if (bus) checks.nats = bus.connection.isClosed() ? 'down' : natsStatus;
      return checks;
    },
  };
  const app = createApp(services, log);
  if (options.metrics) metricsRoute(app, options.metrics);

  let closing: Promise<void> | undefined;
  return {
    app,
    config,
    open: keys.length === 0,
    mode: bus ? 'nats' : 'embedded',
    tenants,
    instance,
    get running() {
      return executor.running;
    },
    close(closeOptions = {}) {
      closing ??= (async () => {
        draining = true;
        const graceMs = closeOptions.graceMs ?? 10_000;
        // Jobs first: a stopping worker hands its jobs back to the queue for another gateway.
        await dispatcher.close(graceMs);
        await executor.close(graceMs);
        await store.close();
        stopStatus?.();
        if (ownsBus) await bus?.close();
      })();
      return closing;
    },
  };
}

/** A key's own webhook secret, else the gateway's. */
function webhookSecrets(
  keys: readonly ResolvedKey[],
  config: ServeConfig,
): (keyId: string) => string | undefined {
  const byId = new Map(keys.map((key) => [key.id, key.webhookSecret]));
  return (keyId) => byId.get(keyId) ?? config.webhook.secret;
}
