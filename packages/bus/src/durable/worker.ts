import { BatonError } from '@baton/core';
import type { ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import type { Admission } from '../agent/admit.js';
import { admit } from '../agent/admit.js';
import { errorEnvelope } from '../agent/replies.js';
import type { Worker } from '../agent/worker.js';
import { type DurableServeOptions, type ReplyChannel, STOPPING } from '../agent/worker-options.js';
import { rejectInvocation } from '../agent/worker-replies.js';
import { messageOf } from '../bytes.js';
import { decodeEnvelope, type Envelope } from '../envelope.js';
import { HEADER } from '../trace-context.js';
import { headersOf } from '../transport/nats-adapters.js';
import { type Claim, HeldClaim, isWrongSequence, record, type Sighting } from './claim.js';
import {
  DEFAULT_RESULT_TTL_MS,
  type DurableInfra,
  ensureConsumer,
  ensureInfra,
  readResultRecord,
  requireNats,
} from './infra.js';

/**
 * How long a delivery may go unacknowledged. A live worker reports progress several times within it, so
 * this is about how long a dead worker's invocation waits before another worker takes it.
 */
export const DEFAULT_ACK_WAIT_MS = 3_000;
const DEFAULT_MAX_DELIVERIES = 5;
/** Progress reports (and claim refreshes) per ack wait: a few may be late or lost before it matters. */
const HEARTBEATS_PER_ACK_WAIT = 4;

/**
 * Takes invocations from the agent's JetStream work queue. At-least-once delivery becomes exactly-once
 * results: the results bucket holds a claim while a run is in progress (refreshed with the ack progress)
 * and the reply once it is done, so a redelivered invocation that already completed is answered from KV,
 * a duplicate that is still running elsewhere waits for that run, and a claim left by a dead worker is
 * taken over as soon as it goes stale — which is by the time JetStream redelivers, since both stop being
 * refreshed when the worker dies. Every write of a claim and of the result is conditional on the
 * revision its writer last saw, so a worker that lost its claim (it stalled and was taken over) can
 * neither refresh it nor record a second result: it stops its run instead.
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
  // One message per pull, and the next pull only once a run slot is free (the loop below reads the
  // iterator, which issues the pull, only then): a message pulled ahead would sit here unreported
  // while the runs go on, be redelivered elsewhere at every ack wait, and count towards maxDeliveries.
  const messages = await consumer.consume({ max_messages: 1 });
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
      // Plain term(): nats-server 2.9 redelivers a term that carries a reason. The reason is in the record.
      msg.term();
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
      rejectInvocation(worker, message, admission, envelope ? recordAndReply : sendOnly, deliveries);
      // Plain term(): nats-server 2.9 redelivers a term that carries a reason (the dead letter has it).
      msg.term();
      return;
    }

    const envelope = admission.envelope;
    const claim = await this.claimOrWait(msg, envelope, deliveries);
    if (claim.kind === 'replay') {
      this.publishReply(replyTo, claim.reply);
      msg.ack();
      return;
    }
    // Superseded: the later delivery answers. Busy: its deadline passed while another worker ran it,
    // and that worker replies.
    if (claim.kind !== 'claimed') return;

    const held = new HeldClaim(this, envelope, deliveries, claim.revision);
    const progress = setInterval(() => {
      msg.working();
      held.refresh();
    }, this.progressEveryMs);
    const channel: ReplyChannel = {
      send: async (reply) => {
        clearInterval(progress);
        if (this.stopping() === 'stop' && isStopAbort(reply)) {
          // The worker is shutting down, not the run failing: give it to another worker now.
          await held.release();
          msg.nak();
          return;
        }
        const outcome = await held.complete(reply);
        if (outcome === 'lost') return; // Taken over: the worker that holds the claim now answers.
        this.publishReply(replyTo, outcome);
        msg.ack();
      },
    };
    try {
      await worker.execute(envelope, admission.input, message, channel);
    } finally {
      clearInterval(progress);
    }
  }

  get results(): KV {
    return this.infra.results;
  }

  get instance(): string {
    return this.worker.instance;
  }

  /** A claim lost to another worker: this run's result would never be used, so it stops. */
  lost(envelope: Envelope): void {
    this.worker.abortRun(
      envelope.runId,
      new BatonError('WORKER_CRASHED', 'Another worker took this invocation over while it ran here', {
        details: { invocationId: envelope.id, instance: this.worker.instance },
      }),
    );
  }

  private get progressEveryMs(): number {
    return Math.max(100, Math.floor(this.settings.ackWaitMs / HEARTBEATS_PER_ACK_WAIT));
  }

  /**
   * A claim not refreshed for this long belongs to a worker that stopped: JetStream redelivers after the
   * same silence, so a redelivered invocation normally finds the claim stale at once.
   */
  private get staleAfterMs(): number {
    return this.settings.ackWaitMs;
  }

  /**
   * Claims the invocation, or finds its recorded reply. A fresh claim held by someone else means the run
   * is in progress there: keep the delivery alive and look again when the claim would go stale (or
   * sooner, as its holder may finish), never later than needed.
   */
  private async claimOrWait(msg: JsMsg, envelope: Envelope, deliveries: number): Promise<Claim> {
    let sighting: Sighting | undefined;
    for (;;) {
      const claim = await this.claim(envelope.id, deliveries, sighting);
      if (claim.kind !== 'busy') return claim;
      sighting = claim.sighting;
      if (envelope.deadline !== null && Date.now() > envelope.deadline + this.staleAfterMs) {
        msg.ack();
        return claim;
      }
      msg.working();
      await new Promise((resolve) => setTimeout(resolve, claim.retryInMs));
    }
  }

  private async claim(
    id: string,
    deliveries: number,
    sighting: Sighting | undefined,
  ): Promise<Claim & { sighting?: Sighting }> {
    const mine = () =>
      record({ state: 'running', instance: this.worker.instance, heartbeatAt: Date.now(), deliveries });
    for (let attempt = 0; attempt < 10; attempt++) {
      const entry = await this.results.get(id);
      const existing = entry && entry.operation === 'PUT' ? readResultRecord(entry.value) : undefined;
      try {
        if (!entry || !existing) {
          // No record, a deleted one (a stopping worker handed it back) or an unreadable one.
          const revision = entry
            ? await this.results.update(id, mine(), entry.revision)
            : await this.results.create(id, mine());
          return { kind: 'claimed', revision };
        }
        if (existing.state === 'done') return { kind: 'replay', reply: existing.reply };
        if (existing.deliveries > deliveries) return { kind: 'superseded' };
        const now = Date.now();
        const seen =
          sighting && sighting.revision === entry.revision
            ? sighting
            : { revision: entry.revision, since: now };
        const silentFor = Math.max(now - existing.heartbeatAt, now - seen.since);
        if (silentFor > this.staleAfterMs) {
          return { kind: 'claimed', revision: await this.results.update(id, mine(), entry.revision) };
        }
        const untilStale = this.staleAfterMs - silentFor + 10;
        return {
          kind: 'busy',
          retryInMs: Math.max(10, Math.min(this.progressEveryMs, untilStale)),
          sighting: seen,
        };
      } catch (error) {
        if (!isWrongSequence(error)) throw error;
        // Someone else wrote first: look again.
      }
    }
    return { kind: 'busy', retryInMs: this.progressEveryMs };
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

function isStopAbort(reply: Envelope): boolean {
  if (reply.kind !== 'result') return false;
  const payload = reply.payload as { status?: string; error?: { details?: { reason?: unknown } } };
  return payload.status === 'aborted' && payload.error?.details?.reason === STOPPING;
}
