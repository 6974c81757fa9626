import { BatonError } from '@baton/core';
import { z } from 'zod';

/** How one arm of a rollout did over the judged window. */
export const armStatsSchema = z.object({
  bundle: z.string(),
  successes: z.number().int().nonnegative(),
  total: z.number().int().nonnegative(),
  /** successes / total (0 when total is 0). */
  rate: z.number().min(0).max(1),
});
export type ArmStats = z.infer<typeof armStatsSchema>;

/** What an automatic rollback judged: both arms over the same window, and the rule that fired. */
export const rollbackEvidenceSchema = z.object({
  canary: armStatsSchema,
  production: armStatsSchema,
  /** The window: outcomes since `from` (epoch ms), at most `maxSamples` per arm, over `windowMs`. */
  window: z.object({ from: z.number(), to: z.number(), windowMs: z.number(), maxSamples: z.number() }),
  rule: z.object({
    /** Rolled back when production's rate minus the canary's reached this (0.1 = 10 points). */
    maxDrop: z.number(),
    minSamples: z.number(),
    /** Rolled back when the canary's own rate fell below this, whatever production did (optional). */
    minSuccessRate: z.number().optional(),
  }),
});
export type RollbackEvidence = z.infer<typeof rollbackEvidenceSchema>;

export const rolloutActions = ['promote', 'canary', 'rollback'] as const;
export type RolloutAction = (typeof rolloutActions)[number];

export const rolloutRecordSchema = z.object({
  at: z.number(),
  action: z.enum(rolloutActions),
  /** The bundle promoted, put on canary, or rolled back. */
  bundle: z.string(),
  /** Production before this change (a promote's previous bundle, a rollback's restored one). */
  from: z.string().optional(),
  share: z.number().optional(),
  reason: z.string().max(4_096).optional(),
  by: z.string().max(256).optional(),
  /** Made by the rollout watcher, not a person. */
  automatic: z.boolean().optional(),
  evidence: rollbackEvidenceSchema.optional(),
});
export type RolloutRecord = z.infer<typeof rolloutRecordSchema>;

export const canarySchema = z.object({
  bundle: z.string(),
  /** Share of invocations routed to the canary, 0..1. */
  share: z.number().min(0).max(1),
  /** When the canary started (epoch ms): a watcher judges outcomes since then only. */
  since: z.number(),
});
export type Canary = z.infer<typeof canarySchema>;

/** The rollout pointer of one agent, a KV value (validated when read). */
export const rolloutPointerSchema = z.object({
  v: z.literal(1),
  agent: z.string(),
  production: z.string(),
  canary: canarySchema.optional(),
  /** Newest last; the oldest are dropped past HISTORY_LIMIT. */
  history: z.array(rolloutRecordSchema),
  updatedAt: z.number(),
});
export type RolloutPointer = z.infer<typeof rolloutPointerSchema>;

/** Records kept in a pointer: enough to see the last rollouts and rollbacks, bounded in size. */
export const HISTORY_LIMIT = 50;

export function withRecord(pointer: RolloutPointer, record: RolloutRecord): RolloutPointer {
  const history = [...pointer.history, record];
  return { ...pointer, history: history.slice(-HISTORY_LIMIT), updatedAt: record.at };
}

/** Decodes a KV value; a pointer nobody can read is an error, never "no pointer" (which routes unversioned). */
export function decodePointer(agent: string, text: string): RolloutPointer {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = rolloutPointerSchema.safeParse(json);
  if (!parsed.success || parsed.data.agent !== agent) {
    throw new BatonError('STATE_INVALID', `The rollout pointer of "${agent}" is not valid`, {
      details: { agent },
      hint: 'Rewrite it with baton rollout promote <agent> --bundle <id>',
    });
  }
  return parsed.data;
}

/**
 * The bundle an invocation goes to: the canary for a stable `share` of run ids, production for the rest.
 * Deterministic per run id, so a retried or resumed run stays on the bundle it started with.
 */
export function chooseBundle(pointer: RolloutPointer, runId: string): string {
  const canary = pointer.canary;
  if (!canary || canary.share <= 0) return pointer.production;
  if (canary.share >= 1) return canary.bundle;
  return trafficBucketOf(runId) < canary.share ? canary.bundle : pointer.production;
}

/** FNV-1a over the run id, as a fraction in [0, 1): uniform enough for traffic shares, and cheap. */
export function trafficBucketOf(runId: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < runId.length; index++) {
    hash ^= runId.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  // A final avalanche: sequential run ids (r1, r2, ...) differ in their last characters only.
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  return (hash >>> 0) / 0x1_0000_0000;
}
