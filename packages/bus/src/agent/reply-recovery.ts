import { BatonError } from '@baton/core';
import { messageOf } from '../bytes.js';
import { type Envelope, encodeEnvelope, readEnvelope } from '../envelope.js';
import type { WaitingRequest } from '../transport/pending.js';
import type { Bus, BusMessage, BusStatus } from '../transport/types.js';
import { readStatusAnswer, STATUS_MAX_CALLS, statusQueryData } from './invocation-status.js';

/** A bus that can lose replies to a reconnect and lets its requests be settled from outside (NatsBus). */
export interface RecoverableBus extends Bus {
  waitingRequests(): WaitingRequest[];
  settleRequest(token: string, outcome: BusMessage | BatonError): boolean;
}

export interface ReplyRecoveryOptions {
  /** When to ask, in ms after the reconnect: the workers may reconnect a little after the caller. */
  askAtMs?: readonly number[];
  /** A call nobody has claimed by then fails with BUS_DISCONNECTED (retryable). */
  giveUpAfterMs?: number;
}

export const DEFAULT_ASK_AT_MS: readonly number[] = [0, 500, 1_500, 3_000];
export const DEFAULT_GIVE_UP_AFTER_MS = 5_000;

const INVOKE_SUFFIX = '.invoke';
const STATUS_SUFFIX = '.status';

function isRecoverable(bus: Bus): bus is RecoverableBus {
  const candidate = bus as Partial<RecoverableBus>;
  return typeof candidate.waitingRequests === 'function' && typeof candidate.settleRequest === 'function';
}

const installed = new WeakMap<Bus, ReplyRecovery>();

/**
 * Makes the core calls on `bus` survive a reconnect (once per bus; nothing on a bus that never
 * disconnects, such as the InProcessBus). Each call must be requested with its invocation envelope as
 * `RequestOptions.tag`; nothing else happens per call, so calls cost nothing more until a link drops.
 */
export function recoverRepliesOn(bus: Bus, options: ReplyRecoveryOptions = {}): void {
  if (!isRecoverable(bus) || installed.has(bus)) return;
  installed.set(bus, new ReplyRecovery(bus, options));
}

interface Tracked {
  token: string;
  envelope: Envelope;
  statusSubject: string;
  /** Someone answered: running (its reply will come) or done (settled). */
  known: boolean;
}

/**
 * After every disconnect → connected, asks the agents about each core call still waiting: a call that
 * finished is settled with its recovered reply, one still running keeps waiting for its normal reply,
 * and one no instance knows (its reply is gone, or it never arrived) fails soon with a retryable
 * BUS_DISCONNECTED instead of waiting for its deadline.
 */
class ReplyRecovery {
  private readonly askAtMs: readonly number[];
  private readonly giveUpAfterMs: number;
  /** Bumped by every disconnect: a round still running for an earlier reconnect stops. */
  private generation = 0;
  private dropped = false;

  constructor(
    private readonly bus: RecoverableBus,
    options: ReplyRecoveryOptions,
  ) {
    this.askAtMs = options.askAtMs ?? DEFAULT_ASK_AT_MS;
    this.giveUpAfterMs = options.giveUpAfterMs ?? DEFAULT_GIVE_UP_AFTER_MS;
    const stop = bus.onStatus((status: BusStatus) => {
      if (status === 'disconnected') {
        this.generation++;
        this.dropped = true;
      } else if (status === 'connected' && this.dropped) {
        this.dropped = false;
        const generation = this.generation;
        this.recover(generation).catch((error: unknown) => {
          // A bus closed meanwhile fails its calls itself (BUS_CLOSED); anything else is worth a line.
          if (this.bus.status !== 'closed')
            console.error('[baton] reply recovery after a reconnect failed:', error);
        });
      } else if (status === 'closed') stop();
    });
  }

  private current(generation: number): boolean {
    return generation === this.generation && this.bus.status === 'connected';
  }

