import { BatonError } from '@baton/core';
import type { KV, KvEntry } from '@nats-io/kv';
import { z } from 'zod';
import { encodeEnvelope, SYSTEM_CONTRACTS, systemEnvelope } from './envelope.js';
import { truncate } from './quote.js';
import { confirmedKvWrite, isJetStreamMissing, kvError, natsConnectionOf, openBucket } from './rollout/kv.js';
import { checkToken, jetstreamNames, resolveNamespace, subjects } from './subjects.js';
import { NatsBus, type PermissionDenial, permissionDenied, reportsDenials } from './transport/nats.js';
import type { Bus } from './transport/types.js';

export interface KillSwitchOptions {
  namespace?: string;
  /** Only this agent's workers; every worker of the namespace when absent. */
  agent?: string;
  /** Why: lands in every aborted run's KILLED error. */
  reason: string;
}

export const killPayloadSchema = z.object({
  action: z.literal('kill'),
  agent: z.string().optional(),
  reason: z.string(),
  at: z.number(),
});

export type KillPayload = z.infer<typeof killPayloadSchema>;

/**
 * Publishes a kill on `baton.<ns>.control.kill`: the workers it names stop taking work (new invocations
 * get a KILLED error) and abort their runs in flight with a KILLED reason. Resolves once the server has it;
 * throws BUS_PERMISSION_DENIED when the server refused it (on a tenant config only operators may kill).
 */
export async function killSwitch(bus: Bus, options: KillSwitchOptions): Promise<void> {
  const namespace = resolveNamespace('killSwitch', options.namespace);
  if (options.agent !== undefined) checkToken('killSwitch', 'agent', options.agent);
  if (typeof options.reason !== 'string' || options.reason.trim() === '') {
    throw new BatonError('CONFIG_INVALID', 'killSwitch: "reason" must be a non-empty string');
  }
  const payload: KillPayload = { action: 'kill', reason: options.reason, at: Date.now() };
  if (options.agent !== undefined) payload.agent = options.agent;
  const envelope = systemEnvelope({
    kind: 'control',
    contract: SYSTEM_CONTRACTS.control,
    from: 'kill-switch',
    to: options.agent ?? '*',
    payload,
  });
  await publishConfirmed(bus, subjects.kill(namespace), encodeEnvelope(envelope));
}

/**
 * Publishes and flushes, then throws if the server refused the publish. NATS refuses a publish silently
 * for the sender (an -ERR, never an exception), so a kill nobody was allowed to send would look sent.
 */
async function publishConfirmed(bus: Bus, subject: string, data: string): Promise<void> {
  let refused: PermissionDenial | undefined;
  const stop = reportsDenials(bus)
    ? bus.onPermissionDenied((denial) => {
        if (denial.operation === 'publish' && denial.subject === subject) refused ??= denial;
      })
    : undefined;
  try {
    bus.publish(subject, data);
    await bus.flush();
    // The server reports the refusal before it answers the flush's ping, but the report reaches the
    // bus through nats.js's status iterator (promise hops): one macrotask later it has arrived.
    if (stop) await new Promise((resolve) => setImmediate(resolve));
  } finally {
    stop?.();
  }
  if (refused) {
    throw permissionDenied(
      refused,
      'Only an operator of the namespace may kill its workers (baton nats-config)',
    );
  }
}

/** Longest kill reason repeated in errors: every invocation refused afterwards carries it. */
const REASON_LIMIT = 1_024;

export function killedError(payload: KillPayload): BatonError {
  const reason = truncate(payload.reason, REASON_LIMIT);
  const agent = payload.agent === undefined ? {} : { agent: truncate(payload.agent, REASON_LIMIT) };
  return new BatonError('KILLED', `Killed: ${reason}`, { details: { reason, ...agent } });
}

// The persistent kill switch: a flag in the namespace's control bucket (BATON_<ns>_CONTROL) that a
// worker reads before it takes any work and watches while it runs. The publish above is the fast path
// for the workers running now; the flag is what a worker started (or restarted) later still obeys, until
// `unkill`. Key `kill.all` stops every agent of the namespace, `kill.agent.<name>` one agent.

