import { BatonError } from '@baton/core';
import type { KV } from '@nats-io/kv';
import { resolveNamespace } from '../subjects.js';
import type { NatsBus } from '../transport/nats.js';
import type { BusSubscription } from '../transport/types.js';
import { judgeOutcome, type RunOutcome, subscribeOutcomes } from './outcomes.js';
import { type ArmStats, decodePointer, type RollbackEvidence, type RolloutPointer } from './pointer.js';
import { type RolloutStore, rolloutStore } from './store.js';

export interface RolloutWatcherOptions {
  namespace?: string;
  /** Only these agents (default: every agent with a pointer). */
  agents?: readonly string[];
  /** Judge the outcomes of the last `windowMs` (default 10 minutes) since the canary started. */
  windowMs?: number;
  /** ...and at most the last `maxSamples` of each arm (default 500). */
  maxSamples?: number;
  /** Both arms need this many outcomes in the window before anything is decided (default 20). */
  minSamples?: number;
  /** Roll back when production's success rate minus the canary's reaches this (default 0.1: 10 points). */
  maxDrop?: number;
  /** Also roll back when the canary's own success rate falls below this (e.g. 0.9, the seed's alert). */
  minSuccessRate?: number;
  /** Names the watcher in the history record (default `rollout-watcher`). */
  by?: string;
  /** Told about every automatic rollback, after it was recorded. */
  onRollback?: (event: RollbackEvent) => void;
  /** Told when a rollback could not be written (e.g. BUS_PERMISSION_DENIED: the watcher must be an operator). */
  onError?: (error: BatonError) => void;
}

export interface RollbackEvent {
  agent: string;
  bundle: string;
  reason: string;
  evidence: RollbackEvidence;
}

export interface RolloutWatcher {
  /** The two arms of an agent's canary as the watcher sees them now (undefined: no canary). */
  stats(agent: string): { canary: ArmStats; production: ArmStats } | undefined;
  stop(): Promise<void>;
}

interface Sample {
  ok: boolean;
  at: number;
}

/** An agent's samples per arm (bundle), each at most `maxSamples` long. */
type Arms = Map<string, Sample[]>;

/**
 * Watches run outcomes and rolls a canary back automatically. For each agent with a canary it keeps the
 * outcomes of both arms since the canary started, within `windowMs` and the last `maxSamples` per arm;
 * once both arms have `minSamples`, a canary whose success rate is `maxDrop` or more below production's
 * (or below `minSuccessRate`) is rolled back: the pointer is compare-and-set to drop the canary, with a
 * history record holding the reason, both rates and counts, and the window. Several watchers may run:
 * the CAS names the canary judged, so it is rolled back once and a newer canary is never touched.
 *
 * Outcomes come from `baton.<ns>.rollout.outcome.<agent>` (the rollout router publishes one per run).
 * Needs an operator's connection under tenancy (it writes the pointers).
 */
