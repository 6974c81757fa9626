import { RUN_STATUSES, type RunStatus } from '@baton/core';
import { z } from 'zod';
import { subjects } from '../subjects.js';
import type { Bus, BusSubscription } from '../transport/types.js';

/**
 * One run's outcome, as the rollout watcher judges a canary by: published on
 * `baton.<ns>.rollout.outcome.<agent>` by whoever saw the run end (the rollout router does it for every
 * run it routes). Core NATS, at most once: an outcome lost in a reconnect only shrinks a sample.
 */
export const runOutcomeSchema = z.object({
  v: z.literal(1),
  agent: z.string().min(1).max(128),
  bundle: z.string().min(1).max(128),
  status: z.enum(RUN_STATUSES as [RunStatus, ...RunStatus[]]),
  runId: z.string().max(256).optional(),
  /** The error code of a failed run. */
  code: z.string().max(128).optional(),
});
export type RunOutcome = z.infer<typeof runOutcomeSchema>;

/** Whether an outcome counts as a success, a failure, or not at all (a run waiting for a person). */
export function judgeOutcome(status: RunStatus): 'success' | 'failure' | undefined {
  if (status === 'completed') return 'success';
  if (status === 'awaiting_approval') return undefined;
  return 'failure';
}

/** Publishes an outcome; never throws (losing a sample must not fail the run it describes). */
export function publishOutcome(bus: Bus, namespace: string, outcome: Omit<RunOutcome, 'v'>): void {
  try {
    bus.publish(subjects.rolloutOutcome(namespace, outcome.agent), JSON.stringify({ v: 1, ...outcome }));
  } catch {
    // Closed or disconnected bus: one sample fewer.
  }
}

/** Calls `listener` for every valid outcome of the namespace; invalid messages are ignored. */
export function subscribeOutcomes(
  bus: Bus,
  namespace: string,
  listener: (outcome: RunOutcome) => void,
): BusSubscription {
  return bus.subscribe(subjects.allRolloutOutcomes(namespace), (message) => {
    if (message.size > 4_096) return;
    let json: unknown;
    try {
      json = JSON.parse(message.string());
    } catch {
      return;
    }
    const parsed = runOutcomeSchema.safeParse(json);
    // The subject names the agent: an outcome claiming another agent is not trusted.
    if (!parsed.success || message.subject !== subjects.rolloutOutcome(namespace, parsed.data.agent)) return;
    listener(parsed.data);
  });
}
