/** How many replies a worker keeps for callers that lost them to a reconnect. */
export const RECENT_RESULTS_MAX_ENTRIES = 4_096;
/** How long a reply is kept: a reconnect takes seconds; a caller gone longer than this has given up. */
export const RECENT_RESULTS_TTL_MS = 60_000;
/** The most reply text kept at once (UTF-16 units), so large results cannot pile up in memory. */
export const RECENT_RESULTS_MAX_CHARS = 32 * 1024 * 1024;

export interface RecentResultsOptions {
  maxEntries?: number;
  ttlMs?: number;
  maxChars?: number;
  /** The clock, in ms (default Date.now). */
  now?: () => number;
}

/** A reply as it was published. */
export interface RecentResult {
  /** The subject the reply went to. */
  replyTo: string;
  /** The reply envelope's JSON text. */
  data: string;
  /** When it was published (epoch ms). */
  at: number;
}

/**
 * The replies a worker published lately, by invocation id, bounded in count, age and size. A reply
 * published while either end was reconnecting is lost (NATS core keeps nothing), so the caller asks
 * afterwards and the worker answers from here.
 *
 * Every core reply passes through `remember`, so it writes into preallocated rings and allocates
 * nothing; the lookups it serves happen only after a reconnect, so they scan (newest first) instead of
 * keeping an index up to date on every call.
 */
export class RecentResults {
  private readonly ids: Array<string | undefined>;
  private readonly replyTos: Array<string | undefined>;
  private readonly data: Array<string | undefined>;
  private readonly at: Float64Array;
  private readonly capacity: number;
  private readonly ttlMs: number;
  private readonly maxChars: number;
  private readonly now: () => number;
  /** Slot of the next write; the oldest entry is `count` slots behind it. */
  private head = 0;
  private count = 0;
  private chars = 0;

  constructor(options: RecentResultsOptions = {}) {
    this.capacity = Math.max(1, Math.floor(options.maxEntries ?? RECENT_RESULTS_MAX_ENTRIES));
    this.ttlMs = options.ttlMs ?? RECENT_RESULTS_TTL_MS;
    this.maxChars = options.maxChars ?? RECENT_RESULTS_MAX_CHARS;
    this.now = options.now ?? Date.now;
    this.ids = new Array<string | undefined>(this.capacity).fill(undefined);
    this.replyTos = new Array<string | undefined>(this.capacity).fill(undefined);
    this.data = new Array<string | undefined>(this.capacity).fill(undefined);
    this.at = new Float64Array(this.capacity);
  }

  /** Entries held now (expired ones are dropped lazily, on the next write). */
  get size(): number {
    return this.count;
  }

  remember(id: string, replyTo: string, data: string): void {
    // One reply larger than the whole allowance would only evict everything else.
    if (data.length > this.maxChars) return;
    const now = this.now();
    this.dropOlderThan(now - this.ttlMs);
    if (this.count === this.capacity) this.dropOldest();
    while (this.chars + data.length > this.maxChars && this.count > 0) this.dropOldest();
    const slot = this.head;
    this.ids[slot] = id;
    this.replyTos[slot] = replyTo;
    this.data[slot] = data;
    this.at[slot] = now;
    this.chars += data.length;
    this.head = slot + 1 === this.capacity ? 0 : slot + 1;
    this.count++;
  }

  /** The reply to invocation `id`, if it was published within the time kept. */
  get(id: string): RecentResult | undefined {
    const oldestAllowed = this.now() - this.ttlMs;
    let slot = this.head;
    for (let seen = 0; seen < this.count; seen++) {
      slot = slot === 0 ? this.capacity - 1 : slot - 1;
      const at = this.at[slot] as number;
      if (at < oldestAllowed) return undefined;
      if (this.ids[slot] === id) {
        return { replyTo: this.replyTos[slot] as string, data: this.data[slot] as string, at };
      }
    }
    return undefined;
  }

  /** The replies to several invocations in one pass over what is kept (a status query names up to hundreds). */
  getMany(ids: readonly string[]): Map<string, RecentResult> {
    const found = new Map<string, RecentResult>();
    const wanted = new Set(ids);
    const oldestAllowed = this.now() - this.ttlMs;
    let slot = this.head;
    for (let seen = 0; seen < this.count && found.size < wanted.size; seen++) {
      slot = slot === 0 ? this.capacity - 1 : slot - 1;
      const at = this.at[slot] as number;
      if (at < oldestAllowed) break;
      const id = this.ids[slot] as string;
      if (wanted.has(id) && !found.has(id)) {
        found.set(id, { replyTo: this.replyTos[slot] as string, data: this.data[slot] as string, at });
      }
    }
    return found;
  }

  clear(): void {
    while (this.count > 0) this.dropOldest();
  }

  private dropOlderThan(oldestAllowed: number): void {
    while (this.count > 0 && (this.at[this.tail()] as number) < oldestAllowed) this.dropOldest();
  }

  private tail(): number {
    const slot = this.head - this.count;
    return slot < 0 ? slot + this.capacity : slot;
  }

  private dropOldest(): void {
    const slot = this.tail();
    this.chars -= (this.data[slot] as string).length;
    this.ids[slot] = undefined;
    this.replyTos[slot] = undefined;
    this.data[slot] = undefined;
    this.count--;
  }
}