export async function rolloutWatcher(
  bus: NatsBus,
  options: RolloutWatcherOptions = {},
): Promise<RolloutWatcher> {
  const where = 'rolloutWatcher';
  const namespace = resolveNamespace(where, options.namespace);
  const windowMs = positive(where, 'windowMs', options.windowMs, 10 * 60_000);
  const maxSamples = positive(where, 'maxSamples', options.maxSamples, 500);
  const minSamples = positive(where, 'minSamples', options.minSamples, 20);
  const maxDrop = fraction(where, 'maxDrop', options.maxDrop, 0.1);
  const minSuccessRate =
    options.minSuccessRate === undefined
      ? undefined
      : fraction(where, 'minSuccessRate', options.minSuccessRate, 0);
  const only = options.agents ? new Set(options.agents) : undefined;
  const by = options.by ?? 'rollout-watcher';
  const store: RolloutStore = rolloutStore(bus, { namespace });
  const kv: KV = await store.kv();
  const pointers = new Map<string, { pointer: RolloutPointer; revision: number }>();
  const samples = new Map<string, Arms>();
  /** Agents with a rollback in flight: their outcomes wait for its result. */
  const rollingBack = new Set<string>();

  const watch = await kv.watch({ key: '>' });
  void (async () => {
    try {
      for await (const entry of watch) {
        if (only && !only.has(entry.key)) continue;
        if (entry.operation !== 'PUT') {
          pointers.delete(entry.key);
          samples.delete(entry.key);
          continue;
        }
        try {
          const pointer = decodePointer(entry.key, entry.string());
          const before = pointers.get(entry.key)?.pointer.canary;
          pointers.set(entry.key, { pointer, revision: entry.revision });
          // A new canary (or none) starts a new comparison.
          if (before?.bundle !== pointer.canary?.bundle || before?.since !== pointer.canary?.since) {
            samples.delete(entry.key);
          }
        } catch {
          pointers.delete(entry.key);
        }
      }
    } catch {
      // Ends with the connection.
    }
  })();

  const arm = (arms: Arms | undefined, bundle: string, from: number): ArmStats => {
    const mine = (arms?.get(bundle) ?? []).filter((sample) => sample.at >= from);
    arms?.set(bundle, mine);
    const successes = mine.filter((sample) => sample.ok).length;
    return { bundle, successes, total: mine.length, rate: mine.length === 0 ? 0 : successes / mine.length };
  };

  const window = (agent: string, now: number) => {
    const current = pointers.get(agent);
    const canary = current?.pointer.canary;
    if (!current || !canary) return undefined;
    const from = Math.max(canary.since, now - windowMs);
    const arms = samples.get(agent);
    return {
      current,
      canary: arm(arms, canary.bundle, from),
      production: arm(arms, current.pointer.production, from),
      from,
    };
  };

  const evaluate = (agent: string) => {
    if (rollingBack.has(agent)) return;
    const now = Date.now();
    const judged = window(agent, now);
    if (!judged || judged.canary.total < minSamples || judged.production.total < minSamples) return;
    const drop = judged.production.rate - judged.canary.rate;
    const belowFloor = minSuccessRate !== undefined && judged.canary.rate < minSuccessRate;
    if (drop < maxDrop && !belowFloor) return;
    const percent = (rate: number) => `${(rate * 100).toFixed(1)}%`;
    const reason =
      belowFloor && drop < maxDrop
        ? `canary success ${percent(judged.canary.rate)} (${judged.canary.successes}/${judged.canary.total}) is below the floor of ${percent(minSuccessRate ?? 0)}`
        : `canary success ${percent(judged.canary.rate)} (${judged.canary.successes}/${judged.canary.total}) is ${(drop * 100).toFixed(1)} points below production's ${percent(judged.production.rate)} (${judged.production.successes}/${judged.production.total}); the limit is ${(maxDrop * 100).toFixed(1)}`;
    const evidence: RollbackEvidence = {
      canary: judged.canary,
      production: judged.production,
      window: { from: judged.from, to: now, windowMs, maxSamples },
      rule: { maxDrop, minSamples, ...(minSuccessRate === undefined ? {} : { minSuccessRate }) },
    };
    const bundle = judged.canary.bundle;
    rollingBack.add(agent);
    store
      .rollback(agent, { reason, by, automatic: true, evidence, canary: bundle })
      .then(
        () => options.onRollback?.({ agent, bundle, reason, evidence }),
        (error: unknown) => {
          const failure = BatonError.wrap(error);
          // Someone else rolled it back or changed the canary first: nothing left to do.
          if (failure.code !== 'ROLLOUT_CONFLICT') options.onError?.(failure);
        },
      )
      .finally(() => rollingBack.delete(agent));
  };

  const subscription: BusSubscription = subscribeOutcomes(bus, namespace, (outcome: RunOutcome) => {
    if (only && !only.has(outcome.agent)) return;
    const verdict = judgeOutcome(outcome.status);
    if (verdict === undefined) return;
    const pointer = pointers.get(outcome.agent)?.pointer;
    if (!pointer?.canary) return;
    // Outcomes of a bundle that is neither arm (an old canary's late runs) prove nothing about either.
    if (outcome.bundle !== pointer.canary.bundle && outcome.bundle !== pointer.production) return;
    let arms = samples.get(outcome.agent);
    if (!arms) {
      arms = new Map();
      samples.set(outcome.agent, arms);
    }
    let list = arms.get(outcome.bundle);
    if (!list) {
      list = [];
      arms.set(outcome.bundle, list);
    }
    // The watcher's clock, not the sender's: every sample of a window is timed the same way.
    list.push({ ok: verdict === 'success', at: Date.now() });
    if (list.length > maxSamples) list.splice(0, list.length - maxSamples);
    evaluate(outcome.agent);
  });
  await bus.flush();

  return {
    stats(agent) {
      const judged = window(agent, Date.now());
      return judged ? { canary: judged.canary, production: judged.production } : undefined;
    },
    async stop() {
      subscription.unsubscribe();
      watch.stop();
    },
  };
}

function positive(where: string, field: string, value: number | undefined, fallback: number): number {
  const chosen = value ?? fallback;
  if (!(Number.isSafeInteger(chosen) && chosen >= 1)) {
    throw new BatonError('CONFIG_INVALID', `${where}: "${field}" must be a positive integer`, {
      details: { field },
    });
  }
  return chosen;
}

function fraction(where: string, field: string, value: number | undefined, fallback: number): number {
  const chosen = value ?? fallback;
  if (!(typeof chosen === 'number' && chosen >= 0 && chosen <= 1)) {
    throw new BatonError('CONFIG_INVALID', `${where}: "${field}" must be a number from 0 to 1`, {
      details: { field },
    });
  }
  return chosen;
}
