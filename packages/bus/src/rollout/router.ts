import { type AgentLike, BatonError, type RunOptions, type RunResult } from '@baton/core';
import type { KV } from '@nats-io/kv';
import { remoteAgent } from '../agent/remote.js';
import { resultIds } from '../agent/remote-checks.js';
import type { RemoteAgent, RemoteAgentOptions } from '../agent/remote-types.js';
import { localResult } from '../agent/run-result.js';
import { nextId } from '../ids.js';
import { NatsBus } from '../transport/nats.js';
import { kvError } from './kv.js';
import { publishOutcome } from './outcomes.js';
import { chooseBundle, decodePointer, type RolloutPointer } from './pointer.js';
import { rolloutStore } from './store.js';

export interface RolloutAgentOptions<I, O> extends Omit<RemoteAgentOptions<I, O>, 'bundle' | 'durable'> {
  /** Publish each run's outcome for the rollout watcher (default true). */
  reportOutcomes?: boolean;
}

export interface RolloutAgent<I = unknown, O = unknown> extends AgentLike<I, O> {
  readonly kind: 'rollout';
  /** The pointer in force (undefined: no pointer, invocations go to the agent's plain subject). */
  readonly pointer: RolloutPointer | undefined;
  /** The bundle a run id goes to now (undefined without a pointer). */
  pick(runId: string): string | undefined;
  /** Resolves once the pointer has been read (run() waits for it too). */
  ready(): Promise<void>;
  /** Stops watching the pointer. */
  close(): void;
}

/**
 * A caller-side router for an agent under rollout: each run reads the agent's pointer (kept current by
 * a KV watch), picks production or the canary by its run id (a stable share), and is sent to the
 * workers serving that bundle only. With no pointer it behaves as `remoteAgent` (the agent's plain
 * subject, any worker). Every run's outcome `{ agent, bundle, status }` is published for the rollout
 * watcher: the router sees what the caller sees — a worker that crashed, timed out or had no responders
 * counts against its bundle, which a worker reporting its own results could never do.
 */
export function rolloutAgent<I, O>(bus: NatsBus, options: RolloutAgentOptions<I, O>): RolloutAgent<I, O> {
  if (!(bus instanceof NatsBus)) {
    throw new BatonError(
      'CONFIG_INVALID',
      'rolloutAgent: needs a NatsBus (rollout pointers live in NATS KV)',
    );
  }
  const plain = remoteAgent(bus, options);
  const name = plain.name;
  const namespace = plain.namespace;
  const store = rolloutStore(bus, { namespace });
  const report = options.reportOutcomes !== false;
  const perBundle = new Map<string, RemoteAgent<I, O>>();
  let pointer: RolloutPointer | undefined;
  let revision = 0;
  let watch: Awaited<ReturnType<KV['watch']>> | undefined;
  let closed = false;

  const apply = (entryRevision: number, operation: string, text: () => string) => {
    if (entryRevision <= revision) return;
    revision = entryRevision;
    if (operation !== 'PUT') {
      pointer = undefined;
      return;
    }
    try {
      pointer = decodePointer(name, text());
    } catch {
      // An unreadable pointer is left as it was: routing keeps to the last known good one.
    }
  };

  const loading = (async () => {
    const kv = await store.kv();
    try {
      watch = await kv.watch({ key: name });
      const entry = await kv.get(name);
      if (entry) apply(entry.revision, entry.operation, () => entry.string());
    } catch (error) {
      throw kvError(`Cannot read the rollout pointer of ${name}`, error);
    }
    if (closed) watch.stop();
    void (async () => {
      try {
        for await (const entry of watch) apply(entry.revision, entry.operation, () => entry.string());
      } catch {
        // Ends with the connection.
      }
    })();
  })();
  // run() reports a failed load; nobody else has to handle it.
  loading.catch(() => undefined);

  const target = (bundle: string | undefined): RemoteAgent<I, O> => {
    if (bundle === undefined) return plain;
    let remote = perBundle.get(bundle);
    if (!remote) {
      remote = remoteAgent(bus, { ...options, bundle });
      perBundle.set(bundle, remote);
    }
    return remote;
  };

  return {
    kind: 'rollout',
    name,
    description: plain.description,
    get pointer() {
      return pointer;
    },
    pick: (runId: string) => (pointer ? chooseBundle(pointer, runId) : undefined),
    ready: () => loading,
    close() {
      closed = true;
      watch?.stop();
    },
    async run(input: I, given?: RunOptions): Promise<RunResult<O>> {
      const runId = given?.runId ?? nextId();
      try {
        await loading;
      } catch (error) {
        // Like every remote call: a typed failure as the result, never a rejection.
        return localResult<O>({
          agent: name,
          runId,
          ...resultIds(undefined),
          error: BatonError.wrap(error),
          durationMs: 0,
        });
      }
      const bundle = pointer ? chooseBundle(pointer, runId) : undefined;
      const result = await target(bundle).run(input, { ...given, runId });
      if (report && bundle !== undefined) {
        publishOutcome(bus, namespace, {
          agent: name,
          bundle,
          status: result.status,
          runId,
          ...(result.error ? { code: result.error.code } : {}),
        });
      }
      return result;
    },
  };
}
