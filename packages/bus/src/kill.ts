import { BatonError } from '@baton/core';
import { z } from 'zod';
import { encodeEnvelope, SYSTEM_CONTRACTS, systemEnvelope } from './envelope.js';
import { truncate } from './quote.js';
import { checkToken, resolveNamespace, subjects } from './subjects.js';
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
 * get a KILLED error) and abort their runs in flight with a KILLED reason. Resolves once the server has it.
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
  bus.publish(subjects.kill(namespace), encodeEnvelope(envelope));
  await bus.flush();
}

/** Longest kill reason repeated in errors: every invocation refused afterwards carries it. */
const REASON_LIMIT = 1_024;

export function killedError(payload: KillPayload): BatonError {
  const reason = truncate(payload.reason, REASON_LIMIT);
  const agent = payload.agent === undefined ? {} : { agent: truncate(payload.agent, REASON_LIMIT) };
  return new BatonError('KILLED', `Killed: ${reason}`, { details: { reason, ...agent } });
}
