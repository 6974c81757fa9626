import {
  BatonError,
  isExpired,
  MEMORY_LIMITS,
  type MemoryHit,
  type MemoryKind,
  type MemoryNamespace,
  type MemoryPutOptions,
  type MemoryRecord,
  type MemorySearchOptions,
  type MemoryStore,
  type MemorySubject,
  parseKey,
  parseListOptions,
  parseNamespace,
  parsePut,
  parseSearch,
  parseSubject,
  type ResolvedNamespace,
} from '@baton/core';
import { type KV, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstreamNames, resolveNamespace } from '../subjects.js';
import { NatsBus } from '../transport/nats.js';
import { IndexCache, type IndexCacheLimits } from './kv-index-cache.js';
import { decodeStored, encodeStored, kvKeys, type StoredRecord } from './kv-layout.js';
import { BucketStream, unavailable } from './kv-stream.js';

export interface NatsMemoryStoreOptions {
  /**
   * The bus namespace (default `default`): the bucket is `BATON_<ns>_MEMORY`, so the tenant's NATS
   * permissions (`natsServerConfig`) cover it. Records carry their own `MemoryNamespace.tenant` inside.
   */
  namespace?: string;
  /** KV bucket name (default `BATON_<namespace>_MEMORY`). */
  bucket?: string;
  /** Retention: no record is kept longer than this after its last write, whatever its TTL (default: none). */
  maxAgeMs?: number;
  /** Vector hits below this cosine similarity are left out (default 0.3, as `inMemoryStore`). */
  minSimilarity?: number;
  /** Bounds of the per-process search indexes. */
  indexCache?: IndexCacheLimits;
}

const BUCKET = /^[A-Za-z0-9_-]{1,64}$/;
/** The current version plus the earlier ones the interface keeps. */
const MESSAGES_PER_KEY = MEMORY_LIMITS.historyMax + 1;
/** Concurrent writers of one key each retry until their version lands; this bounds a pathological race. */
const PUT_ATTEMPTS = 50;

/**
 * Long-term memory on a NATS KV bucket, shared by every process of a team. Recall is BM25 (MiniSearch,
 * through core's `LexicalIndex`) over per-process indexes that check the bucket before every search, so
 * a write in one process is found by a search in any other that starts after it; embeddings, when given,
 * are blended in by cosine similarity. Versions are the bucket's own per-key history. Erasure purges
 * the stream: values, history and purge markers go (see `BucketStream.erase` for users without that right).
 */
export class NatsKvMemoryStore implements MemoryStore {
  readonly backend = 'nats-kv';
  /** Embeddings are compared in this process (exact cosine over the namespace), not in an ANN index. */
  readonly vectorSearch = true;
  private readonly indexes: IndexCache;

  private constructor(
    private readonly kv: KV,
    private readonly stream: BucketStream,
    private readonly options: NatsMemoryStoreOptions,
  ) {
    this.indexes = new IndexCache(stream, options.indexCache);
  }

  static async open(
    source: NatsBus | NatsConnection,
    options: NatsMemoryStoreOptions = {},
  ): Promise<NatsKvMemoryStore> {
    const bucket =
      options.bucket ?? jetstreamNames.memoryBucket(resolveNamespace('natsMemoryStore', options.namespace));
    if (!BUCKET.test(bucket)) {
      throw new BatonError(
        'CONFIG_INVALID',
        'natsMemoryStore: "bucket" must be 1–64 letters, digits, "_" or "-"',
      );
    }
    if (options.maxAgeMs !== undefined && !(Number.isInteger(options.maxAgeMs) && options.maxAgeMs > 0)) {
      throw new BatonError('CONFIG_INVALID', 'natsMemoryStore: "maxAgeMs" must be a positive integer');
    }
    const connection = source instanceof NatsBus ? source.connection : source;
    let kv: KV;
    try {
      // The server's max age is not set: retention is the records' own `expiresAt` (purgeExpired), so a
      // record and its history never vanish without the indexes hearing of it.
      kv = await new Kvm(connection).create(bucket, { history: MESSAGES_PER_KEY });
    } catch (error) {
      throw new BatonError(
        'MEMORY_UNAVAILABLE',
        `Cannot open the KV bucket "${bucket}": ${(error as Error).message}`,
        {
          cause: error,
          hint: 'The memory store needs nats-server with JetStream enabled (-js)',
        },
      );
    }
    const status = await kv.status();
    if (status.history < MESSAGES_PER_KEY) {
      throw new BatonError(
        'CONFIG_INVALID',
        `The KV bucket "${bucket}" keeps ${status.history} versions per key; memory needs ${MESSAGES_PER_KEY}`,
        {
          hint: `An older Baton made it. Raise it (nats stream edit KV_${bucket} --max-msgs-per-subject ${MESSAGES_PER_KEY}) or use another bucket`,
        },
      );
    }
    return new NatsKvMemoryStore(kv, await BucketStream.open(connection, bucket), options);
  }