/** What a kill flag holds (validated when read: a flag that cannot be read kills, it never un-kills). */
export const killFlagSchema = z.object({
  reason: z.string().min(1).max(4_096),
  at: z.number(),
  agent: z.string().optional(),
  by: z.string().max(256).optional(),
});
export type KillFlag = z.infer<typeof killFlagSchema>;

export interface PersistentKillOptions extends KillSwitchOptions {
  /** Who pulled it (shown by `baton kill --status` and in the KILLED error's details). */
  by?: string;
  /** The longest a call to the server may take (default 5 s). */
  timeoutMs?: number;
}

const ALL_KEY = 'kill.all';
const agentKey = (agent: string) => `kill.agent.${agent}`;
/** Revisions kept per flag: who killed and unkilled, and why, stays readable for a while. */
const FLAG_HISTORY = 10;

const operatorOnly = 'Only an operator of the namespace may set or clear the kill switch (baton nats-config)';

/**
 * Sets the persistent kill flag (every agent of the namespace, or `agent`), then publishes the fast-path
 * kill to the workers running now. Throws BUS_PERMISSION_DENIED when the server refuses the write: under
 * tenancy only operators may write the control bucket.
 */
export async function persistentKill(bus: Bus, options: PersistentKillOptions): Promise<KillFlag> {
  const namespace = resolveNamespace('persistentKill', options.namespace);
  if (options.agent !== undefined) checkToken('persistentKill', 'agent', options.agent);
  if (typeof options.reason !== 'string' || options.reason.trim() === '') {
    throw new BatonError('CONFIG_INVALID', 'persistentKill: "reason" must be a non-empty string');
  }
  const flag: KillFlag = { reason: truncate(options.reason, REASON_LIMIT), at: Date.now() };
  if (options.agent !== undefined) flag.agent = options.agent;
  if (options.by !== undefined) flag.by = truncate(options.by, 256);
  const key = options.agent === undefined ? ALL_KEY : agentKey(options.agent);
  const kv = await controlBucket(bus, namespace, options.timeoutMs);
  await confirmedKvWrite(
    bus,
    controlSubject(namespace, key),
    () => kv.put(key, JSON.stringify(flag)),
    operatorOnly,
  );
  await killSwitch(bus, {
    namespace,
    reason: options.reason,
    ...(options.agent ? { agent: options.agent } : {}),
  });
  return flag;
}

/**
 * Clears a persistent kill flag (the namespace's, or `agent`'s): the workers watching it take work again,
 * and new workers start normally. Resolves with whether a flag was set.
 */
export async function unkill(
  bus: Bus,
  options: { namespace?: string; agent?: string; timeoutMs?: number } = {},
): Promise<boolean> {
  const namespace = resolveNamespace('unkill', options.namespace);
  if (options.agent !== undefined) checkToken('unkill', 'agent', options.agent);
  const key = options.agent === undefined ? ALL_KEY : agentKey(options.agent);
  const kv = await controlBucket(bus, namespace, options.timeoutMs);
  const current = await kv.get(key).catch((error: unknown) => {
    throw kvError(`Cannot read ${key}`, error);
  });
  if (current?.operation !== 'PUT') return false;
  await confirmedKvWrite(bus, controlSubject(namespace, key), () => kv.delete(key), operatorOnly);
  return true;
}

/** The kill flags set now in a namespace: `all` for the whole namespace, and per agent. */
export async function killFlags(
  bus: Bus,
  options: { namespace?: string; timeoutMs?: number } = {},
): Promise<{ all: KillFlag | undefined; agents: Record<string, KillFlag> }> {
  const namespace = resolveNamespace('killFlags', options.namespace);
  const kv = await controlBucket(bus, namespace, options.timeoutMs);
  const found: { all: KillFlag | undefined; agents: Record<string, KillFlag> } = {
    all: undefined,
    agents: {},
  };
  try {
    for await (const key of await kv.keys('kill.>')) {
      const entry = await kv.get(key);
      if (entry?.operation !== 'PUT') continue;
      const flag = readFlag(entry);
      if (key === ALL_KEY) found.all = flag;
      else if (key.startsWith('kill.agent.')) found.agents[key.slice('kill.agent.'.length)] = flag;
    }
  } catch (error) {
    throw kvError(`Cannot list the kill flags of ${namespace}`, error);
  }
  return found;
}

