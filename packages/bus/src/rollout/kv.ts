import { BatonError } from '@baton/core';
import { jetstream } from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { isTransient, storeUnavailable } from '../durable/nats-errors.js';
import { NatsBus, type PermissionDenial, permissionDenial, permissionDenied } from '../transport/nats.js';
import type { Bus } from '../transport/types.js';

/** The NATS connection under a bus, or a typed error: rollout pointers and kill flags live in KV. */
export function natsConnectionOf(where: string, source: Bus | NatsConnection): NatsConnection {
  if (source instanceof NatsBus) return source.connection;
  const candidate = source as Partial<NatsConnection>;
  if (typeof candidate.request === 'function' && typeof candidate.isClosed === 'function') {
    return source as NatsConnection;
  }
  throw new BatonError('CONFIG_INVALID', `${where}: needs a NatsBus (KV lives in NATS JetStream)`, {
    hint: 'Connect with NatsBus.connect({ servers }) and a nats-server started with JetStream (-js)',
  });
}

/**
 * Opens (creating on first use) a history-keeping KV bucket. A bucket another process made with other
 * settings is used as it is. Readers may create it too (tenancy grants the stream's create to every role),
 * so a worker started before any operator wrote a flag can still watch the bucket.
 */
export async function openBucket(
  connection: NatsConnection,
  name: string,
  history: number,
  timeoutMs: number,
): Promise<KV> {
  const kvm = new Kvm(jetstream(connection, { timeout: timeoutMs }));
  try {
    return await kvm
      .create(name, { history })
      .catch((error: unknown) => kvm.open(name).catch(() => Promise.reject(error)));
  } catch (error) {
    throw kvError(`Cannot open the KV bucket ${name}`, error);
  }
}

/** A KV failure as a BatonError: a refused write is BUS_PERMISSION_DENIED (only operators may write here). */
export function kvError(what: string, error: unknown, hint?: string): BatonError {
  if (error instanceof BatonError) return error;
  const denial = permissionDenial(error) ?? permissionDenial((error as { cause?: unknown } | null)?.cause);
  if (denial) return permissionDenied(denial, hint);
  if (/permissions violation/i.test(String((error as { message?: unknown } | null)?.message))) {
    return new BatonError('BUS_PERMISSION_DENIED', `${what}: the NATS server refused it`, {
      cause: error,
      ...(hint === undefined ? {} : { hint }),
    });
  }
  return storeUnavailable('BUS_DISCONNECTED', what, error);
}

/** JetStream is simply not there (a core-only nats-server): features built on KV are off, not broken. */
export function isJetStreamMissing(error: unknown): boolean {
  for (let cause = error; cause instanceof Error; cause = (cause as { cause?: unknown }).cause) {
    if (cause.name === 'JetStreamNotEnabled' || /jetstream not enabled/i.test(cause.message)) return true;
    if (isTransient(cause) && /no responders|503/i.test(cause.message)) return true;
  }
  return false;
}

/**
 * A KV write (`subject` is its `$KV.<bucket>.<key>`) that reports a refusal as BUS_PERMISSION_DENIED with
 * `hint`. nats.js may surface a refused publish as a failed or timed-out JetStream request; the bus hears
 * the server's refusal either way.
 */
export async function confirmedKvWrite<T>(
  bus: Bus | NatsConnection,
  subject: string,
  write: () => Promise<T>,
  hint: string,
): Promise<T> {
  let refused: PermissionDenial | undefined;
  const stop =
    bus instanceof NatsBus
      ? bus.onPermissionDenied((denial) => {
          if (denial.operation === 'publish' && denial.subject === subject) refused ??= denial;
        })
      : undefined;
  try {
    return await write();
  } catch (error) {
    await new Promise((resolve) => setImmediate(resolve));
    if (refused) throw permissionDenied(refused, hint);
    throw kvError(`Cannot write ${subject}`, error, hint);
  } finally {
    stop?.();
  }
}
