import { BatonError } from '@baton/core';

/** Named priority classes; a number is accepted too (higher goes first). */
export type PriorityClass = 'high' | 'normal' | 'low';
export type Priority = PriorityClass | number;

const CLASSES: Record<PriorityClass, number> = { high: 20, normal: 10, low: 0 };

/** The numeric priority of a class or number (CONFIG_INVALID for anything else). */
export function priorityValue(where: string, priority: Priority | undefined): number {
  if (priority === undefined) return CLASSES.normal;
  if (typeof priority === 'string' && priority in CLASSES) return CLASSES[priority as PriorityClass];
  if (typeof priority === 'number' && Number.isInteger(priority) && Math.abs(priority) <= 1_000_000) {
    return priority;
  }
  throw new BatonError(
    'CONFIG_INVALID',
    `${where}: "priority" must be "high", "normal", "low" or an integer (higher goes first)`,
    { details: { field: 'priority' } },
  );
}

export interface AcquireOptions {
  /** Waiters of a higher priority get free slots first, across every process (default `normal`). */
  priority?: Priority;
  /** Stops waiting (ABORTED, or the signal's BatonError reason). */
  signal?: AbortSignal;
}

/** One permit: a slot of the semaphore held under a lease that this process keeps alive. */
export interface Permit {
  /** Which slot (0 ≤ slot < limit). */
  readonly slot: number;
  /**
   * Aborts (SEMAPHORE_LEASE_LOST) when the lease could not be kept — the event loop stalled past the
   * lease or the server was unreachable that long — so the slot may be someone else's now: the work it
   * guards should stop, or the limit would be exceeded.
   */
  readonly signal: AbortSignal;
  /** Gives the slot back (idempotent; never throws). */
  release(): Promise<void>;
}

/** A counting semaphore shared by every process of a namespace. */
export interface Semaphore {
  readonly name: string;
  readonly limit: number;
  /** Permits this instance holds now. */
  readonly held: number;
  /** Callers of this instance waiting for a permit. */
  readonly waiting: number;
  /**
   * How many other processes announced waiters of a higher priority than `priority` (live within the
   * lease): this process leaves free slots to them first.
   */
  waitersAbove(priority: Priority): number;
  acquire(options?: AcquireOptions): Promise<Permit>;
  /** Runs `work` under a permit, released when it settles; `work` gets the permit's signal. */
  withPermit<T>(work: (signal: AbortSignal) => Promise<T>, options?: AcquireOptions): Promise<T>;
  /** Fails the waiters (BUS_CLOSED), releases the held permits and stops watching. */
  close(): Promise<void>;
}
