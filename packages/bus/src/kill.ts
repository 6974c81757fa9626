import { BatonError } from '@baton/core';
import { z } from 'zod';
import { encodeEnvelope, SYSTEM_CONTRACTS, systemEnvelope } from './envelope.js';
import { truncate } from './quote.js';
import { checkToken, resolveNamespace, subjects } from './subjects.js';
import { type PermissionDenial, permissionDenied } from './transport/nats.js';
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

/** A bus that reports the publishes its server refuses (NatsBus). */
interface DenialReporting {
  onPermissionDenied(listener: (denial: PermissionDenial) => void): () => void;
}

function reportsDenials(bus: Bus): bus is Bus & DenialReporting {
  // Duck-typed rather than `instanceof NatsBus`: a second copy of the package must still count.
  return typeof (bus as Partial<DenialReporting>).onPermissionDenied === 'function';
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
