import { BatonError } from '@baton/core';
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { isWrongLastSequence } from '../durable/nats-errors.js';
import { checkToken, jetstreamNames, resolveNamespace } from '../subjects.js';
import type { Bus } from '../transport/types.js';
import { checkBundleId } from './bundle-id.js';
import { confirmedKvWrite, kvError, natsConnectionOf, openBucket } from './kv.js';
import {
  decodePointer,
  type RollbackEvidence,
  type RolloutPointer,
  type RolloutRecord,
  withRecord,
} from './pointer.js';

export interface RolloutStoreOptions {
  /** The tenant (default `default`): the bucket is `BATON_<ns>_ROLLOUT`. */
  namespace?: string;
  /** The longest a call to the server may take (default 5 s). */
  timeoutMs?: number;
}

/** A pointer as read, with the KV revision a compare-and-set must name. */
export interface PointerRead {
  pointer: RolloutPointer;
  revision: number;
}

export interface ChangeOptions {
  reason?: string;
  by?: string;
  /**
   * Change only if the pointer is still at this revision (ROLLOUT_CONFLICT otherwise). Without it, a lost
   * compare-and-set is retried on a fresh read: the change applies to whatever is current.
   */
  expectedRevision?: number;
}

export interface RollbackOptions extends ChangeOptions {
  /** Set by the rollout watcher: the evidence the rollback was decided on. */
  automatic?: boolean;
  evidence?: RollbackEvidence;
  /** Only roll back this canary (the watcher judged it): a canary changed since is left alone. */
  canary?: string;
}

export interface RolloutStore {
  readonly namespace: string;
  readonly bucket: string;
  get(agent: string): Promise<PointerRead | undefined>;
  /** Makes `bundle` production (ending any canary); the previous production is kept in the record. */
  promote(agent: string, bundle: string, options?: ChangeOptions): Promise<PointerRead>;
  /** Routes `share` (0..1) of invocations to `bundle`; needs a production bundle to compare with. */
  canary(agent: string, bundle: string, share: number, options?: ChangeOptions): Promise<PointerRead>;
  /**
   * Ends the canary (its traffic goes back to production); with no canary, puts the previous production
   * bundle back. A record with the reason (and the watcher's evidence) is kept either way.
   */
  rollback(agent: string, options?: RollbackOptions): Promise<PointerRead>;
  /** The KV bucket, for watching pointers (router, watcher). */
  kv(): Promise<KV>;
}

const ATTEMPTS = 8;
const POINTER_HISTORY = 10;
const operatorOnly = 'Only an operator of the namespace may change rollout pointers (baton nats-config)';

/**
 * Rollout pointers in NATS KV, one key per agent in `BATON_<ns>_ROLLOUT`. Every change is a
 * compare-and-set on the revision it read, so two writers never clobber each other: the loser re-reads
 * and applies its change to the winner's pointer (or, with `expectedRevision`, fails with
 * ROLLOUT_CONFLICT). Under tenancy only operators may write (BUS_PERMISSION_DENIED otherwise).
 */
