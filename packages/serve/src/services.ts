import type { NatsBus } from '@baton/bus';
import type { Catalogue } from './catalogue.js';
import type { ResolvedKey, ServeConfig } from './config.js';
import type { Dispatcher } from './runs/dispatch.js';
import type { Executor, TenantStores } from './runs/executor.js';
import type { RunStore } from './runs/store.js';

/** What the routes work with: one gateway's configuration, catalogue, stores and runners. */
export interface GatewayServices {
  config: ServeConfig;
  keys: readonly ResolvedKey[];
  catalogue: Catalogue;
  /** NATS, in NATS mode: A2A tasks and their events live there, so every replica answers (issue 18). */
  bus?: NatsBus;
  store: RunStore;
  stores: TenantStores;
  executor: Executor;
  dispatcher: Dispatcher;
  /** The secret that signs the webhooks of a key's runs (the key's own, else the gateway's). */
  webhookSecret(keyId: string): string | undefined;
  /** What `GET /ready` checks: each dependency and whether it is usable. */
  readiness(): Record<string, 'ok' | 'down' | 'draining'>;
}
