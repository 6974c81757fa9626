import { BatonError } from '@baton/core';
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import { nanos } from '@nats-io/transport-node';
import { z } from 'zod';
import { type Envelope, envelopeSchema } from '../envelope.js';
import { jetstreamNames, subjects } from '../subjects.js';
import { NatsBus } from '../transport/nats.js';
import type { Bus } from '../transport/types.js';

export interface DurableInfra {
  bus: NatsBus;
  js: JetStreamClient;
  jsm: JetStreamManager;
  results: KV;
  invokeStream: string;
}

/** What the results bucket holds per invocation id: a claim while it runs, the reply once done. */
export type ResultRecord =
  | { state: 'running'; instance: string; heartbeatAt: number; deliveries: number }
  | { state: 'done'; instance: string; at: number; reply: Envelope };

const resultRecordSchema = z.discriminatedUnion('state', [
  z.object({
    state: z.literal('running'),
    instance: z.string(),
    heartbeatAt: z.number(),
    deliveries: z.number(),
  }),
  z.object({ state: z.literal('done'), instance: z.string(), at: z.number(), reply: envelopeSchema }),
]);

export function readResultRecord(value: Uint8Array): ResultRecord | undefined {
  try {
    const parsed = resultRecordSchema.safeParse(JSON.parse(Buffer.from(value).toString('utf8')));
    return parsed.success ? (parsed.data as ResultRecord) : undefined;
  } catch {
    return undefined;
  }
}

export function requireNats(bus: Bus, where: string): NatsBus {
  if (!(bus instanceof NatsBus)) {
    throw new BatonError('CONFIG_INVALID', `${where}: durable mode needs JetStream, so a NatsBus`, {
      hint: 'Use NatsBus.connect(...) with a nats-server started with JetStream (-js)',
    });
  }
  return bus;
}

function isNotFound(error: unknown): boolean {
  const message = String((error as Error)?.message ?? '');
  return message.includes('not found') || (error as { code?: unknown })?.code === 404;
}

function jetstreamUnavailable(error: unknown): BatonError {
  return new BatonError(
    'BUS_DISCONNECTED',
    `JetStream is not available: ${(error as Error)?.message ?? String(error)}`,
    { cause: error, hint: 'Start nats-server with JetStream enabled (-js)' },
  );
}

/** Results stay this long (the bucket's max age: the server enforces it, unlike per-key TTLs on 2.9). */
export const DEFAULT_RESULT_TTL_MS = 24 * 60 * 60 * 1000;

/** Creates (or opens) the work-queue stream, the dead-letter stream and the results bucket of a namespace. */
export async function ensureInfra(
  bus: NatsBus,
  namespace: string,
  resultTtlMs: number,
): Promise<DurableInfra> {
  const nc = bus.connection;
  let jsm: JetStreamManager;
  try {
    jsm = await jetstreamManager(nc);
  } catch (error) {
    throw jetstreamUnavailable(error);
  }
  const invokeStream = jetstreamNames.invokeStream(namespace);
  await ensureStream(jsm, {
    name: invokeStream,
    subjects: [subjects.allDurableInvokes(namespace)],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    duplicate_window: nanos(2 * 60 * 1000),
    discard: DiscardPolicy.Old,
  });
  await ensureStream(jsm, {
    name: jetstreamNames.deadLetterStream(namespace),
    subjects: [subjects.allDeadLetters(namespace)],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    max_age: nanos(7 * 24 * 60 * 60 * 1000),
  });
  const results = await new Kvm(nc).create(jetstreamNames.resultsBucket(namespace), {
    history: 1,
    ttl: resultTtlMs,
  });
  return { bus, js: jetstream(nc), jsm, results, invokeStream };
}

export async function ensureStream(
  jsm: JetStreamManager,
  config: Parameters<JetStreamManager['streams']['add']>[0],
): Promise<void> {
  try {
    await jsm.streams.info(config.name);
    return;
  } catch (error) {
    if (!isNotFound(error)) throw jetstreamUnavailable(error);
  }
  try {
    await jsm.streams.add(config);
  } catch (error) {
    // Another worker may have created it between our info and add.
    try {
      await jsm.streams.info(config.name);
    } catch {
      throw jetstreamUnavailable(error);
    }
  }
}

export interface ConsumerSettings {
  agent: string;
  namespace: string;
  ackWaitMs: number;
  maxDeliveries: number;
}

/**
 * The durable pull consumer shared by every worker of one agent. JetStream may deliver one more time
 * than `maxDeliveries`: that extra delivery is how a healthy worker dead-letters an invocation that
 * crashed its workers, instead of it vanishing when the server stops redelivering.
 */
export async function ensureConsumer(infra: DurableInfra, settings: ConsumerSettings): Promise<string> {
  const name = jetstreamNames.consumer(settings.agent);
  const config = {
    durable_name: name,
    filter_subject: subjects.durableInvoke(settings.namespace, settings.agent),
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(settings.ackWaitMs),
    max_deliver: settings.maxDeliveries + 1,
    max_ack_pending: 10_000,
  };
  try {
    await infra.jsm.consumers.add(infra.invokeStream, config);
  } catch (error) {
    try {
      await infra.jsm.consumers.update(infra.invokeStream, name, {
        ack_wait: config.ack_wait,
        max_deliver: config.max_deliver,
        max_ack_pending: config.max_ack_pending,
      });
    } catch {
      throw jetstreamUnavailable(error);
    }
  }
  return name;
}
