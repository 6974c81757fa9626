import { BatonError } from '@baton/core';
import type { KV } from '@nats-io/kv';
import { encodeUtf8 } from '../bytes.js';
import type { Envelope } from '../envelope.js';
import { type ResultRecord, readResultRecord } from './infra.js';

export type Claim =
  | { kind: 'claimed'; revision: number }
  | { kind: 'replay'; reply: Envelope }
  /** Someone else's claim is fresh: look again in `retryInMs`. */
  | { kind: 'busy'; retryInMs: number }
  /** A later delivery of the same message holds the claim: this copy is out of date. */
  | { kind: 'superseded' };

/** A claim as last seen by a worker waiting for it: unchanged for long enough, it is stale whatever the clocks say. */
export interface Sighting {
  revision: number;
  since: number;
}

/** What a held claim needs of the handler that took it. */
export interface ClaimHolder {
  readonly results: KV;
  readonly instance: string;
  /** A claim lost to another worker: this run's result would never be used, so it stops. */
  lost(envelope: Envelope): void;
}

/**
 * A claim while its run goes on here: refreshed with every progress report and completed once. Writes
 * go one after another, each conditional on the revision the previous one made, so a claim that another
 * worker took over is noticed at the next write and never overwritten.
 */
export class HeldClaim {
  private writing: Promise<void> = Promise.resolve();
  private taken = false;

  constructor(
    private readonly handler: ClaimHolder,
    private readonly envelope: Envelope,
    private readonly deliveries: number,
    private revision: number,
  ) {}

  refresh(): void {
    this.writing = this.writing.then(async () => {
      if (this.taken) return;
      const running = record({
        state: 'running',
        instance: this.handler.instance,
        heartbeatAt: Date.now(),
        deliveries: this.deliveries,
      });
      try {
        this.revision = await this.handler.results.update(this.envelope.id, running, this.revision);
      } catch (error) {
        if (!isWrongSequence(error)) return; // The server is away; the next report tries again.
        const current = await this.read().catch(() => undefined);
        if (current === undefined) return;
        if (current.mine) this.revision = current.revision;
        else {
          this.taken = true;
          this.handler.lost(this.envelope);
        }
      }
    });
  }

  /** Records the reply; the reply the caller must get (someone else's if it was recorded first), or `lost`. */
  async complete(reply: Envelope): Promise<Envelope | 'lost'> {
    await this.writing;
    const results = this.handler.results;
    const id = this.envelope.id;
    const done = record({ state: 'done', instance: this.handler.instance, at: Date.now(), reply });
    for (let attempt = 0; ; attempt++) {
      if (attempt > 20) throw new BatonError('INTERNAL', `Could not record the result of ${id}`);
      try {
        if (!this.taken) {
          await results.update(id, done, this.revision);
          return reply;
        }
      } catch (error) {
        if (!isWrongSequence(error)) {
          await new Promise((resolve) => setTimeout(resolve, 100 * Math.min(attempt + 1, 5)));
          continue;
        }
      }
      // The revision moved: an earlier write of ours whose answer was lost, or another worker.
      const current = await this.read();
      if (current?.record.state === 'done') return current.record.reply;
      if (current && !current.mine) return 'lost';
      if (current) {
        this.taken = false;
        this.revision = current.revision;
        continue;
      }
      // The record is gone (the bucket's max age, a purge): nobody else holds it.
      try {
        await results.create(id, done);
        return reply;
      } catch (error) {
        if (!isWrongSequence(error)) throw error;
      }
    }
  }

  /** Hands the invocation back (the worker is stopping): the next delivery claims it at once. */
  async release(): Promise<void> {
    await this.writing;
    this.taken = true;
    await this.handler.results
      .delete(this.envelope.id, { previousSeq: this.revision })
      .catch(() => undefined);
  }

  private async read(): Promise<{ record: ResultRecord; revision: number; mine: boolean } | undefined> {
    const entry = await this.handler.results.get(this.envelope.id);
    if (entry?.operation !== 'PUT') return undefined;
    const found = readResultRecord(entry.value);
    if (!found) return undefined;
    const mine =
      found.state === 'running' &&
      found.instance === this.handler.instance &&
      found.deliveries === this.deliveries;
    return { record: found, revision: entry.revision, mine };
  }
}

export function record(value: ResultRecord): Uint8Array {
  return encodeUtf8(JSON.stringify(value));
}

export function isWrongSequence(error: unknown): boolean {
  return String((error as Error)?.message ?? '').includes('wrong last sequence');
}
