import { BatonError } from '@baton/core';
import type { KV } from '@nats-io/kv';
import { isWrongLastSequence } from '../durable/nats-errors.js';
import type { Permit } from './types.js';

interface Held {
  slot: number;
  revision: number;
  kv: KV;
  controller: AbortController;
  renew: NodeJS.Timeout;
  /** When the lease runs out if no renewal succeeds (local clock). */
  expiresAt: number;
  released: boolean;
}

/**
 * The slots one semaphore instance holds. Each is renewed every third of the lease with a compare-and-set
 * update of its key: a lost CAS means the key expired and someone else created it, so the permit is lost
 * and its signal aborts; a renewal that cannot reach the server is retried until the lease is over.
 */
export class Leases {
  private readonly held = new Set<Held>();

  constructor(
    private readonly name: string,
    private readonly instance: string,
    private readonly leaseMs: number,
    /** A slot was given back (its number) or lost (undefined: it is someone else's now). */
    private readonly onFreed: (slot: number | undefined) => void,
  ) {}

  get size(): number {
    return this.held.size;
  }

  hold(kv: KV, slot: number, revision: number): Permit {
    const held: Held = {
      slot,
      revision,
      kv,
      controller: new AbortController(),
      expiresAt: Date.now() + this.leaseMs,
      released: false,
      renew: setInterval(() => void this.renew(held), this.leaseMs / 3),
    };
    held.renew.unref();
    this.held.add(held);
    return { slot, signal: held.controller.signal, release: () => this.release(held) };
  }

  async releaseAll(): Promise<void> {
    await Promise.all([...this.held].map((held) => this.release(held)));
  }

  private key(slot: number): string {
    return `${this.name}.slot.${slot}`;
  }

  private async renew(held: Held): Promise<void> {
    if (held.released) return;
    const started = Date.now();
    if (started > held.expiresAt) return this.lose(held, 'the lease ran out before it could be renewed');
    try {
      const value = JSON.stringify({ instance: this.instance, at: started });
      held.revision = await held.kv.update(this.key(held.slot), value, held.revision);
      held.expiresAt = started + this.leaseMs;
    } catch (error) {
      if (isWrongLastSequence(error)) this.lose(held, 'the slot expired and was taken by another holder');
      // Otherwise (server unreachable): tried again at the next renewal, lost once the lease is over.
    }
  }

  private lose(held: Held, why: string): void {
    if (held.released) return;
    this.drop(held);
    held.controller.abort(
      new BatonError('SEMAPHORE_LEASE_LOST', `Semaphore "${this.name}" slot ${held.slot}: ${why}`, {
        details: { semaphore: this.name, slot: held.slot },
      }),
    );
    this.onFreed(undefined);
  }

  private async release(held: Held): Promise<void> {
    if (held.released) return;
    this.drop(held);
    try {
      await held.kv.delete(this.key(held.slot), { previousSeq: held.revision });
    } catch {
      // Gone already (lease lost, connection closed): the key expires with its lease anyway.
    }
    this.onFreed(held.slot);
  }

  private drop(held: Held): void {
    held.released = true;
    clearInterval(held.renew);
    this.held.delete(held);
  }
}