const controlSubject = (namespace: string, key: string) =>
  `$KV.${jetstreamNames.controlBucket(namespace)}.${key}`;

function controlBucket(bus: Bus, namespace: string, timeoutMs = 5_000): Promise<KV> {
  return openBucket(
    natsConnectionOf('kill switch', bus),
    jetstreamNames.controlBucket(namespace),
    FLAG_HISTORY,
    timeoutMs,
  );
}

function readFlag(entry: KvEntry): KillFlag {
  let parsed: unknown;
  try {
    parsed = JSON.parse(entry.string());
  } catch {
    parsed = undefined;
  }
  const flag = killFlagSchema.safeParse(parsed);
  // Fail closed: a flag someone wrote but nobody can read still means "stop".
  return flag.success
    ? flag.data
    : { reason: 'kill flag present (unreadable value)', at: entry.created.getTime() };
}

/** What a worker is told by the flags it watches. */
export interface KillFlagListener {
  kill(payload: KillPayload): void;
  resume(): void;
}

export interface KillFlagWatch {
  /** The flag in force when the watch started (the worker must not take work while it is set). */
  readonly initial: KillPayload | undefined;
  stop(): void;
}

/**
 * Reads the flags that apply to `agent` (the namespace's and its own) and watches them. Resolves once the
 * current state is known, so a worker can refuse work from its first invocation on. Undefined when the bus
 * has no JetStream (in process, or a core-only nats-server): the publish-based kill still works there.
 */
export async function watchKillFlags(
  bus: Bus,
  namespace: string,
  agent: string,
  listener: KillFlagListener,
  timeoutMs = 5_000,
): Promise<KillFlagWatch | undefined> {
  if (bus.transport !== 'nats' || !(bus instanceof NatsBus)) return undefined;
  let kv: KV;
  try {
    kv = await controlBucket(bus, namespace, timeoutMs);
  } catch (error) {
    if (isJetStreamMissing(error)) return undefined;
    throw error;
  }
  const mine = new Set([ALL_KEY, agentKey(agent)]);
  /** Per key: the newest revision applied and the flag it holds (undefined once cleared). */
  const state = new Map<string, { revision: number; flag: KillFlag | undefined }>();
  const apply = (entry: KvEntry): boolean => {
    if (!mine.has(entry.key)) return false;
    const known = state.get(entry.key);
    if (known && known.revision >= entry.revision) return false;
    state.set(entry.key, {
      revision: entry.revision,
      flag: entry.operation === 'PUT' ? readFlag(entry) : undefined,
    });
    return true;
  };
  const current = (): KillPayload | undefined => {
    for (const key of [ALL_KEY, agentKey(agent)]) {
      const flag = state.get(key)?.flag;
      if (flag) {
        const payload: KillPayload = { action: 'kill', reason: flag.reason, at: flag.at };
        if (flag.agent !== undefined) payload.agent = flag.agent;
        return payload;
      }
    }
    return undefined;
  };
  let watch: Awaited<ReturnType<KV['watch']>>;
  try {
    watch = await kv.watch({ key: 'kill.>' });
    for (const key of mine) {
      const entry = await kv.get(key);
      if (entry) apply(entry);
    }
  } catch (error) {
    if (isJetStreamMissing(error)) return undefined;
    throw kvError(`Cannot read the kill flags of ${namespace}`, error);
  }
  const initial = current();
  let stopped = false;
  void (async () => {
    try {
      for await (const entry of watch) {
        if (stopped) break;
        if (!apply(entry)) continue;
        const now = current();
        if (now) listener.kill(now);
        else listener.resume();
      }
    } catch {
      // The watch ends with the connection.
    }
  })();
  return {
    initial,
    stop() {
      stopped = true;
      watch.stop();
    },
  };
}
