import { BatonError, timerDelay } from '@baton/core';
import { z } from 'zod';
import {
  decodeEnvelope,
  type Envelope,
  encodeEnvelope,
  SYSTEM_CONTRACTS,
  systemEnvelope,
} from './envelope.js';
import { checkToken, resolveNamespace, subjects } from './subjects.js';
import { type PermissionDenial, permissionDenied, reportsDenials } from './transport/nats.js';
import type { Bus, BusSubscription } from './transport/types.js';

/** What a worker announces about itself on `baton.<ns>.registry`. */
export interface AgentInfo {
  name: string;
  description: string;
  namespace: string;
  /** `name@version` of the contract the worker accepts. */
  contract: string;
  contractName: string;
  version: number;
  instance: string;
  /** In-flight runs ÷ concurrency (1 = saturated). */
  load: number;
  inFlight: number;
  queued: number;
  concurrency: number;
  durable: boolean;
  killed: boolean;
  startedAt: number;
  /** When this announcement was made (epoch ms). */
  at: number;
  /** The bundle hash (`sha256:...`) of what this worker serves: the version of its behaviour. */
  bundle?: string;
}

export const agentInfoSchema = z.object({
  name: z.string(),
  description: z.string(),
  namespace: z.string(),
  contract: z.string(),
  contractName: z.string(),
  version: z.number().int(),
  instance: z.string(),
  load: z.number().nonnegative(),
  inFlight: z.number().int().nonnegative(),
  queued: z.number().int().nonnegative(),
  concurrency: z.number().int().positive(),
  durable: z.boolean(),
  killed: z.boolean(),
  startedAt: z.number(),
  at: z.number(),
  bundle: z.string().optional(),
});

export function heartbeatEnvelope(info: AgentInfo, correlationId?: string): Envelope<AgentInfo> {
  return systemEnvelope({
    kind: 'heartbeat',
    contract: SYSTEM_CONTRACTS.registry,
    from: info.instance,
    to: '',
    payload: info,
    ...(correlationId === undefined ? {} : { replyTo: correlationId }),
  });
}

function readAgentInfo(data: string): AgentInfo | undefined {
  const decoded = decodeEnvelope(data);
  if (!decoded.ok || decoded.envelope.kind !== 'heartbeat') return undefined;
  const parsed = agentInfoSchema.safeParse(decoded.envelope.payload);
  return parsed.success ? parsed.data : undefined;
}

export interface ListAgentsOptions {
  namespace?: string;
  /** How long to collect answers (default 250 ms). */
  timeoutMs?: number;
  /** Only instances of this agent. */
  name?: string;
}

/**
 * Asks every live worker of the namespace to answer and collects the answers for `timeoutMs`; one entry
 * per instance, sorted by name then instance.
 */
export async function listAgents(bus: Bus, options: ListAgentsOptions = {}): Promise<AgentInfo[]> {
  const namespace = resolveNamespace('listAgents', options.namespace);
  const timeoutMs = options.timeoutMs ?? 250;
  const found = new Map<string, AgentInfo>();
  const inbox = bus.createInbox();
  const collect = (info: AgentInfo | undefined) => {
    if (!info || info.namespace !== namespace) return;
    if (options.name !== undefined && info.name !== options.name) return;
    found.set(info.instance, info);
  };
  // A refused subscription or query looks like an empty bus: the server says so only in an -ERR, so
  // the refusal is collected and thrown rather than answered with "no workers".
  const watched = new Set([inbox, subjects.registry(namespace), subjects.registryQuery(namespace)]);
  let refused: PermissionDenial | undefined;
  const stopWatching = reportsDenials(bus)
    ? bus.onPermissionDenied((denial) => {
        if (watched.has(denial.subject)) refused ??= denial;
      })
    : undefined;
  const replies = bus.subscribe(inbox, (message) => collect(readAgentInfo(message.string())));
  const beats = bus.subscribe(subjects.registry(namespace), (message) =>
    collect(readAgentInfo(message.string())),
  );
  try {
    bus.publish(subjects.registryQuery(namespace), encodeEnvelope(queryEnvelope(namespace)), {
      reply: inbox,
    });
    await new Promise((resolve) => setTimeout(resolve, timerDelay(timeoutMs)));
  } finally {
    stopWatching?.();
    replies.unsubscribe();
    beats.unsubscribe();
  }
  if (refused) {
    throw permissionDenied(refused, 'List the workers as a user of this namespace (baton nats-config)');
  }
  return [...found.values()].sort(
    (a, b) => a.name.localeCompare(b.name) || a.instance.localeCompare(b.instance),
  );
}

export interface WaitForAgentOptions {
  namespace?: string;
  /** Give up after this long (default 10 s) with NO_RESPONDERS. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * Resolves with the first instance of `name` that announces itself (heartbeat or discovery answer);
 * rejects with NO_RESPONDERS when none does within `timeoutMs`.
 */
export function waitForAgent(bus: Bus, name: string, options: WaitForAgentOptions = {}): Promise<AgentInfo> {
  const namespace = resolveNamespace('waitForAgent', options.namespace);
  checkToken('waitForAgent', 'name', name);
  const timeoutMs = options.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const inbox = bus.createInbox();
    const subscriptions: BusSubscription[] = [];
    let poll: NodeJS.Timeout | undefined;
    let delay = 25;
    const finish = (error: BatonError | undefined, info?: AgentInfo) => {
      clearTimeout(timer);
      clearTimeout(poll);
      options.signal?.removeEventListener('abort', onAbort);
      for (const sub of subscriptions) sub.unsubscribe();
      if (error) reject(error);
      else resolve(info as AgentInfo);
    };
    const onMessage = (data: string) => {
      const info = readAgentInfo(data);
      if (info && info.name === name && info.namespace === namespace && !info.killed) finish(undefined, info);
    };
    const onAbort = () => finish(new BatonError('ABORTED', `Stopped waiting for agent "${name}"`));
    const timer = setTimeout(() => {
      finish(
        new BatonError(
          'NO_RESPONDERS',
          `No worker of agent "${name}" announced itself within ${timeoutMs} ms`,
          {
            details: { agent: name, namespace, timeoutMs },
            hint: 'Start a worker (serveAgent) for this agent in this namespace',
          },
        ),
      );
    }, timerDelay(timeoutMs));
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      subscriptions.push(bus.subscribe(inbox, (message) => onMessage(message.string())));
      subscriptions.push(
        bus.subscribe(subjects.registry(namespace), (message) => onMessage(message.string())),
      );
    } catch (error) {
      return finish(BatonError.wrap(error, 'BUS_CLOSED'));
    }
    // Ask now and again with a growing pause: a worker that starts later answers the next query.
    const ask = () => {
      try {
        bus.publish(subjects.registryQuery(namespace), encodeEnvelope(queryEnvelope(namespace)), {
          reply: inbox,
        });
      } catch (error) {
        return finish(BatonError.wrap(error, 'BUS_CLOSED'));
      }
      delay = Math.min(delay * 2, 1_000);
      poll = setTimeout(ask, delay);
    };
    ask();
  });
}

function queryEnvelope(namespace: string): Envelope<{ action: 'discover'; namespace: string }> {
  return systemEnvelope({
    kind: 'control',
    contract: SYSTEM_CONTRACTS.registry,
    from: 'registry',
    to: '*',
    payload: { action: 'discover', namespace },
  });
}