export function rolloutStore(source: Bus | NatsConnection, options: RolloutStoreOptions = {}): RolloutStore {
  const where = 'rolloutStore';
  const namespace = resolveNamespace(where, options.namespace);
  const connection = natsConnectionOf(where, source);
  const bucketName = jetstreamNames.rolloutBucket(namespace);
  const timeoutMs = options.timeoutMs ?? 5_000;
  let bucket: Promise<KV> | undefined;
  const kv = (): Promise<KV> => {
    bucket ??= openBucket(connection, bucketName, POINTER_HISTORY, timeoutMs).catch((error: unknown) => {
      bucket = undefined;
      throw error;
    });
    return bucket;
  };

  const get = async (agent: string): Promise<PointerRead | undefined> => {
    checkToken(where, 'agent', agent);
    const store = await kv();
    let entry: Awaited<ReturnType<KV['get']>>;
    try {
      entry = await store.get(agent);
    } catch (error) {
      throw kvError(`Cannot read the rollout pointer of ${agent}`, error);
    }
    if (entry?.operation !== 'PUT') return undefined;
    return { pointer: decodePointer(agent, entry.string()), revision: entry.revision };
  };

  /** Read, change, compare-and-set; a lost CAS re-reads (or fails when a revision was expected). */
  const change = async (
    agent: string,
    mutate: (current: PointerRead | undefined) => RolloutPointer,
    expectedRevision: number | undefined,
  ): Promise<PointerRead> => {
    const store = await kv();
    const subject = `$KV.${bucketName}.${agent}`;
    for (let attempt = 1; ; attempt++) {
      const current = await get(agent);
      if (expectedRevision !== undefined && (current?.revision ?? 0) !== expectedRevision) {
        throw conflict(agent, expectedRevision, current?.revision ?? 0);
      }
      const next = mutate(current);
      const written = await confirmedKvWrite(
        source,
        subject,
        async () => {
          try {
            const text = JSON.stringify(next);
            return current
              ? await store.update(agent, text, current.revision)
              : await store.create(agent, text);
          } catch (error) {
            if (isWrongLastSequence(error)) return undefined;
            throw error;
          }
        },
        operatorOnly,
      );
      if (written !== undefined) return { pointer: next, revision: written };
      if (expectedRevision !== undefined || attempt >= ATTEMPTS) {
        throw conflict(agent, expectedRevision ?? current?.revision ?? 0, undefined);
      }
    }
  };

  const record = (action: RolloutRecord['action'], bundle: string, options: ChangeOptions): RolloutRecord => {
    const entry: RolloutRecord = { at: Date.now(), action, bundle };
    if (options.reason !== undefined) entry.reason = options.reason;
    if (options.by !== undefined) entry.by = options.by;
    return entry;
  };

  return {
    namespace,
    bucket: bucketName,
    get,
    kv,
    async promote(agent, bundle, options = {}) {
      checkToken(where, 'agent', agent);
      checkBundleId(where, bundle);
      return change(
        agent,
        (current) => {
          const entry = record('promote', bundle, options);
          if (!current) {
            return withRecord({ v: 1, agent, production: bundle, history: [], updatedAt: entry.at }, entry);
          }
          if (current.pointer.production !== bundle) entry.from = current.pointer.production;
          const { canary: _ended, ...rest } = current.pointer;
          return withRecord({ ...rest, production: bundle }, entry);
        },
        options.expectedRevision,
      );
    },
    async canary(agent, bundle, share, options = {}) {
      checkToken(where, 'agent', agent);
      checkBundleId(where, bundle);
      if (!(typeof share === 'number' && share > 0 && share <= 1)) {
        throw new BatonError('CONFIG_INVALID', `${where}: the canary "share" must be a number in (0, 1]`, {
          details: { field: 'share' },
        });
      }
      return change(
        agent,
        (current) => {
          if (!current) {
            throw new BatonError(
              'CONFIG_INVALID',
              `"${agent}" has no production bundle to compare a canary with`,
              {
                hint: `Promote one first: baton rollout promote ${agent} --bundle <id>`,
              },
            );
          }
          if (current.pointer.production === bundle) {
            throw new BatonError('CONFIG_INVALID', `${bundle} is already production for "${agent}"`);
          }
          const entry = { ...record('canary', bundle, options), share };
          const canary = { bundle, share, since: entry.at };
          return withRecord({ ...current.pointer, canary }, entry);
        },
        options.expectedRevision,
      );
    },
    async rollback(agent, options = {}) {
      checkToken(where, 'agent', agent);
      return change(
        agent,
        (current) => {
          if (!current) {
            throw new BatonError('NOT_FOUND', `"${agent}" has no rollout pointer: nothing to roll back`);
          }
          const pointer = current.pointer;
          const canary = pointer.canary;
          if (options.canary !== undefined && canary?.bundle !== options.canary) {
            throw new BatonError(
              'ROLLOUT_CONFLICT',
              `The canary of "${agent}" is no longer ${options.canary}`,
              {
                details: { agent, expected: options.canary, canary: canary?.bundle ?? null },
              },
            );
          }
          if (canary) {
            const entry: RolloutRecord = {
              ...record('rollback', canary.bundle, options),
              from: pointer.production,
            };
            if (options.automatic) entry.automatic = true;
            if (options.evidence) entry.evidence = options.evidence;
            const { canary: _ended, ...rest } = pointer;
            return withRecord(rest, entry);
          }
          const previous = previousProduction(pointer);
          if (previous === undefined) {
            throw new BatonError(
              'NOT_FOUND',
              `"${agent}" has no canary and no earlier production bundle to go back to`,
            );
          }
          const entry: RolloutRecord = { ...record('rollback', pointer.production, options), from: previous };
          return withRecord({ ...pointer, production: previous }, entry);
        },
        options.expectedRevision,
      );
    },
  };
}

/** The production bundle before the current one: the `from` of the promote that made it production. */
function previousProduction(pointer: RolloutPointer): string | undefined {
  for (let index = pointer.history.length - 1; index >= 0; index--) {
    const entry = pointer.history[index] as RolloutRecord;
    if (entry.bundle !== pointer.production) continue;
    if (entry.action === 'promote') return entry.from;
  }
  return undefined;
}

function conflict(agent: string, expected: number, found: number | undefined): BatonError {
  return new BatonError('ROLLOUT_CONFLICT', `The rollout pointer of "${agent}" changed since it was read`, {
    details: { agent, expectedRevision: expected, ...(found === undefined ? {} : { revision: found }) },
    hint: 'Read it again (baton rollout status) and retry',
  });
}
