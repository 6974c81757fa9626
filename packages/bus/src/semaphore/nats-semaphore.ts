import { randomBytes } from 'node:crypto';
import { abortReason, BatonError, MAX_TIMER_MS } from '@baton/core';
import { jetstream } from '@nats-io/jetstream';
import { type KV, type KvEntry, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { z } from 'zod';
import { isWrongLastSequence, storeUnavailable } from '../durable/nats-errors.js';
import { checkToken, jetstreamNames, resolveNamespace } from '../subjects.js';
import { NatsBus } from '../transport/nats.js';
import { Leases } from './lease.js';
import { type AcquireOptions, type Permit, type Priority, priorityValue, type Semaphore } from './types.js';

export interface NatsSemaphoreOptions {
  /** The semaphore's name, one per provider/model limit (e.g. `openai-gpt-4_1-mini`): a subject token. */
  name: string;
  /** Permits at once across every process. Every process must use the same limit for one name. */
  limit: number;
  /** The tenant (default `default`): the bucket is `BATON_<ns>_SEMAPHORE`. */
  namespace?: string;
  /**
   * How long a permit outlives its holder (default 30 s): a holder renews its lease every third of it,
   * and a holder that died without releasing frees its slot this long after its last renewal. It is the
   * bucket's max age, so the first process to create the bucket sets it for the namespace.
   */
  leaseMs?: number;
  /** How often a waiter looks again when nothing it watches changed (default: a quarter lease, ≤ 1 s). */
  pollMs?: number;
  /** KV bucket (default `BATON_<namespace>_SEMAPHORE`). */
  bucket?: string;
  /** The longest one call to the server may take (default 5 s). */
  timeoutMs?: number;
}

const waiterSchema = z.object({ priority: z.number().int() });

interface Waiter {
  priority: number;
  seq: number;
  resolve: (permit: Permit) => void;
  reject: (error: BatonError) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/**
 * A counting semaphore on a NATS KV bucket, shared by every process of a namespace: `limit` slots, each
 * a key `<name>.slot.<i>`. A permit is the atomic create of a free slot key (JetStream's expected last
 * subject sequence: two creates of one key can never both succeed) and is kept by renewing it with a
 * compare-and-set update. The bucket's max age is the lease: a holder that dies stops renewing and the
 * server drops its key, which frees the slot — without any other process having to decide that it died.
 * A holder that cannot renew in time (stalled, cut off) loses the permit and its `signal` aborts, so the
 * work it guarded stops before someone else's permit on the same slot could overlap it for long.
 *
 * Waiting is a local queue per process (priority, then arrival) whose head competes for free slots;
 * slot releases arrive through a KV watch, expiries are found by polling (the server removes aged keys
 * without telling watchers). Priority classes span processes: a process with waiters announces its
 * highest waiting priority under `<name>.wait.<instance>` (under the same lease), and a process only
 * takes a free slot when no live announcement is higher than its own head — so high-priority callers
 * anywhere get freed slots before low-priority ones. Among equal priorities there is no global order.
 */
export function natsSemaphore(source: NatsBus | NatsConnection, options: NatsSemaphoreOptions): Semaphore {
  return new NatsSemaphore(source instanceof NatsBus ? source.connection : source, options);
}

const DEFAULT_LEASE_MS = 30_000;

class NatsSemaphore implements Semaphore {
  readonly name: string;
  readonly limit: number;
  private readonly bucketName: string;
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly timeoutMs: number;
  private readonly instance = randomBytes(6).toString('hex');
  private readonly where: string;
  private kvPromise: Promise<KV> | undefined;
  private watcher: { stop(): void } | undefined;
  private readonly queue: Waiter[] = [];
  private seq = 0;
  private readonly leases: Leases;
  /** Slots seen taken (by a watch event or a lost create), until when we believe so. */
  private readonly busyUntil = new Map<number, number>();
  /** Other instances' announced waiting priority, with when we last heard it (local clock). */
  private readonly announced = new Map<string, { priority: number; seenAt: number }>();
  private myAnnouncement: number | undefined;
  private announceTimer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  /** Something changed while the pump was busy: look again at once instead of waiting. */
  private dirty = false;
  private pumping = false;
  private closed = false;

  constructor(
    private readonly connection: NatsConnection,
    options: NatsSemaphoreOptions,
  ) {
    this.where = `natsSemaphore(${JSON.stringify(options?.name)})`;
    this.name = checkToken(this.where, 'name', options?.name);
    if (!Number.isInteger(options.limit) || options.limit < 1 || options.limit > 10_000) {
      throw new BatonError('CONFIG_INVALID', `${this.where}: "limit" must be an integer 1–10000`, {
        details: { field: 'limit' },
      });
    }
    this.limit = options.limit;
    this.leaseMs = duration(this.where, 'leaseMs', options.leaseMs, DEFAULT_LEASE_MS, 100);
    this.pollMs = duration(this.where, 'pollMs', options.pollMs, Math.min(1_000, this.leaseMs / 4), 1);
    this.timeoutMs = duration(this.where, 'timeoutMs', options.timeoutMs, 5_000, 1);
    const ns = resolveNamespace(this.where, options.namespace);
    this.bucketName = options.bucket ?? jetstreamNames.semaphoreBucket(ns);
    checkToken(this.where, 'bucket', this.bucketName);
    this.leases = new Leases(this.name, this.instance, this.leaseMs, (slot) => {
      // A slot given back (or lost): look again at once, for this process's waiters.
      if (slot !== undefined) this.busyUntil.delete(slot);
      this.kick();
      if (this.queue.length > 0) void this.pump();
    });
  }

  get held(): number {
    return this.leases.size;
  }

  get waiting(): number {
    return this.queue.length;
  }

  waitersAbove(priority: Priority): number {
    const value = priorityValue(this.where, priority);
    const now = Date.now();
    let count = 0;
    for (const waiter of this.announced.values()) {
      if (waiter.seenAt + this.leaseMs >= now && waiter.priority > value) count++;
    }
    return count;
  }

  acquire(options: AcquireOptions = {}): Promise<Permit> {
    const priority = priorityValue(this.where, options.priority);
    const signal = options.signal;
    if (this.closed) return Promise.reject(closedError(this.name));
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    return new Promise<Permit>((resolve, reject) => {
      const waiter: Waiter = { priority, seq: this.seq++, resolve, reject, signal, onAbort: undefined };
      if (signal) {
        waiter.onAbort = () => {
          if (this.remove(waiter)) reject(abortReason(signal));
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      // Priority first, then arrival: the head is the one this process competes for.
      let at = this.queue.length;
      while (at > 0 && (this.queue[at - 1] as Waiter).priority < priority) at--;
      this.queue.splice(at, 0, waiter);
      this.kick();
      void this.pump();
    });
  }

  async withPermit<T>(work: (signal: AbortSignal) => Promise<T>, options?: AcquireOptions): Promise<T> {
    const permit = await this.acquire(options);
    try {
      return await work(permit.signal);
    } finally {
      await permit.release();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const waiter of this.queue.splice(0)) this.settle(waiter, undefined, closedError(this.name));
    this.kick();
    await this.leases.releaseAll();
    await this.withdraw();
    this.watcher?.stop();
  }

  private kv(): Promise<KV> {
    if (this.connection.isClosed())
      return Promise.reject(new BatonError('BUS_CLOSED', `${this.where}: closed`));
    this.kvPromise ??= this.open().catch((error: unknown) => {
      this.kvPromise = undefined;
      throw storeUnavailable(
        'BUS_DISCONNECTED',
        `Cannot open the semaphore bucket ${this.bucketName}`,
        error,
      );
    });
    return this.kvPromise;
  }

  private async open(): Promise<KV> {
    const kvm = new Kvm(jetstream(this.connection, { timeout: this.timeoutMs }));
    const kv = await kvm
      .create(this.bucketName, { history: 1, ttl: this.leaseMs })
      // Made by another process with another lease: used as it is (the first one sets the lease).
      .catch((error: unknown) => kvm.open(this.bucketName).catch(() => Promise.reject(error)));
    const watch = await kv.watch({ key: `${this.name}.>` });
    this.watcher = watch;
    void (async () => {
      try {
        for await (const entry of watch) this.observe(entry);
      } catch {
        // The watch ended with the connection; polling still finds free slots while it lasts.
      }
    })();
    return kv;
  }

  /** What the watch tells: slots taken and freed, waiters announced and withdrawn. */
  private observe(entry: KvEntry): void {
    const parts = entry.key.split('.');
    const now = Date.now();
    if (parts[1] === 'slot') {
      const slot = Number(parts[2]);
      if (entry.operation === 'PUT') {
        // Taken or renewed: nothing for a waiter to do.
        this.busyUntil.set(slot, now + this.leaseMs);
        return;
      }
      this.busyUntil.delete(slot);
    } else if (parts[1] === 'wait' && parts[2] !== undefined && parts[2] !== this.instance) {
      const parsed = entry.operation === 'PUT' ? waiterSchema.safeParse(safeJson(entry.string())) : undefined;
      if (parsed?.success) this.announced.set(parts[2], { priority: parsed.data.priority, seenAt: now });
      else this.announced.delete(parts[2]);
    } else return;
    this.kick();
  }

  private kick(): void {
    this.dirty = true;
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** Until the local queue is empty: the head competes for a free slot, or waits for a change. */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (!this.closed && this.queue.length > 0) {
        const head = this.queue[0] as Waiter;
        this.dirty = false;
        let kv: KV;
        try {
          kv = await this.kv();
        } catch (error) {
          for (const waiter of this.queue.splice(0)) this.settle(waiter, undefined, BatonError.wrap(error));
          break;
        }
        if (!this.outranked(head.priority)) {
          const slot = await this.take(kv);
          if (slot !== undefined) {
            const [waiter] = this.queue;
            if (waiter) {
              this.queue.shift();
              this.settle(waiter, this.leases.hold(kv, slot.slot, slot.revision), undefined);
            } else void this.leases.hold(kv, slot.slot, slot.revision).release();
            continue;
          }
        }
        await this.announce(kv, (this.queue[0] ?? head).priority);
        if (this.queue.length === 0 || this.closed) break;
        if (this.dirty) continue;
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          // Jitter: processes that polled together do not collide again on the same slot.
          setTimeout(() => this.kick(), this.pollMs * (0.75 + Math.random() / 2)).unref();
        });
      }
    } finally {
      this.pumping = false;
    }
    if (this.queue.length === 0) await this.withdraw();
    else if (!this.closed) void this.pump();
  }

  /** True while another process announced a higher priority than `priority` within the lease. */
  private outranked(priority: number): boolean {
    const now = Date.now();
    for (const [instance, waiter] of this.announced) {
      if (waiter.seenAt + this.leaseMs < now) this.announced.delete(instance);
      else if (waiter.priority > priority) return true;
    }
    return false;
  }

  /** Tries the slots believed free (in random order); the first create that succeeds is ours. */
  private async take(kv: KV): Promise<{ slot: number; revision: number } | undefined> {
    const now = Date.now();
    const free: number[] = [];
    for (let slot = 0; slot < this.limit; slot++) if ((this.busyUntil.get(slot) ?? 0) <= now) free.push(slot);
    for (let index = free.length - 1; index > 0; index--) {
      const other = Math.floor(Math.random() * (index + 1));
      [free[index], free[other]] = [free[other] as number, free[index] as number];
    }
    const value = JSON.stringify({ instance: this.instance, at: now });
    for (const slot of free) {
      try {
        const revision = await kv.create(this.slotKey(slot), value);
        return { slot, revision };
      } catch (error) {
        if (!isWrongLastSequence(error)) return undefined;
        // Taken: look again after a poll (an expiry is only found by trying), sooner on a release event.
        this.busyUntil.set(slot, Math.max(this.busyUntil.get(slot) ?? 0, Date.now() + this.pollMs));
      }
    }
    return undefined;
  }

  /** Announces this process's highest waiting priority (renewed within the lease while it waits). */
  private async announce(kv: KV, priority: number): Promise<void> {
    if (this.myAnnouncement === priority) return;
    this.myAnnouncement = priority;
    await this.putAnnouncement(kv, priority);
    clearInterval(this.announceTimer);
    this.announceTimer = setInterval(() => {
      if (this.myAnnouncement !== undefined) void this.putAnnouncement(kv, this.myAnnouncement);
    }, this.leaseMs / 3);
    this.announceTimer.unref();
  }

  private async putAnnouncement(kv: KV, priority: number): Promise<void> {
    try {
      await kv.put(this.waitKey(), JSON.stringify({ priority }));
    } catch {
      // Unannounced, this process only loses its precedence over lower priorities for a while.
    }
  }

  private async withdraw(): Promise<void> {
    clearInterval(this.announceTimer);
    this.announceTimer = undefined;
    if (this.myAnnouncement === undefined) return;
    this.myAnnouncement = undefined;
    try {
      await (await this.kv()).delete(this.waitKey());
    } catch {
      // It expires with the lease.
    }
  }

  private remove(waiter: Waiter): boolean {
    const index = this.queue.indexOf(waiter);
    if (index < 0) return false;
    this.queue.splice(index, 1);
    if (waiter.onAbort) waiter.signal?.removeEventListener('abort', waiter.onAbort);
    this.kick();
    return true;
  }

  private settle(waiter: Waiter, permit: Permit | undefined, error: BatonError | undefined): void {
    if (waiter.onAbort) waiter.signal?.removeEventListener('abort', waiter.onAbort);
    if (permit) waiter.resolve(permit);
    else waiter.reject(error ?? closedError(this.name));
  }

  private slotKey(slot: number): string {
    return `${this.name}.slot.${slot}`;
  }

  private waitKey(): string {
    return `${this.name}.wait.${this.instance}`;
  }
}

function closedError(name: string): BatonError {
  return new BatonError('BUS_CLOSED', `Semaphore "${name}" is closed`);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function duration(
  where: string,
  field: string,
  value: number | undefined,
  fallback: number,
  min: number,
): number {
  const chosen = value ?? fallback;
  if (!(Number.isFinite(chosen) && chosen >= min && chosen <= MAX_TIMER_MS)) {
    throw new BatonError(
      'CONFIG_INVALID',
      `${where}: "${field}" must be ${min}–${MAX_TIMER_MS} milliseconds`,
      {
        details: { field },
      },
    );
  }
  return chosen;
}
