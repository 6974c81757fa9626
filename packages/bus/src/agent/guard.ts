import { BatonError } from '@baton/core';
import { type DeadLetter, makeDeadLetter, publishDeadLetter } from '../dead-letter.js';
import type { Envelope } from '../envelope.js';
import { quote, truncate } from '../quote.js';
import type { Bus, BusHandler, BusMessage } from '../transport/types.js';
import { errorEnvelope } from './replies.js';

/** What the guard needs of a worker. */
export interface GuardedWorker {
  readonly bus: Bus;
  readonly name: string;
  readonly namespace: string;
  readonly instance: string;
  sendReply(reply: string, envelope: Envelope): void;
}

export interface DeadLetterThrottleOptions {
  /** Dead letters published back to back before the rate applies (default 32). */
  burst?: number;
  /** Sustained dead letters per second (default 10). */
  perSecond?: number;
  /** The clock, in ms (default performance.now). */
  now?: () => number;
}

const MAX_WAIT_MS = 60_000;
const MIN_RATE = 0.01;

/**
 * A token bucket over one worker's control-subject dead letters. Control subjects (cancel, kill,
 * registry query) reach every worker of the namespace, not one member of a queue group, so one flood
 * would otherwise become a flood of dead letters from every worker. Nothing is dropped silently: what the
 * bucket holds back is counted into the next dead letter published, and when a flood ends the last
 * message held back is published with the count once the bucket allows it.
 */
export class DeadLetterThrottle {
  private readonly burst: number;
  private readonly perMs: number;
  private readonly now: () => number;
  private tokens: number;
  private refilledAt: number;
  private suppressedCount = 0;
  private latest: ((suppressed: number) => DeadLetter) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly publish: (letter: DeadLetter) => void,
    options: DeadLetterThrottleOptions = {},
  ) {
    this.burst = Math.max(1, options.burst ?? 32);
    this.perMs = Math.max(options.perSecond ?? 10, MIN_RATE) / 1_000;
    this.now = options.now ?? (() => performance.now());
    this.tokens = this.burst;
    this.refilledAt = this.now();
  }

  /** Dead letters held back since the last one published. */
  get suppressed(): number {
    return this.suppressedCount;
  }

  /** Publishes the dead letter `make` builds (given the count held back before it), or holds it back. */
  offer(make: (suppressed: number) => DeadLetter): void {
    if (this.closed || this.take()) {
      const suppressed = this.suppressedCount;
      this.suppressedCount = 0;
      this.latest = undefined;
      this.publish(make(suppressed));
      return;
    }
    this.suppressedCount++;
    this.latest = make;
    if (this.timer === undefined) this.schedule();
  }

  /** Publishes the last message held back now, with the count of the others (on shutdown). */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.flush();
  }

  private release(): void {
    this.timer = undefined;
    if (this.latest === undefined) return;
    if (!this.take()) {
      this.schedule();
      return;
    }
    this.flush();
  }

  /** Wakes when the bucket next has a token (bounded: a timer past 2^31 ms would fire at once). */
  private schedule(): void {
    const wait = Math.min(Math.max(Math.ceil((1 - this.tokens) / this.perMs), 1), MAX_WAIT_MS);
    this.timer = setTimeout(() => this.release(), wait);
    this.timer.unref();
  }

  private flush(): void {
    const make = this.latest;
    if (make === undefined) return;
    // The held-back message itself is published, so it no longer counts as suppressed.
    const suppressed = this.suppressedCount - 1;
    this.suppressedCount = 0;
    this.latest = undefined;
    this.publish(make(suppressed));
  }

  private take(): boolean {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + (now - this.refilledAt) * this.perMs);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens--;
    return true;
  }
}

/**
 * How a worker turns away what it cannot act on, and the guard around every handler it subscribes: a
 * typed error reply where the message has a reply subject, and a dead letter either way.
 */
export class WorkerGuard {
  private readonly throttle: DeadLetterThrottle;

  constructor(
    private readonly worker: GuardedWorker,
    throttle?: DeadLetterThrottleOptions,
  ) {
    this.throttle = new DeadLetterThrottle((letter) => publishDeadLetter(worker.bus, letter), throttle);
  }

  /** Dead letters of control subjects held back by the rate limit, not yet reported. */
  get suppressed(): number {
    return this.throttle.suppressed;
  }

  /**
   * Refuses a message: the error replied when there is a reply subject, the message dead-lettered
   * (rate-limited when `control`: see DeadLetterThrottle).
   */
  refuse(message: BusMessage, error: BatonError, envelope: Envelope | undefined, control: boolean): void {
    const worker = this.worker;
    const make = (suppressed: number): DeadLetter =>
      makeDeadLetter({
        namespace: worker.namespace,
        agent: worker.name,
        instance: worker.instance,
        subject: message.subject,
        error,
        message,
        headers: message.headers,
        envelope,
        suppressed,
      });
    if (control) this.throttle.offer(make);
    else publishDeadLetter(worker.bus, make(0));
    if (message.reply !== undefined)
      worker.sendReply(message.reply, errorEnvelope(worker.name, envelope, error));
  }

  /**
   * `handler`, made unable to throw: a failure is refused like a bad message (INTERNAL), so it is
   * answered and recorded rather than lost in a log or, on NATS, fatal to the subscription.
   */
  wrap(handler: BusHandler, control: boolean): BusHandler {
    return (message) => {
      try {
        handler(message);
      } catch (caught) {
        this.failed(message, caught, control);
      }
    };
  }

  /** Publishes what the rate limit still holds back; call on shutdown. */
  close(): void {
    try {
      this.throttle.close();
    } catch (error) {
      console.error(`[baton] ${this.worker.name}: could not publish held-back dead letters:`, error);
    }
  }

  /** Refuses a message whose handling failed (INTERNAL); never throws. */
  failed(message: BusMessage, caught: unknown, control: boolean): void {
    const reason = caught instanceof Error ? caught.message : caught;
    try {
      const error = new BatonError(
        'INTERNAL',
        `${this.worker.name} failed handling a message on ${message.subject}: ${quote(reason, 200)}`,
        { details: { subject: truncate(message.subject, 256) } },
      );
      this.refuse(message, error, undefined, control);
    } catch (error) {
      // Last resort: the message cannot even be refused (the bus is gone); still never a throw.
      console.error(`[baton] ${this.worker.name}: a handler failed and could not be reported:`, error);
    }
  }
}
