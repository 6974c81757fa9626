import { BatonError } from '@baton/core';
import { type JetStreamClient, jetstream } from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import { createInbox } from '@nats-io/transport-node';
import type { Delivery, RemoteDurableOptions, Sender } from '../agent/remote-types.js';
import { errorEnvelope } from '../agent/replies.js';
import { encodeUtf8, messageOf } from '../bytes.js';
import { encodeEnvelope } from '../envelope.js';
import { jetstreamNames, subjects } from '../subjects.js';
import { durableInboxPrefix } from '../tenancy/permissions.js';
import { HEADER } from '../trace-context.js';
import { permissionDenial, permissionDenied, toNatsHeaders } from '../transport/nats.js';
import { PendingRequests } from '../transport/pending.js';
import type { Bus, BusMessage, BusSubscription } from '../transport/types.js';
import { type ResultRecord, readResultRecord, requireNats } from './infra.js';

const DEFAULT_POLL_MS = 1_000;

/**
 * Sends invocations through the JetStream work queue. The envelope id is the JetStream message id (the
 * server drops a duplicate publish), the reply comes to this caller's inbox, and while waiting the caller
 * also looks for the result in KV — so a reply lost to a disconnect or a crashed worker is still found.
 * A call that gives up (deadline, abort) leaves a record that stops a later worker from running it.
 */
export function durableSender(bus: Bus, namespace: string, options: RemoteDurableOptions): Sender {
  const nats = requireNats(bus, 'remoteAgent');
  const pollMs = options.pollMs ?? DEFAULT_POLL_MS;
  const js: JetStreamClient = jetstream(nats.connection);
  // Under `<inbox prefix>.durable`: a durable reply is published to a subject the caller names in a header,
  // and a tenant's workers may publish by grant only there (see tenancy/permissions.ts).
  const pending = new PendingRequests(`${createInbox(durableInboxPrefix(nats.inboxPrefix))}.`);
  const waiting = new Map<string, { id: string; since: number }>();
  let results: Promise<KV | undefined> | undefined;
  let inbox: BusSubscription | undefined;
  let poller: NodeJS.Timeout | undefined;

  const openResults = () => {
    results ??= new Kvm(nats.connection).open(jetstreamNames.resultsBucket(namespace)).catch(() => {
      results = undefined;
      return undefined;
    });
    return results;
  };

  const poll = async () => {
    if (waiting.size === 0) return;
    const kv = await openResults();
    if (!kv) return;
    const now = Date.now();
    await Promise.all(
      [...waiting].map(async ([token, entry]) => {
        if (now - entry.since < pollMs) return;
        const found = await kv.get(entry.id).catch(() => null);
        const record = found && found.operation === 'PUT' ? readResultRecord(found.value) : undefined;
        if (record?.state === 'done') {
          pending.resolve(token, messageOf('kv', encodeEnvelope(record.reply)));
        }
      }),
    );
  };

  return async (delivery: Delivery): Promise<BusMessage> => {
    if (!inbox || inbox.closed) {
      inbox = bus.subscribe(`${pending.prefix}*`, (message) => {
        const token = pending.tokenOf(message.subject);
        if (token !== undefined) pending.resolve(token, message);
      });
    }
    if (!poller) {
      poller = setInterval(() => void poll(), pollMs);
      poller.unref();
      const stop = bus.onStatus((status) => {
        if (status !== 'closed') return;
        clearInterval(poller);
        stop();
      });
    }
    const { envelope } = delivery;
    const subject = subjects.durableInvoke(namespace, envelope.to);
    const timeoutMs = delivery.deadline - Date.now();
    const requestOptions = delivery.signal ? { timeoutMs, signal: delivery.signal } : { timeoutMs };
    const { reply, token, promise } = pending.open(subject, requestOptions);
    waiting.set(token, { id: envelope.id, since: Date.now() });
    const headers = { ...delivery.headers, [HEADER.REPLY_TO]: reply };
    void publishUntilAccepted(js, subject, delivery, headers).catch((error: unknown) =>
      pending.fail(token, BatonError.wrap(error)),
    );
    try {
      return await promise;
    } catch (error) {
      // Giving up: make sure no worker starts this invocation later.
      void leaveTombstone(
        openResults,
        envelope.id,
        errorEnvelope('caller', envelope, BatonError.wrap(error)),
      );
      throw error;
    } finally {
      waiting.delete(token);
    }
  };
}

/** Publishes with the envelope id as message id; retries through disconnects until the deadline. */
async function publishUntilAccepted(
  js: JetStreamClient,
  subject: string,
  delivery: Delivery,
  headers: Record<string, string>,
): Promise<void> {
  const natsHeaders = toNatsHeaders(headers);
  for (;;) {
    const left = delivery.deadline - Date.now();
    if (left <= 0 || delivery.signal?.aborted) return;
    try {
      await js.publish(subject, encodeUtf8(delivery.data), {
        msgID: delivery.envelope.id,
        headers: natsHeaders,
        timeout: Math.max(100, Math.min(5_000, left)),
      });
      return;
    } catch (error) {
      if (isNoStream(error)) {
        throw new BatonError('NO_RESPONDERS', `No durable work queue for "${subject}"`, {
          cause: error,
          details: { subject },
          hint: 'Start a durable worker (serveAgent with durable: true) in this namespace first',
        });
      }
      if (isClosed(error))
        throw new BatonError('BUS_CLOSED', 'The NATS connection is closed', { cause: error });
      // Retrying cannot help a user the server refuses: fail now, not at the deadline.
      const denial = permissionDenial(error) ?? permissionDenial((error as { cause?: unknown })?.cause);
      if (denial) throw permissionDenied(denial);
      await new Promise((resolve) => setTimeout(resolve, Math.min(250, Math.max(0, left))));
    }
  }
}

async function leaveTombstone(
  openResults: () => Promise<KV | undefined>,
  id: string,
  reply: ReturnType<typeof errorEnvelope>,
): Promise<void> {
  try {
    const kv = await openResults();
    const tombstone: ResultRecord = { state: 'done', instance: 'caller', at: Date.now(), reply };
    await kv?.create(id, encodeUtf8(JSON.stringify(tombstone)));
  } catch {
    // A worker already claimed it (the cancel reaches it) or the server is away (its deadline stops it).
  }
}

function isNoStream(error: unknown): boolean {
  const text = `${(error as Error)?.name ?? ''} ${(error as Error)?.message ?? ''} ${String((error as { cause?: unknown })?.cause ?? '')}`;
  return /no responders|NoResponders|no stream/i.test(text);
}

function isClosed(error: unknown): boolean {
  const name = (error as Error)?.name ?? '';
  return name === 'ClosedConnectionError' || /closed/i.test((error as Error)?.message ?? '');
}
