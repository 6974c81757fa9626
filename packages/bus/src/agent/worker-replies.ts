import { BatonError } from '@baton/core';
import { makeDeadLetter, publishDeadLetter } from '../dead-letter.js';
import { type Envelope, encodeEnvelope } from '../envelope.js';
import type { Bus } from '../transport/types.js';
import type { Admission } from './admit.js';
import type { RecentResults } from './recent-results.js';
import { errorEnvelope, oversizedReply } from './replies.js';
import type { Received, ReplyChannel } from './worker-options.js';

/** What answering an invocation needs of a worker. */
export interface ReplyingWorker {
  readonly bus: Bus;
  readonly name: string;
  readonly namespace: string;
  readonly instance: string;
}

/** Sends a reply; one too large for the bus becomes a PAYLOAD_TOO_LARGE failure that still arrives. */
export function sendReply(worker: ReplyingWorker, reply: string, envelope: Envelope): string {
  let data: string;
  try {
    data = encodeEnvelope(envelope);
    const size = data.length > worker.bus.maxPayload / 3 ? Buffer.byteLength(data, 'utf8') : data.length;
    if (size > worker.bus.maxPayload) {
      data = encodeEnvelope(oversizedReply(worker.name, envelope, size, worker.bus.maxPayload));
    }
  } catch (error) {
    data = encodeEnvelope(errorEnvelope(worker.name, undefined, BatonError.wrap(error), envelope));
  }
  try {
    worker.bus.publish(reply, data);
  } catch (error) {
    console.error(`[baton] ${worker.name}: could not reply on ${reply}:`, error);
  }
  // The text as sent, so the reply can be sent again to a caller that lost it.
  return data;
}

/** Replies with a typed error and dead-letters the message: nothing is dropped silently. */
export function rejectInvocation(
  worker: ReplyingWorker,
  message: Received,
  admission: Extract<Admission, { ok: false }>,
  channel: ReplyChannel,
  deliveries?: number,
): void {
  const letter = makeDeadLetter({
    namespace: worker.namespace,
    agent: worker.name,
    instance: worker.instance,
    subject: message.subject,
    error: admission.error,
    message,
    headers: message.headers,
    envelope: admission.envelope,
    ...(deliveries === undefined ? {} : { deliveries }),
  });
  publishDeadLetter(worker.bus, letter);
  void channel.send(errorEnvelope(worker.name, admission.envelope, admission.error));
}

/** The reply of a core (non-durable) invocation: published to the message's reply subject, if any. */
export class CoreReply implements ReplyChannel {
  constructor(
    private readonly worker: ReplyingWorker & { readonly recent: RecentResults | undefined },
    private readonly reply: string | undefined,
  ) {}

  send(envelope: Envelope): void {
    if (this.reply === undefined) return;
    const data = sendReply(this.worker, this.reply, envelope);
    this.worker.recent?.remember(envelope.correlationId, this.reply, data);
  }
}
