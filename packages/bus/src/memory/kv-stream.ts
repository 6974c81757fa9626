/**
 * The memory bucket read as the stream under it: the newest sequence under a key pattern (one request,
 * the freshness check of the index cache) and bulk reads through an ordered consumer, which load a
 * namespace far faster than a get per key.
 */
import { BatonError } from '@baton/core';
import {
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream';
import { headers, type NatsConnection } from '@nats-io/transport-node';

export type KvOperation = 'PUT' | 'DEL' | 'PURGE';

export interface KvMessage {
  /** The KV key (the subject without `$KV.<bucket>.`). */
  key: string;
  seq: number;
  operation: KvOperation;
  data: Uint8Array;
}

/** How long a bulk read waits for its next message before it gives up (the caller then starts over). */
const IDLE_MS = 5_000;

export class BucketStream {
  readonly stream: string;
  private readonly prefix: string;

  private constructor(
    readonly bucket: string,
    private readonly js: JetStreamClient,
    readonly jsm: JetStreamManager,
  ) {
    this.stream = `KV_${bucket}`;
    this.prefix = `$KV.${bucket}.`;
  }

  static async open(connection: NatsConnection, bucket: string): Promise<BucketStream> {
    return new BucketStream(bucket, jetstream(connection), await jetstreamManager(connection));
  }

  subject(keyPattern: string): string {
    return `${this.prefix}${keyPattern}`;
  }

  /** The sequence of the newest message under `keyPattern` (wildcards allowed), 0 when there is none. */
  async lastSequence(keyPattern: string): Promise<number> {
    const message = await this.jsm.streams.getMessage(this.stream, {
      last_by_subj: this.subject(keyPattern),
    });
    return message?.seq ?? 0;
  }

  /**
   * Calls `each` for the messages under `keyPattern`, in stream order: the newest of every key (`latest`)
   * or every message after sequence `after`. Stops at `until` (a sequence the caller saw as the newest),
   * so what it reads is one consistent cut. False when the stream changed under it (the message at
   * `until` was purged before it arrived): the caller reads again.
   */
  async read(
    keyPattern: string,
    from: { latest: true } | { after: number },
    until: number,
    each: (message: KvMessage) => void,
  ): Promise<boolean> {
    if (until === 0) return true;
    const filter_subjects = this.subject(keyPattern);
    const consumer = await this.js.consumers.get(
      this.stream,
      'latest' in from
        ? { filter_subjects, deliver_policy: DeliverPolicy.LastPerSubject }
        : { filter_subjects, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: from.after + 1 },
    );
    const messages = await consumer.consume({ max_messages: 1_000 });
    let complete = false;
    let idle = setTimeout(() => messages.stop(), IDLE_MS);
    try {
      for await (const message of messages) {
        clearTimeout(idle);
        idle = setTimeout(() => messages.stop(), IDLE_MS);
        const operation = message.headers?.get('KV-Operation') || 'PUT';
        each({
          key: message.subject.slice(this.prefix.length),
          seq: message.seq,
          operation: operation === 'DEL' || operation === 'PURGE' ? operation : 'PUT',
          data: message.data,
        });
        if (message.seq >= until || message.info.pending === 0) {
          complete = message.seq >= until;
          break;
        }
      }
    } finally {
      clearTimeout(idle);
      messages.stop();
      // Ordered consumers otherwise linger on the server for five minutes after their last read.
      await consumer.delete().catch(() => undefined);
    }
    return complete;
  }

  /**
   * Writes `data` under `key` if the key's newest message is still `expected` (0: none), so concurrent
   * writers each get their own version. `rollup` drops the key's earlier messages in the same write (a
   * record that starts over). False when another write came first.
   */
  async publish(key: string, data: string, expected: number, rollup: boolean): Promise<boolean> {
    const options: { expect: { lastSubjectSequence: number }; headers?: ReturnType<typeof headers> } = {
      expect: { lastSubjectSequence: expected },
    };
    if (rollup) {
      options.headers = headers();
      options.headers.set('Nats-Rollup', 'sub');
    }
    try {
      await this.js.publish(this.subject(key), data, options);
      return true;
    } catch (error) {
      if (isWrongLastSequence(error)) return false;
      throw error;
    }
  }

  /**
   * Removes every message under the patterns, purge markers included. A tenant's users may not purge a
   * stream (that is the operator's right, see tenancy/permissions.ts): then each of `keys` is purged the
   * KV way, which drops its values and history but leaves a marker naming the (digested) key.
   * True when nothing at all is left.
   */
  async erase(patterns: readonly string[], keys: () => Promise<readonly string[]>): Promise<boolean> {
    try {
      for (const pattern of patterns) {
        await this.jsm.streams.purge(this.stream, { filter: this.subject(pattern) });
      }
      return true;
    } catch (error) {
      if (!isPermissionDenied(error)) throw error;
    }
    for (const key of await keys()) {
      const marker = headers();
      marker.set('KV-Operation', 'PURGE');
      marker.set('Nats-Rollup', 'sub');
      await this.js.publish(this.subject(key), undefined, { headers: marker });
    }
    return false;
  }
}

function isWrongLastSequence(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 10071 || (error instanceof Error && /wrong last sequence/i.test(error.message));
}

function isPermissionDenied(error: unknown): boolean {
  if (BatonError.is(error, 'BUS_PERMISSION_DENIED')) return true;
  for (let cause = error; cause instanceof Error; cause = cause.cause) {
    if (cause.name === 'PermissionViolationError' || /permissions violation/i.test(cause.message))
      return true;
  }
  return false;
}

/** A NATS failure of the memory store as MEMORY_UNAVAILABLE (retryable: the bucket may come back). */
export function unavailable(bucket: string, operation: string, error: unknown): BatonError {
  if (error instanceof BatonError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new BatonError('MEMORY_UNAVAILABLE', `Memory bucket "${bucket}": ${operation} failed: ${message}`, {
    cause: error,
  });
}
