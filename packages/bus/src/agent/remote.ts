import { BatonError, type HandoffContract, type RunOptions, type RunResult } from '@baton/core';
import { checkBundleId } from '../rollout/bundle-id.js';
import { checkToken, resolveNamespace, subjects } from '../subjects.js';
import { busTracer } from '../trace-context.js';
import type { Bus } from '../transport/types.js';
import { RemoteCall } from './remote-call.js';
import type { RemoteAgent, RemoteAgentOptions, RemoteDurableOptions } from './remote-types.js';
import { DEFAULT_MAX_HOPS } from './worker-options.js';

const DEFAULT_TIMEOUT_MS = 120_000;
const DEFAULT_CANCEL_GRACE_MS = 2_000;
const NO_OPTIONS: RunOptions = Object.freeze({});

/**
 * A proxy that runs like a local agent: `run(input, options)` resolves to the remote RunResult. The input
 * is checked against the contract before it leaves and the output when it returns; the deadline and the
 * remaining budget travel in the envelope; the remote usage is charged to `options.budget`; an abort
 * sends a cancel and returns the remote partial result; the run's events are re-emitted into
 * `options.events`.
 *
 * `run` never rejects: no responders, a rejected handoff, a closed bus or a deadline with no reply all
 * resolve to a RunResult with a status and a typed error. Only invalid configuration throws, here.
 */
export function remoteAgent<I, O>(bus: Bus, options: RemoteAgentOptions<I, O>): RemoteAgent<I, O> {
  const where = `remoteAgent(${JSON.stringify(options?.name)})`;
  const name = checkToken(where, 'name', options?.name);
  const contract = options.contract;
  if (contract?.kind !== 'handoff') {
    throw new BatonError('CONFIG_INVALID', `${where}: "contract" must be made with defineHandoff()`);
  }
  const namespace = resolveNamespace(where, options.namespace);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  for (const [field, value] of [
    ['timeoutMs', timeoutMs],
    ['cancelGraceMs', options.cancelGraceMs ?? DEFAULT_CANCEL_GRACE_MS],
  ] as const) {
    // Deadlines travel as integers in the envelope: an infinite or NaN one could never be sent.
    if (!(Number.isFinite(value) && value >= (field === 'timeoutMs' ? 1 : 0))) {
      throw new BatonError('CONFIG_INVALID', `${where}: "${field}" must be a finite number of milliseconds`, {
        details: { field },
      });
    }
  }
  const durable = options.durable !== undefined && options.durable !== false;
  if (options.bundle !== undefined && durable) {
    throw new BatonError(
      'CONFIG_INVALID',
      `${where}: "bundle" routing is for core invocations, not durable ones`,
    );
  }
  const subject = durable
    ? subjects.durableInvoke(namespace, name)
    : options.bundle === undefined
      ? subjects.invoke(namespace, name)
      : subjects.bundleInvoke(namespace, name, checkBundleId(where, options.bundle));
  const proxy = new RemoteCall(bus, {
    name,
    contract: contract as HandoffContract,
    namespace,
    subject,
    timeoutMs,
    cancelGraceMs: options.cancelGraceMs ?? DEFAULT_CANCEL_GRACE_MS,
    maxHops: options.maxHops ?? DEFAULT_MAX_HOPS,
    from: options.from ?? 'client',
    tracer: busTracer(options.tracer),
    durable: durable
      ? options.durable === true
        ? {}
        : (options.durable as RemoteDurableOptions)
      : undefined,
  });
  return {
    kind: 'remote',
    name,
    description: options.description ?? `${name} (remote, ${contract.id})`,
    contract,
    namespace,
    subject,
    durable,
    run: (input: I, runOptions?: RunOptions) =>
      proxy.run(input, runOptions ?? NO_OPTIONS) as Promise<RunResult<O>>,
  };
}
