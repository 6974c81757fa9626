/**
 * What the run's own machinery needs of a cancellation signal. A Node AbortSignal fits it, and so does
 * RunAbort, the run's own source, which makes a Node AbortSignal only when code outside the loop asks for
 * one (a model adapter reading `request.signal`, a store call, a nested run).
 */
export interface AbortLike {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/**
 * A run's cancellation. On Node 20 every AbortSignal is a dictionary-mode object with a map of its own
 * (made by `Object.setPrototypeOf` on an EventTarget, then given properties), allocated in old space: one
 * per run kept the collector marking the old generation almost all the time, and a run's short-lived
 * objects were promoted instead of dying young. The loop's checks and listeners use this plain object; a
 * real AbortController is made on the first read of `signal`, aborted with the same reason, and aborted
 * with it afterwards.
 */
export class RunAbort implements AbortLike {
  #aborted = false;
  #reason: unknown;
  #listeners: (() => void)[] | undefined;
  #controller: AbortController | undefined;

  get aborted(): boolean {
    return this.#aborted;
  }

  get reason(): unknown {
    return this.#reason;
  }

  /** A Node AbortSignal that aborts with this one (made on first use, for code outside the loop). */
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  /** Aborts once: the reason, then every listener in the order added (each one once), then `signal`. */
  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    const listeners = this.#listeners;
    this.#listeners = undefined;
    if (listeners) {
      for (const listener of listeners) {
        try {
          listener();
        } catch (error) {
          // As an EventTarget does: a throwing listener neither stops the others nor the abort.
          queueMicrotask(() => {
            throw error;
          });
        }
      }
    }
    this.#controller?.abort(reason);
  }

  /** Listeners run once, when the run aborts; adding the same one twice adds it once (as EventTarget). */
  addEventListener(_type: 'abort', listener: () => void): void {
    if (this.#aborted) return;
    const listeners = this.#listeners;
    if (!listeners) this.#listeners = [listener];
    else if (!listeners.includes(listener)) listeners.push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const listeners = this.#listeners;
    if (!listeners) return;
    const index = listeners.indexOf(listener);
    if (index !== -1) listeners.splice(index, 1);
  }
}

/** The Node AbortSignal behind `signal`, for an API that needs a real one (fetch, a store, a nested run). */
export function realSignal(signal: AbortLike): AbortSignal {
  return signal instanceof RunAbort ? signal.signal : (signal as AbortSignal);
}

const SOURCE = Symbol('baton.signalSource');

/**
 * One accessor for every lazy `signal` property. An object literal with `get signal() { … }` builds a new
 * getter closure each time, and with it a new hidden class in old space: one per model call or tool call
 * kept the old generation marking and promoted the run's short-lived objects (see RunAbort).
 */
const LAZY_SIGNAL: PropertyDescriptor = {
  get(this: { [SOURCE]: AbortLike }): AbortSignal {
    return realSignal(this[SOURCE]);
  },
  enumerable: true,
  configurable: true,
};

/**
 * Gives `target` an enumerable `signal` that is the Node AbortSignal of `source`, made on first read (a
 * spread copy reads it, and gets the signal as a value).
 */
export function withLazySignal<T extends object>(
  target: T,
  source: AbortLike,
): T & { readonly signal: AbortSignal } {
  Object.defineProperty(target, SOURCE, { value: source });
  Object.defineProperty(target, 'signal', LAZY_SIGNAL);
  return target as T & { readonly signal: AbortSignal };
}
