import { BatonError } from '@baton/core';
import type { ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import type { Admission } from '../agent/admit.js';
import { admit } from '../agent/admit.js';
import { errorEnvelope } from '../agent/replies.js';
import type { Worker } from '../agent/worker.js';
import { type DurableServeOptions, type ReplyChannel, STOPPING } from '../agent/worker-options.js';
import { encodeUtf8, messageOf } from '../bytes.js';
import { decodeEnvelope, type Envelope } from '../envelope.js';
import { HEADER } from '../trace-context.js';
import { headersOf } from '../transport/nats.js';
import {
  DEFAULT_RESULT_TTL_MS,
  type DurableInfra,
  ensureConsumer,
  ensureInfra,
  type ResultRecord,
  readResultRecord,
  requireNats,
} from './infra.js';

const DEFAULT_ACK_WAIT_MS = 10_000;
const DEFAULT_MAX_DELIVERIES = 5;

type Claim = { kind: 'claimed'; revision: number } | { kind: 'replay'; reply: Envelope } | { kind: 'busy' };

/**
 * Takes invocations from the agent's JetStream work queue. At-least-once delivery becomes exactly-once
 * results: the results bucket holds a claim while a run is in progress (refreshed with the ack progress)
 * and the reply once it is done, so a redelivered invocation that already completed is answered from KV,
 * a duplicate that is still running elsewhere waits for that run, and a claim left by a dead worker is
 * taken over once it goes stale.
 */
export async function startDurableConsumer(worker: Worker, options: DurableServeOptions): Promise<void> {
  const bus = requireNats(worker.bus, `serveAgent(${JSON.stringify(worker.name)})`);
  const ackWaitMs = options.ackWaitMs ?? DEFAULT_ACK_WAIT_MS;
  const maxDeliveries = options.maxDeliveries ?? DEFAULT_MAX_DELIVERIES;
  const infra = await ensureInfra(bus, worker.namespace, options.resultTtlMs ?? DEFAULT_RESULT_TTL_MS);
  const consumerName = await ensureConsumer(infra, {
    agent: worker.name,
    namespace: worker.namespace,
    ackWaitMs,
    maxDeliveries,
  });
  const consumer = await infra.js.consumers.get(infra.invokeStream, consumerName);
  const messages = await consumer.consume({ max_messages: worker.concurrency });
  const inFlight = new Set<Promise<void>>();
  let stopping: 'drain' | 'stop' | undefined;

  const handler = new DurableHandler(worker, infra, { ackWaitMs, maxDeliveries }, () => stopping);
  const loop = (async () => {
    for await (const msg of messages) {
      if (stopping) {
        msg.nak();
        continue;
      }
      const task = handler.handle(msg).catch((error: unknown) => {
        console.error(`[baton] ${worker.name}: durable invocation failed unexpectedly:`, error);
        msg.nak(ackWaitMs);
      });
      inFlight.add(task);
      void task.finally(() => inFlight.delete(task));
      // Backpressure: take the next message only when a run slot is free.
      while (inFlight.size >= worker.concurrency) await Promise.race(inFlight);
    }
  })();

  worker.durableStopper = async (mode, graceMs) => {
    stopping = mode;
    await closeQuietly(messages);
    await loop;
    const settled = Promise.all(inFlight);
    if (mode === 'drain') return void (await settled);
    // Runs that ignore their abort get the same grace as core runs; JetStream redelivers what is left.
    let grace: NodeJS.Timeout | undefined;
    await Promise.race([settled, new Promise((resolve) => (grace = setTimeout(resolve, graceMs)))]);
    clearTimeout(grace);
  };
}

async function closeQuietly(messages: ConsumerMessages): Promise<void> {
  try {
    await messages.close();
  } catch {
    // Already closed with the connection.
  }
}

interface Settings {
  ackWaitMs: number;
  maxDeliveries: number;
}

class DurableHandler {
  constructor(
    private readonly worker: Worker,
    private readonly infra: DurableInfra,
    private readonly settings: Settings,
    private readonly stopping: () => 'drain' | 'stop' | undefined,
  ) {}

  private get results(): KV {
    return this.infra.results;
  }

  async handle(msg: JsMsg): Promise<void> {
    const worker = this.worker;
    msg.working();
    const headers = headersOf(msg.headers);
    const replyTo = headers?.[HEADER.REPLY_TO];
    const deliveries = msg.info.deliveryCount;
    const message = messageOf(msg.subject, msg.data, headers);
    const sendOnly: ReplyChannel = { send: (envelope) => this.publishReply(replyTo, envelope) };

    const killed = worker.killError;
    if (killed) {
      const decoded = decodeEnvelope(message.string());
      const envelope = decoded.ok ? decoded.envelope : undefined;
      await this.finish(envelope, errorEnvelope(worker.name, envelope, killed), replyTo);
      msg.term('killed');
      return;
    }
    let admission: Admission = admit(message, worker.rules, Date.now());
    if (admission.ok && deliveries > this.settings.maxDeliveries) {
      admission = {
        ok: false,
        envelope: admission.envelope,
        error: new BatonError(
          'WORKER_CRASHED',
          `The invocation was delivered ${deliveries - 1} times without completing; dead-lettered`,
          { retryable: false, details: { deliveries: deliveries - 1, max: this.settings.maxDeliveries } },
        ),
      };
    }
    if (!admission.ok) {
      const envelope = admission.envelope;
      const recordAndReply: ReplyChannel = {
        send: (reply) => this.finish(envelope, reply, replyTo),
      };
      worker.reject(message, admission, envelope ? recordAndReply : sendOnly, deliveries);
      msg.term(admission.error.code);
      return;
    }

    const envelope = admission.envelope;
    const claim = await this.claimOrWait(msg, envelope, deliveries);
    if (claim.kind === 'replay') {
      this.publishReply(replyTo, claim.reply);
      msg.ack();
      return;
    }
    if (claim.kind === 'busy') return; // Its deadline passed while another worker ran it; that worker replies.

    const progress = setInterval(() => {
      msg.working();
      void this.results
        .put(
          envelope.id,
          record({ state: 'running', instance: worker.instance, heartbeatAt: Date.now(), deliveries }),
        )
        .catch(() => undefined);
    }, this.progressEveryMs);
    const channel: ReplyChannel = {
      send: async (reply) => {
        clearInterval(progress);
        if (this.stopping() === 'stop' && isStopAbort(reply)) {
          // The worker is shutting down, not the run failing: give it to another worker now.
          await this.results.delete(envelope.id).catch(() => undefined);
          msg.nak();
          return;
        }
        await this.finish(envelope, reply, replyTo);
        msg.ack();
      },
    };
    try {
      await worker.execute(envelope, admission.input, message, channel);
    } finally {
      clearInterval(progress);
    }
  }

  private get progressEveryMs(): number {
    return Math.max(100, Math.floor(this.settings.ackWaitMs / 3));
  }

  /** A claim older than this belongs to a worker that stopped refreshing it: a dead one. */
  private get staleAfterMs(): number {
    return this.settings.ackWaitMs;
  }

  /**
   * Claims the invocation, or finds its recorded reply. A fresh claim held by someone else means the run
   * is in progress there: keep the delivery alive and wait until it is done or its claim goes stale.
   */
  private async claimOrWait(msg: JsMsg, envelope: Envelope, deliveries: number): Promise<Claim> {
    for (;;) {
      const claim = await this.claim(envelope.id, deliveries);
      if (claim.kind !== 'busy') return claim;
      if (envelope.deadline !== null && Date.now() > envelope.deadline + this.staleAfterMs) {
        msg.ack();
        return claim;
      }
      msg.working();
      await new Promise((resolve) => setTimeout(resolve, this.progressEveryMs));
    }
  }

  private async claim(id: string, deliveries: number): Promise<Claim> {
    const mine = () =>
      record({ state: 'running', instance: this.worker.instance, heartbeatAt: Date.now(), deliveries });
    for (let attempt = 0; attempt < 10; attempt++) {
      const entry = await this.results.get(id);
      const existing = entry && entry.operation === 'PUT' ? readResultRecord(entry.value) : undefined;
      try {
        if (!existing) {
          return { kind: 'claimed', revision: await this.results.create(id, mine()) };
        }
        if (existing.state === 'done') return { kind: 'replay', reply: existing.reply };
        if (Date.now() - existing.heartbeatAt > this.staleAfterMs) {
          return {
            kind: 'claimed',
            revision: await this.results.update(id, mine(), (entry as { revision: number }).revision),
          };
        }
        return { kind: 'busy' };
      } catch (error) {
        if (!isWrongSequence(error)) throw error;
        // Someone else wrote first: look again.
      }
    }
    return { kind: 'busy' };
  }

  /** Records the reply (so a redelivery replays it), then sends it to the caller. */
  private async finish(
    envelope: Envelope | undefined,
    reply: Envelope,
    replyTo: string | undefined,
  ): Promise<void> {
    if (envelope) {
      const done = record({ state: 'done', instance: this.worker.instance, at: Date.now(), reply });
      for (let attempt = 0; ; attempt++) {
        try {
          await this.results.put(envelope.id, done);
          break;
        } catch (error) {
          if (attempt >= 20) throw error;
          await new Promise((resolve) => setTimeout(resolve, 100 * Math.min(attempt + 1, 5)));
        }
      }
    }
    this.publishReply(replyTo, reply);
  }

  private publishReply(replyTo: string | undefined, reply: Envelope): void {
    if (replyTo === undefined) return;
    this.worker.sendReply(replyTo, reply);
  }
}

function record(value: ResultRecord): Uint8Array {
  return encodeUtf8(JSON.stringify(value));
}

function isWrongSequence(error: unknown): boolean {
  return String((error as Error)?.message ?? '').includes('wrong last sequence');
}

function isStopAbort(reply: Envelope): boolean {
  if (reply.kind !== 'result') return false;
  const payload = reply.payload as { status?: string; error?: { details?: { reason?: unknown } } };
  return payload.status === 'aborted' && payload.error?.details?.reason === STOPPING;
}