  private async recover(generation: number): Promise<void> {
    const tracked = new Map<string, Tracked>();
    for (const request of this.bus.waitingRequests()) {
      const call = trackable(request);
      if (call) tracked.set(call.envelope.id, call);
    }
    if (tracked.size === 0) return;
    const bus = this.bus;
    const inbox = bus.createInbox();
    const answers = bus.subscribe(inbox, (message) => {
      const answer = readStatusAnswer(message, bus.maxPayload);
      // Anyone may publish on an inbox it guessed; what cannot be read settles nothing.
      if (!answer.ok) return;
      for (const status of answer.value.calls) {
        const call = tracked.get(status.id);
        if (!call) continue;
        if (status.state === 'done') {
          if (status.reply.correlationId !== call.envelope.id) continue;
          call.known = true;
          bus.settleRequest(call.token, messageOf(message.subject, encodeEnvelope(status.reply)));
        } else {
          call.known = true;
        }
      }
    });
    const started = Date.now();
    try {
      for (const at of this.askAtMs) {
        await sleepUntil(started + at);
        if (!this.current(generation)) return;
        const unknown = this.unknown(tracked);
        if (unknown.length === 0) return;
        this.ask(unknown, inbox);
      }
      await sleepUntil(started + this.giveUpAfterMs);
      if (!this.current(generation)) return;
      for (const call of this.unknown(tracked)) {
        bus.settleRequest(call.token, lostReply(call));
      }
    } finally {
      answers.unsubscribe();
    }
  }

  /** Calls still waiting that no instance has claimed yet. */
  private unknown(tracked: Map<string, Tracked>): Tracked[] {
    const waiting = new Set(this.bus.waitingRequests().map((request) => request.token));
    const unknown: Tracked[] = [];
    for (const [id, call] of tracked) {
      if (!waiting.has(call.token)) tracked.delete(id);
      else if (!call.known) unknown.push(call);
    }
    return unknown;
  }

  private ask(calls: Tracked[], inbox: string): void {
    const bySubject = new Map<string, Tracked[]>();
    for (const call of calls) {
      const group = bySubject.get(call.statusSubject);
      if (group) group.push(call);
      else bySubject.set(call.statusSubject, [call]);
    }
    for (const [subject, group] of bySubject) {
      for (let start = 0; start < group.length; start += STATUS_MAX_CALLS) {
        const chunk = group.slice(start, start + STATUS_MAX_CALLS);
        const agent = chunk[0]?.envelope.to ?? '';
        const data = statusQueryData(
          chunk[0]?.envelope.from ?? 'client',
          agent,
          chunk.map((call) => ({ id: call.envelope.id, runId: call.envelope.runId })),
        );
        try {
          this.bus.publish(subject, data, { reply: inbox });
        } catch {
          // The link dropped again: the next reconnect starts a new round.
        }
      }
    }
  }
}

/** A waiting request that is a core invocation of an agent; undefined for anything else. */
function trackable(request: WaitingRequest): Tracked | undefined {
  if (!request.subject.endsWith(INVOKE_SUFFIX)) return undefined;
  const envelope = readEnvelope(request.tag);
  if (envelope?.kind !== 'invoke') return undefined;
  return {
    token: request.token,
    envelope,
    statusSubject: `${request.subject.slice(0, -INVOKE_SUFFIX.length)}${STATUS_SUFFIX}`,
    known: false,
  };
}

function lostReply(call: Tracked): BatonError {
  return new BatonError(
    'BUS_DISCONNECTED',
    `The connection to NATS dropped while this call to ${call.envelope.to} was waiting, and no instance of ${call.envelope.to} knows it since the reconnect: its reply (if any) is lost`,
    {
      retryable: true,
      details: { invocationId: call.envelope.id, runId: call.envelope.runId, agent: call.envelope.to },
      hint: 'Retry the call; a worker that was also disconnected may have run it',
    },
  );
}

/** Unref'd: the calls being recovered keep the process alive; when none is left, nothing should. */
function sleepUntil(at: number): Promise<void> {
  const wait = at - Date.now();
  if (wait <= 0) return Promise.resolve();
  return new Promise((resolve) => setTimeout(resolve, wait).unref());
}