  async put(
    namespace: MemoryNamespace,
    key: string,
    value: string,
    options?: MemoryPutOptions,
  ): Promise<MemoryRecord> {
    const put = parsePut(namespace, key, value, options);
    const ns = put.namespace;
    const subject = ns.user === undefined ? undefined : { tenant: ns.tenant, user: ns.user };
    const recordKey = kvKeys.record(ns, put.key);
    return this.guard('put', async () => {
      for (let attempt = 0; attempt < PUT_ATTEMPTS; attempt++) {
        const [entry, optedOut] = await Promise.all([
          this.kv.get(recordKey),
          subject ? this.isOptedOut(subject) : false,
        ]);
        if (optedOut) throw optedOutError(ns);
        const now = Date.now();
        const previous = entry?.operation === 'PUT' ? decodeStored(entry.value) : undefined;
        const live = previous && !isExpired(previous.record, now) ? previous.record : undefined;
        const ttls = [put.ttlMs, this.options.maxAgeMs].filter((ms): ms is number => ms !== undefined);
        const record: MemoryRecord = {
          namespace: { ...ns },
          key: put.key,
          value: put.value,
          kind: put.kind,
          provenance: { ...put.provenance },
          version: (live?.version ?? 0) + 1,
          createdAt: live?.createdAt ?? now,
          updatedAt: now,
        };
        if (ttls.length > 0) record.expiresAt = now + Math.min(...ttls);
        if (put.metadata !== undefined) record.metadata = { ...put.metadata };
        const stored: StoredRecord = { record };
        if (put.embedding !== undefined) stored.embedding = [...put.embedding];
        // A key that expired (or was purged the KV way) starts over: its old messages go in this write.
        const startsOver = entry !== null && live === undefined;
        if (await this.stream.publish(recordKey, encodeStored(stored), entry?.revision ?? 0, startsOver)) {
          // An opt-out that landed while this was written erased before it arrived: erase it too.
          if (subject && (await this.isOptedOut(subject))) {
            await this.erase(ns.tenant, [recordKey], [recordKey]);
            throw optedOutError(ns);
          }
          return structuredClone(record);
        }
        await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 2 * (attempt + 1))));
      }
      throw new BatonError('MEMORY_UNAVAILABLE', 'Memory put: too many concurrent writes to one key', {
        details: { key: put.key },
      });
    });
  }

  async get(namespace: MemoryNamespace, key: string): Promise<MemoryRecord | undefined> {
    const ns = parseNamespace(namespace);
    const k = parseKey(key);
    return this.guard('get', async () => (await this.current(kvKeys.record(ns, k)))?.record);
  }

  async history(namespace: MemoryNamespace, key: string): Promise<MemoryRecord[]> {
    const ns = parseNamespace(namespace);
    const recordKey = kvKeys.record(ns, parseKey(key));
    return this.guard('history', async () => {
      const current = await this.current(recordKey);
      if (current === undefined) return [];
      const versions: MemoryRecord[] = [];
      await this.readAll(recordKey, current.revision, (record) => {
        if (record && record.version < current.record.version) versions.push(record);
      });
      return versions.sort((a, b) => a.version - b.version);
    });
  }

  async list(
    namespace: MemoryNamespace,
    options?: { kind?: MemoryKind; limit?: number },
  ): Promise<MemoryRecord[]> {
    const ns = parseNamespace(namespace);
    const { kind, limit } = parseListOptions(options);
    return this.guard('list', async () => (await this.view(ns)).list(Date.now(), kind, limit));
  }

  async search(
    namespace: MemoryNamespace,
    query: string,
    options?: MemorySearchOptions,
  ): Promise<MemoryHit[]> {
    const ns = parseNamespace(namespace);
    const search = parseSearch(query, options);
    if (search.query.trim() === '' && search.embedding === undefined) return [];
    return this.guard('search', async () =>
      (await this.view(ns)).search({
        ...search,
        minSimilarity: this.options.minSimilarity ?? 0.3,
        now: Date.now(),
      }),
    );
  }

  async delete(namespace: MemoryNamespace, key: string): Promise<boolean> {
    const ns = parseNamespace(namespace);
    const recordKey = kvKeys.record(ns, parseKey(key));
    return this.guard('delete', async () => {
      const entry = await this.kv.get(recordKey);
      if (entry === null) return false;
      const stored = entry.operation === 'PUT' ? decodeStored(entry.value) : undefined;
      await this.erase(ns.tenant, [recordKey], [recordKey]);
      return stored !== undefined && !isExpired(stored.record, Date.now());
    });
  }

  async exportSubject(subject: MemorySubject): Promise<MemoryRecord[]> {
    const s = parseSubject(subject);
    return this.guard('exportSubject', async () => {
      const pattern = kvKeys.subject(s);
      const now = Date.now();
      const versions = new Map<string, MemoryRecord[]>();
      const current = new Map<string, MemoryRecord | undefined>();
      await this.readAll(pattern, await this.stream.lastSequence(pattern), (record, kvKey) => {
        current.set(kvKey, record);
        if (record) versions.set(kvKey, [...(versions.get(kvKey) ?? []), record]);
        else versions.delete(kvKey);
      });
      const records: MemoryRecord[] = [];
      for (const [kvKey, latest] of current) {
        if (latest && !isExpired(latest, now)) records.push(...(versions.get(kvKey) ?? []));
      }
      return records;
    });
  }

  async forgetSubject(subject: MemorySubject): Promise<number> {
    const s = parseSubject(subject);
    return this.guard('forgetSubject', async () => {
      const pattern = kvKeys.subject(s);
      const records = await this.latest(pattern);
      await this.erase(
        s.tenant,
        [pattern],
        records.map((each) => each.kvKey),
      );
      return records.filter((each) => each.record !== undefined).length;
    });
  }

  async setOptOut(subject: MemorySubject, optedOut: boolean): Promise<void> {
    const s = parseSubject(subject);
    await this.guard('setOptOut', async () => {
      const marker = kvKeys.optOut(s);
      if (!optedOut) {
        await this.stream.erase([marker], async () => [marker]);
        return;
      }
      // The marker first: a write that checked before it checks again after landing (see put).
      await this.kv.put(marker, JSON.stringify({ optedOutAt: Date.now() }));
    });
    if (optedOut) await this.forgetSubject(s);
  }

  async isOptedOut(subject: MemorySubject): Promise<boolean> {
    const s = parseSubject(subject);
    return this.guard('isOptedOut', async () => (await this.kv.get(kvKeys.optOut(s)))?.operation === 'PUT');
  }

  async purgeExpired(): Promise<number> {
    return this.guard('purgeExpired', async () => {
      const now = Date.now();
      const expired = (await this.latest(kvKeys.allRecords)).filter(
        (each) => each.record !== undefined && isExpired(each.record, now),
      );
      for (const { kvKey, record } of expired) {
        if (record) await this.erase(record.namespace.tenant, [kvKey], [kvKey]);
      }
      return expired.length;
    });
  }

  async close(): Promise<void> {
    // The connection is the caller's: it may carry the bus and other stores.
    this.indexes.clear();
  }

  private view(ns: ResolvedNamespace) {
    return this.indexes.current(kvKeys.namespace(ns), kvKeys.epoch(ns.tenant));
  }

  /** The live current version under a record key, with its stream sequence. */
  private async current(recordKey: string): Promise<{ record: MemoryRecord; revision: number } | undefined> {
    const entry = await this.kv.get(recordKey);
    if (entry?.operation !== 'PUT') return undefined;
    const stored = decodeStored(entry.value);
    if (stored === undefined || isExpired(stored.record, Date.now())) return undefined;
    return { record: stored.record, revision: entry.revision };
  }

  /** Every message under `pattern` up to `until`, oldest first; `undefined` for a delete or purge. */
  private async readAll(
    pattern: string,
    until: number,
    each: (record: MemoryRecord | undefined, kvKey: string) => void,
  ): Promise<void> {
    const read = () =>
      this.stream.read(pattern, { after: 0 }, until, (message) =>
        each(message.operation === 'PUT' ? decodeStored(message.data)?.record : undefined, message.key),
      );
    if (!(await read()))
      throw new BatonError('MEMORY_UNAVAILABLE', 'Memory: the bucket changed during a read');
  }

  /** The newest message of every key under `pattern`. */
  private async latest(pattern: string): Promise<{ kvKey: string; record?: MemoryRecord }[]> {
    const found = new Map<string, MemoryRecord | undefined>();
    const until = await this.stream.lastSequence(pattern);
    await this.stream.read(pattern, { latest: true }, until, (message) =>
      found.set(message.key, message.operation === 'PUT' ? decodeStored(message.data)?.record : undefined),
    );
    return [...found].map(([kvKey, record]) => (record ? { kvKey, record } : { kvKey }));
  }

  /**
   * Removes the messages under `patterns` (a stream purge leaves no trace), then moves the tenant's epoch
   * so every process rebuilds its views of the tenant rather than keep what was erased.
   */
  private async erase(tenant: string, patterns: readonly string[], keys: readonly string[]): Promise<void> {
    // This process's views of the tenant go at once: what was erased is not kept here either.
    this.indexes.drop(kvKeys.tenant(tenant));
    if (await this.stream.erase(patterns, async () => keys)) {
      await this.kv.put(kvKeys.epoch(tenant), String(Date.now()));
    }
  }

  private async guard<T>(operation: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw unavailable(this.stream.bucket, operation, error);
    }
  }
}

function optedOutError(ns: ResolvedNamespace): BatonError {
  return new BatonError('MEMORY_OPTED_OUT', 'This user opted out of memory: nothing about them is stored', {
    details: { tenant: ns.tenant },
  });
}

/** Opens (creating if needed) a MemoryStore on NATS KV. */
export function natsMemoryStore(
  source: NatsBus | NatsConnection,
  options?: NatsMemoryStoreOptions,
): Promise<NatsKvMemoryStore> {
  return NatsKvMemoryStore.open(source, options);
}
