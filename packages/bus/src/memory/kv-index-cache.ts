/**
 * The per-process search indexes of a memory bucket, kept correct across processes.
 *
 * Each cached namespace remembers the stream sequence it reflects. Before answering, two requests ask
 * for the newest sequence under the namespace's keys and under its tenant's epoch key: both unchanged,
 * the view is current; a newer namespace sequence, only the messages since are read. What leaves no
 * message is an erasure (delete, forget, opt-out and expiry purge the stream itself), so those bump the
 * tenant's epoch afterwards, and a view built under another epoch is rebuilt from scratch. Another
 * process's write is therefore seen by the next search that starts after it returned.
 */
import { BatonError } from '@baton/core';
import { decodeStored } from './kv-layout.js';
import type { BucketStream, KvMessage } from './kv-stream.js';
import { NamespaceView } from './namespace-view.js';

export interface IndexCacheLimits {
  /** Namespaces kept indexed (least recently searched go first); default 256. */
  namespaces?: number;
  /** Records kept indexed across namespaces; default 200,000. The namespace in use is always kept. */
  records?: number;
}

interface Cached {
  view: NamespaceView;
  /** The newest sequence under the namespace's keys that the index reflects. */
  seq: number;
  /** The tenant's epoch key's sequence when the view was built. */
  epoch: number;
}

/** A bucket changing under a read gets a few fresh starts before the search gives up. */
const ATTEMPTS = 4;

export class IndexCache {
  /** Map order is recency order: a hit moves its entry to the end. */
  private readonly entries = new Map<string, Cached>();
  private readonly refreshing = new Map<string, Promise<NamespaceView>>();
  private readonly maxNamespaces: number;
  private readonly maxRecords: number;

  constructor(
    private readonly stream: BucketStream,
    limits: IndexCacheLimits = {},
  ) {
    this.maxNamespaces = limits.namespaces ?? 256;
    this.maxRecords = limits.records ?? 200_000;
    if (!(this.maxNamespaces >= 1) || !(this.maxRecords >= 1)) {
      throw new BatonError('CONFIG_INVALID', 'natsMemoryStore: index cache limits must be at least 1');
    }
  }

  /**
   * The view of the namespace whose record keys match `pattern`, current as of this call; `epochKey` is
   * its tenant's epoch.
   */
  async current(pattern: string, epochKey: string): Promise<NamespaceView> {
    // One refresh per namespace at a time; a caller arriving during one still checks after it, so a
    // write that returned before this call is never missed.
    for (let running = this.refreshing.get(pattern); running; running = this.refreshing.get(pattern)) {
      await running.catch(() => undefined);
    }
    const refresh = this.refresh(pattern, epochKey);
    this.refreshing.set(pattern, refresh);
    try {
      return await refresh;
    } finally {
      this.refreshing.delete(pattern);
    }
  }

  /** Forgets what this process holds of namespaces under a key prefix (after an erasure here). */
  drop(prefix: string): void {
    for (const pattern of [...this.entries.keys()]) {
      if (pattern.startsWith(prefix)) this.entries.delete(pattern);
    }
  }

  clear(): void {
    this.entries.clear();
  }

  private async refresh(pattern: string, epochKey: string): Promise<NamespaceView> {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const [seq, epoch] = await Promise.all([
        this.stream.lastSequence(pattern),
        this.stream.lastSequence(epochKey),
      ]);
      const cached = this.entries.get(pattern);
      if (cached && cached.epoch === epoch && cached.seq === seq) return this.touch(pattern, cached).view;
      if (cached && cached.epoch === epoch && seq > cached.seq) {
        // Applied in place: a partial read leaves entries that the full rebuild below replaces anyway.
        if (
          await this.stream.read(pattern, { after: cached.seq }, seq, (message) =>
            apply(cached.view, message),
          )
        ) {
          cached.seq = seq;
          return this.touch(pattern, cached).view;
        }
      }
      const view = new NamespaceView();
      this.entries.delete(pattern);
      if (await this.stream.read(pattern, { latest: true }, seq, (message) => apply(view, message))) {
        return this.touch(pattern, { view, seq, epoch }).view;
      }
    }
    throw new BatonError(
      'MEMORY_UNAVAILABLE',
      'Memory search: the bucket kept changing while its index loaded',
      {
        details: { bucket: this.stream.bucket },
      },
    );
  }

  private touch(pattern: string, entry: Cached): Cached {
    this.entries.delete(pattern);
    this.entries.set(pattern, entry);
    let records = 0;
    for (const each of this.entries.values()) records += each.view.size;
    for (const [oldest, each] of this.entries) {
      if (oldest === pattern) break;
      if (this.entries.size <= this.maxNamespaces && records <= this.maxRecords) break;
      this.entries.delete(oldest);
      records -= each.view.size;
    }
    return entry;
  }
}

function apply(view: NamespaceView, message: KvMessage): void {
  const stored = message.operation === 'PUT' ? decodeStored(message.data) : undefined;
  if (stored) view.upsert(message.key, stored);
  else view.remove(message.key);
}
