import { abortReason, BatonError } from '../errors.js';
import { timerDelay } from '../util/timers.js';

/**
 * The lifetime of one HTTP call to a provider: aborts it when the caller's signal aborts or when no
 * progress was seen for `timeoutMs` (the timer is re-armed on every stream event), and tells which of
 * the two ended it, so the adapter reports ABORTED or PROVIDER_TIMEOUT rather than the SDK's own error.
 */
export class CallScope {
  readonly #controller = new AbortController();
  readonly #userSignal: AbortSignal | undefined;
  readonly #timeoutMs: number;
  readonly #label: string;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timedOut = false;
  readonly #onUserAbort = () => this.#controller.abort(this.#userSignal?.reason);

  constructor(userSignal: AbortSignal | undefined, timeoutMs: number, label: string) {
    this.#userSignal = userSignal;
    this.#timeoutMs = timeoutMs;
    this.#label = label;
    if (userSignal?.aborted) this.#controller.abort(userSignal.reason);
    else userSignal?.addEventListener('abort', this.#onUserAbort, { once: true });
    this.touch();
  }

  /** The signal handed to the SDK. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Progress was seen: restart the inactivity timer. */
  touch(): void {
    if (this.#controller.signal.aborted) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timedOut = true;
      this.#controller.abort(this.timeoutError());
    }, timerDelay(this.#timeoutMs));
  }

  /** Closes the HTTP request (a consumer stopped reading the stream). */
  abort(): void {
    this.#controller.abort();
  }

  /** The error that explains why the call ended, when the scope itself ended it. */
  failure(): BatonError | undefined {
    if (this.#userSignal?.aborted) return abortReason(this.#userSignal);
    if (this.#timedOut) return this.timeoutError();
    return undefined;
  }

  dispose(): void {
    clearTimeout(this.#timer);
    this.#userSignal?.removeEventListener('abort', this.#onUserAbort);
  }

  private timeoutError(): BatonError {
    return new BatonError('PROVIDER_TIMEOUT', `${this.#label}: no response within ${this.#timeoutMs} ms`, {
      details: { timeoutMs: this.#timeoutMs },
    });
  }
}
