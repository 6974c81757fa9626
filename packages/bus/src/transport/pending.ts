import { BatonError, timerDelay } from '@baton/core';
import type { BusMessage, RequestOptions } from './types.js';

interface Pending {
  subject: string;
  resolve: (message: BusMessage) => void;
  reject: (error: BatonError) => void;
  expiresAt: number;
  timeoutMs: number;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  tag: unknown;
}

/** A request still waiting for its reply, as reply recovery sees it. */
export interface WaitingRequest {
  token: string;
  /** The subject the request went to. */
  subject: string;
  /** What the requester passed as `RequestOptions.tag`. */
  tag: unknown;
}

/**
 * Requests waiting for their reply, keyed by the last token of a shared reply prefix (one subscription
 * serves every request of a connection). Each request ends exactly once: reply, timeout, abort or close.
 *
 * One timer serves every request: it is armed for the earliest deadline and, when it fires, fails what
 * has expired and re-arms for the next. Most requests are answered long before their deadline, so the
 * common path costs a map insert and delete instead of a setTimeout and a clearTimeout.
 */
export class PendingRequests {
  private readonly pending = new Map<string, Pending>();
  private counter = 0;
  private timer: NodeJS.Timeout | undefined;
  private armedFor = Number.POSITIVE_INFINITY;

  constructor(
    readonly prefix: string,
    private readonly timeoutError: (subject: string, timeoutMs: number) => BatonError = deadlineExceeded,
  ) {}

  get size(): number {
    return this.pending.size;
  }

  /** Registers a request; returns its reply subject and the promise of its reply. */
  open(
    subject: string,
    options: RequestOptions,
  ): { reply: string; token: string; promise: Promise<BusMessage> } {
    const token = (++this.counter).toString(36);
    const timeoutMs = Math.max(0, options.timeoutMs);
    const expiresAt = performance.now() + timeoutMs;
    let entry: Pending | undefined;
    const promise = new Promise<BusMessage>((resolve, reject) => {
      entry = {
        subject,
        resolve,
        reject,
        expiresAt,
        timeoutMs,
        signal: options.signal,
        onAbort: undefined,
        tag: options.tag,
      };
    });
    const created = entry as Pending;
    this.pending.set(token, created);
    if (expiresAt < this.armedFor) this.arm(expiresAt);
    else if (this.pending.size === 1) this.timer?.ref();
    const signal = options.signal;
    if (signal) {
      if (signal.aborted) {
        this.fail(token, abortError(signal));
      } else {
        created.onAbort = () => this.fail(token, abortError(signal));
        signal.addEventListener('abort', created.onAbort, { once: true });
      }
    }
    return { reply: this.prefix + token, token, promise };
  }

  /** The token of a reply subject of this prefix, or undefined. */
  tokenOf(subject: string): string | undefined {
    return subject.startsWith(this.prefix) ? subject.slice(this.prefix.length) : undefined;
  }

  resolve(token: string, message: BusMessage): boolean {
    const entry = this.take(token);
    if (!entry) return false;
    entry.resolve(message);
    return true;
  }

  fail(token: string, error: BatonError): boolean {
    const entry = this.take(token);
    if (!entry) return false;
    entry.reject(error);
    return true;
  }

  /** The request subject of a pending token (for error messages). */
  subjectOf(token: string): string | undefined {
    return this.pending.get(token)?.subject;
  }

  /** The requests waiting now that carry a tag (the others cannot be asked about). */
  tagged(): WaitingRequest[] {
    const waiting: WaitingRequest[] = [];
    for (const [token, entry] of this.pending) {
      if (entry.tag !== undefined) waiting.push({ token, subject: entry.subject, tag: entry.tag });
    }
    return waiting;
  }

  /** Fails every request sent to `subject` (the server refused that publish); returns how many. */
  failSubject(subject: string, error: BatonError): number {
    let failed = 0;
    for (const [token, entry] of [...this.pending]) {
      if (entry.subject === subject && this.fail(token, error)) failed++;
    }
    return failed;
  }

  failAll(error: BatonError): void {
    for (const token of [...this.pending.keys()]) this.fail(token, error);
    clearTimeout(this.timer);
    this.armedFor = Number.POSITIVE_INFINITY;
  }

  private take(token: string): Pending | undefined {
    const entry = this.pending.get(token);
    if (!entry) return undefined;
    this.pending.delete(token);
    if (entry.onAbort) entry.signal?.removeEventListener('abort', entry.onAbort);
    // Nothing waits: the timer must not keep the process alive (it stays armed for the next request).
    if (this.pending.size === 0) this.timer?.unref();
    return entry;
  }

  private arm(at: number): void {
    clearTimeout(this.timer);
    this.armedFor = at;
    // Clamped: past Node's 32-bit timer limit a timeout would fire at once; expire() re-arms until due.
    this.timer = setTimeout(() => this.expire(), timerDelay(at - performance.now()));
    if (this.pending.size === 0) this.timer.unref();
  }

  /** Fails every request past its deadline and re-arms for the next one. */
  private expire(): void {
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    const now = performance.now();
    let next = Number.POSITIVE_INFINITY;
    const expired: Array<[string, Pending]> = [];
    for (const [token, entry] of this.pending) {
      // Timers may fire a fraction of a millisecond early; that still counts as the deadline.
      if (entry.expiresAt <= now + 1) expired.push([token, entry]);
      else if (entry.expiresAt < next) next = entry.expiresAt;
    }
    for (const [token, entry] of expired) this.fail(token, this.timeoutError(entry.subject, entry.timeoutMs));
    if (next !== Number.POSITIVE_INFINITY) this.arm(next);
  }
}

export function deadlineExceeded(subject: string, timeoutMs: number): BatonError {
  return new BatonError('DEADLINE_EXCEEDED', `No reply on "${subject}" within ${Math.round(timeoutMs)} ms`, {
    details: { subject, timeoutMs },
  });
}

export function abortError(signal: AbortSignal): BatonError {
  const reason: unknown = signal.reason;
  if (reason instanceof BatonError) return reason;
  return new BatonError('ABORTED', 'The request was aborted', { cause: reason });
}

export function noResponders(subject: string): BatonError {
  return new BatonError('NO_RESPONDERS', `Nobody is listening on "${subject}"`, {
    details: { subject },
    hint: 'Start a worker for this agent (serveAgent) or check the namespace',
  });
}

export function busClosed(transport: string): BatonError {
  return new BatonError('BUS_CLOSED', `The ${transport} bus is closed`);
}

export function payloadTooLarge(size: number, max: number, subject: string): BatonError {
  return new BatonError('PAYLOAD_TOO_LARGE', `The message is ${size} bytes; the limit is ${max} bytes`, {
    details: { size, max, subject },
  });
}
