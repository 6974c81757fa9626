import type { NatsBus } from '@baton/bus';
import { type AgentLike, BatonError, type HandoffContract } from '@baton/core';
import type { Context, Env, Hono, MiddlewareHandler } from 'hono';
import type { BatonRequestHandler } from './handler.js';
import { mountA2aEndpoint } from './http.js';
import { createA2aHandler } from './serve.js';
import type { A2aRunner, TeamLike } from './target.js';

/** The part of the gateway's catalogue A2A serves (`@baton/serve`'s `Catalogue` is one). */
export interface A2aCatalogue {
  readonly teams: Readonly<
    Record<
      string,
      {
        readonly name: string;
        readonly description: string;
        create(options: { members?: (name: string) => AgentLike; timeoutMs?: number }): unknown;
        fromTopic(topic: string): unknown;
      }
    >
  >;
  readonly agents: Readonly<
    Record<
      string,
      {
        readonly name: string;
        readonly description: string;
        readonly contract: HandoffContract;
        create(): AgentLike;
      }
    >
  >;
}

export interface MountA2aOptions<E extends Env> {
  catalogue: A2aCatalogue;
  /** Where the endpoints go: `<prefix>/<name>` (default `/a2a`). */
  prefix?: string;
  /** Tasks in each tenant's KV bucket and events on its subjects, so every replica answers every task. */
  nats?: NatsBus;
  /** Authentication, rate limit and body limit of the JSON-RPC calls (the agent cards stay public). */
  guard?: MiddlewareHandler<E> | readonly MiddlewareHandler<E>[];
  /** The caller's tenant, once `guard` ran (default: `default`). */
  tenant?: (c: Context<E>) => string;
  /** A tenant's remote members (workers on NATS), when teams run their members there. */
  members?: (tenant: string) => ((name: string) => AgentLike) | undefined;
  /** Stops each run after this long. */
  timeoutMs?: number;
  /**
   * Where a tenant's tasks run (the gateway's executor); by default each handler runs its team or agent
   * itself, with no run record, journal or durable approval.
   */
  runner?: (tenant: string, target: { kind: 'team' | 'agent'; name: string }) => A2aRunner;
  log?: (line: string) => void;
}

export interface A2aMount {
  /** Handlers built so far (one per tenant and name, on first use). */
  readonly handlers: number;
  /** Aborts the runs in flight and stops following other replicas' tasks. */
  close(): void;
}

/**
 * Serves every team and agent of a catalogue over A2A on a Hono app: `POST <prefix>/:name` (JSON-RPC)
 * and `GET <prefix>/:name/.well-known/agent-card.json`. Each tenant gets its own task store and event
 * subjects (NATS) or memory, so tenants never see each other's tasks.
 */
export function mountA2a<E extends Env>(app: Hono<E>, options: MountA2aOptions<E>): A2aMount {
  const prefix = (options.prefix ?? '/a2a').replace(/\/$/, '');
  const handlers = new Map<string, BatonRequestHandler>();
  const resolve = (c: Context<E>, tenant: string): BatonRequestHandler => {
    const name = c.req.param('name') ?? '';
    const key = `${tenant}\u0000${name}`;
    const existing = handlers.get(key);
    if (existing) return existing;
    const handler = build(name, tenant);
    handlers.set(key, handler);
    return handler;
  };
  const build = (name: string, tenant: string): BatonRequestHandler => {
    const { catalogue } = options;
    const common = {
      ...(options.nats ? { nats: options.nats, namespace: tenant } : {}),
      // A runner keeps its own time (a run paused for a person is not timed out while it waits).
      ...(options.timeoutMs !== undefined && !options.runner ? { timeoutMs: options.timeoutMs } : {}),
    };
    const team = Object.hasOwn(catalogue.teams, name) ? catalogue.teams[name] : undefined;
    if (team) {
      const members = options.members?.(tenant);
      const built = team.create({
        ...(members ? { members } : {}),
        ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      }) as TeamLike;
      const runner = options.runner?.(tenant, { kind: 'team', name });
      return createA2aHandler(built, {
        ...common,
        name,
        description: team.description,
        fromText: team.fromTopic,
        ...(runner ? { runner } : {}),
      });
    }
    const agent = Object.hasOwn(catalogue.agents, name) ? catalogue.agents[name] : undefined;
    if (agent) {
      const runner = options.runner?.(tenant, { kind: 'agent', name });
      return createA2aHandler(agent.create(), {
        ...common,
        name,
        contract: agent.contract,
        ...(runner ? { runner } : {}),
      });
    }
    throw new BatonError('AGENT_UNKNOWN', `No team or agent "${name}" to serve over A2A`, {
      hint: `Teams: ${Object.keys(catalogue.teams).join(', ')}. Agents: ${Object.keys(catalogue.agents).join(', ')}`,
      details: { name },
    });
  };
  const guards =
    options.guard === undefined ? [] : Array.isArray(options.guard) ? options.guard : [options.guard];
  mountA2aEndpoint(
    app,
    `${prefix}/:name`,
    (c) => resolve(c, c.req.method === 'GET' ? 'default' : (options.tenant?.(c) ?? 'default')),
    {
      ...(guards.length > 0 ? { guard: guards as MiddlewareHandler<E>[] } : {}),
      ...(options.log ? { log: options.log } : {}),
    },
  );
  return {
    get handlers() {
      return handlers.size;
    },
    close() {
      for (const handler of handlers.values()) {
        handler.executor.abortAll();
        handler.stores.close();
      }
    },
  };
}
