/**
 * Node's timers hold a signed 32-bit delay: anything above 2^31 − 1 ms (~24.8 days) fires after 1 ms.
 * A 30-day deadline is a legitimate configuration, so every timer Baton arms goes through here: it waits
 * in steps of at most the maximum and re-arms until the target time has really come.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export interface LongTimer {
  /** Cancels the timer; safe to call more than once. */
  clear(): void;
  /** Lets the process exit while only this timer is pending. */
  unref(): LongTimer;
  ref(): LongTimer;
}

class Timer implements LongTimer {
  private handle: NodeJS.Timeout | undefined;
  private referenced = true;

  constructor(
    private readonly callback: () => void,
    private readonly target: number,
  ) {
    this.arm();
  }

  private arm(): void {
    const left = this.target - performance.now();
    if (left <= MAX_TIMER_MS) {
      this.handle = setTimeout(this.callback, Math.max(0, left));
    } else {
      this.handle = setTimeout(() => this.arm(), MAX_TIMER_MS);
    }
    if (!this.referenced) this.handle.unref();
  }

  clear(): void {
    clearTimeout(this.handle);
    this.handle = undefined;
  }

  unref(): LongTimer {
    this.referenced = false;
    this.handle?.unref();
    return this;
  }

  ref(): LongTimer {
    this.referenced = true;
    this.handle?.ref();
    return this;
  }
}

const NEVER: LongTimer = {
  clear: () => undefined,
  unref: () => NEVER,
  ref: () => NEVER,
};

/**
 * Calls `callback` once after `ms` milliseconds, however long that is. A negative or NaN delay fires at
 * once (on the next turn); an infinite one never fires.
 */
export function setLongTimeout(callback: () => void, ms: number): LongTimer {
  if (ms === Number.POSITIVE_INFINITY) return NEVER;
  const delay = Number.isNaN(ms) ? 0 : Math.max(0, ms);
  return new Timer(callback, performance.now() + delay);
}

/** `ms` clamped into what a plain `setTimeout` accepts, for short waits that must never overflow. */
export function timerDelay(ms: number): number {
  if (Number.isNaN(ms) || ms <= 0) return 0;
  return Math.min(ms, MAX_TIMER_MS);
}
