import { abortReason } from '../errors.js';
import type { AbortLike } from './run-signal.js';
import { setLongTimeout } from './timers.js';

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortLike): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    const onAbort = () => {
      timer.clear();
      reject(abortReason(signal as AbortLike));
    };
    const timer = setLongTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Settles with `work`, or rejects as soon as `signal` aborts — even when the work ignores its signal
 * (a tool stuck in a non-cancellable call must not hold the run past its deadline).
 */
export function raceAbort<T>(work: Promise<T>, signal: AbortLike): Promise<T> {
  if (signal.aborted) {
    // Nobody waits for the work any more: its failure must not surface as an unhandled rejection.
    work.catch(() => undefined);
    return Promise.reject(abortReason(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** Exponential backoff with full jitter: a random delay in [0, min(max, initial · 2^(attempt-1))]. */
export function backoffDelay(attempt: number, initialMs: number, maxMs: number): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(Math.random() * ceiling);
}
