import {
  BatonError,
  type CacheSetOptions,
  type CacheStore,
  checkCacheKey,
  checkCacheTtl,
  DEFAULT_MAX_CACHE_VALUE_BYTES,
  decodeCacheEntry,
  encodeCacheEntry,
  type JsonValue,
} from '@baton/core';
import { DiscardPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { storeUnavailable } from '../durable/nats-errors.js';
import { jetstreamNames, resolveNamespace } from '../subjects.js';
import { NatsBus } from '../transport/nats.js';

export interface NatsCacheStoreOptions {
  /** The tenant (default `default`): the bucket is `BATON_<ns>_CACHE`, so tenants never share an entry. */
  namespace?: string;
  /** KV bucket name (default `BATON_<namespace>_CACHE`). */
  bucket?: string;
  /** Largest entry accepted, its JSON in UTF-8 bytes (default 512 KiB, and never more than the server takes). */
  maxValueBytes?: number;
  /** The bucket's size on the server (default 64 MiB). Older entries are dropped first when it is full. */
  maxBytes?: number;
  /** No entry outlives this, whatever its own TTL: the server drops it (default 24 hours). */
  maxAgeMs?: number;
  /** The longest any one call waits for the server (default 5 s). */
  timeoutMs?: number;
  /** The clock per-entry expiry is judged by (default `Date.now`); tests inject one. */
  now?: () => number;
}

const BUCKET = /^[A-Za-z0-9_-]{1,64}$/;
const DAY = 24 * 60 * 60 * 1000;
/** Room for the headers and subject that travel with a value in the same message. */
const MESSAGE_OVERHEAD = 4 * 1024;
/** Deletes in flight at once while clearing. */
const CLEAR_CONCURRENCY = 32;

/**
 * A cache on a NATS KV bucket, shared by every process of a tenant: a tool result one worker fetched is
 * a hit for the next worker that asks. Each entry carries its own expiry, enforced when it is read
 * (nats-server 2.9 ignores per-message TTLs); the bucket's max age and size bound what the server keeps.
 * Keys map to KV keys segment by segment (`/` → `.`), any other character outside `[A-Za-z0-9_-]`
 * escaped as `=XX`, so a prefix of a key is a prefix of its KV key and clearing lists only what it needs.
 */
export function natsCacheStore(
  source: NatsBus | NatsConnection,
  options: NatsCacheStoreOptions = {},
): CacheStore {
  const where = 'natsCacheStore';
  const bucketName = options.bucket ?? jetstreamNames.cacheBucket(resolveNamespace(where, options.namespace));
  if (!BUCKET.test(bucketName)) {
    throw new BatonError('CONFIG_INVALID', `${where}: "bucket" must be 1–64 letters, digits, "_" or "-"`);
  }
  const connection = source instanceof NatsBus ? source.connection : source;
  const serverLimit = (connection.info?.max_payload ?? Number.POSITIVE_INFINITY) - MESSAGE_OVERHEAD;
  const maxValueBytes = Math.min(
    positive(where, 'maxValueBytes', options.maxValueBytes, DEFAULT_MAX_CACHE_VALUE_BYTES),
    serverLimit,
  );
  const maxBytes = positive(where, 'maxBytes', options.maxBytes, 64 * 1024 * 1024);
  const maxAgeMs = positive(where, 'maxAgeMs', options.maxAgeMs, DAY);
  const timeoutMs = positive(where, 'timeoutMs', options.timeoutMs, 5_000);
  const now = options.now ?? Date.now;

  let bucket: Promise<KV> | undefined;
  const kv = (): Promise<KV> => {
    if (connection.isClosed())
      return Promise.reject(new BatonError('BUS_CLOSED', `${where}: the connection is closed`));
    bucket ??= openBucket(connection, bucketName, { maxValueBytes, maxBytes, maxAgeMs, timeoutMs }).catch(
      (error: unknown) => {
        bucket = undefined;
        throw storeUnavailable('BUS_DISCONNECTED', `Cannot open the KV bucket ${bucketName}`, error);
      },
    );
    return bucket;
  };
  const failed = (what: string, key: string, error: unknown) =>
    storeUnavailable('BUS_DISCONNECTED', `Cannot ${what} ${bucketName}/${key}`, error);

  return {
    async get(key: string): Promise<JsonValue | undefined> {
      checkCacheKey(key);
      const kvKey = encodeKey(key);
      const store = await kv();
      let entry: Awaited<ReturnType<KV['get']>>;
      try {
        entry = await store.get(kvKey);
      } catch (error) {
        throw failed('read', kvKey, error);
      }
      if (entry?.operation !== 'PUT') return undefined;
      const read = decodeCacheEntry(entry.string(), now());
      if (read.value !== undefined) return read.value;
      // Stale or unreadable: removed unless someone wrote a new value since it was read.
      await store.delete(kvKey, { previousSeq: entry.revision }).catch(() => undefined);
      return undefined;
    },
    async set(key: string, value: JsonValue, { ttlMs }: CacheSetOptions): Promise<void> {
      checkCacheKey(key);
      checkCacheTtl(ttlMs);
      const text = encodeCacheEntry(value, now() + ttlMs, maxValueBytes);
      const kvKey = encodeKey(key);
      const store = await kv();
      try {
        await store.put(kvKey, text);
      } catch (error) {
        throw failed('write', kvKey, error);
      }
    },
    async delete(key: string): Promise<void> {
      checkCacheKey(key);
      const kvKey = encodeKey(key);
      const store = await kv();
      try {
        await store.delete(kvKey);
      } catch (error) {
        throw failed('delete', kvKey, error);
      }
    },
    async clear(prefix = ''): Promise<number> {
      checkCacheKey(prefix, true);
      const encoded = encodeKey(prefix);
      const store = await kv();
      // The KV filter names whole tokens; a prefix ending inside one is matched here.
      const lastDot = encoded.lastIndexOf('.');
      const filter = lastDot < 0 ? '>' : `${encoded.slice(0, lastDot)}.>`;
      const keys: string[] = [];
      try {
        for await (const kvKey of await store.keys(filter)) if (kvKey.startsWith(encoded)) keys.push(kvKey);
      } catch (error) {
        throw failed('list', filter, error);
      }
      for (let start = 0; start < keys.length; start += CLEAR_CONCURRENCY) {
        const batch = keys.slice(start, start + CLEAR_CONCURRENCY);
        try {
          await Promise.all(batch.map((kvKey) => store.purge(kvKey)));
        } catch (error) {
          throw failed('clear', prefix, error);
        }
      }
      return keys.length;
    },
  };
}

async function openBucket(
  connection: NatsConnection,
  name: string,
  limits: { maxValueBytes: number; maxBytes: number; maxAgeMs: number; timeoutMs: number },
): Promise<KV> {
  const kvm = new Kvm(jetstream(connection, { timeout: limits.timeoutMs }));
  const created = await kvm
    .create(name, {
      history: 1,
      max_bytes: limits.maxBytes,
      maxValueSize: limits.maxValueBytes,
      ttl: limits.maxAgeMs,
    })
    // A bucket made with other limits (another worker's options) is used as it is.
    .catch((error: unknown) => kvm.open(name).catch(() => Promise.reject(error)));
  await preferOldestDropped(connection, name, limits.timeoutMs);
  return created;
}

/**
 * KV buckets refuse new writes when full; a cache would rather lose its oldest entries. Changing that
 * needs the right to update the stream, which tenant users do not have: then the bucket stays as it is,
 * and a write to a full bucket is simply not cached until old entries age out.
 */
async function preferOldestDropped(
  connection: NatsConnection,
  bucket: string,
  timeoutMs: number,
): Promise<void> {
  try {
    const jsm = await jetstreamManager(connection, { timeout: timeoutMs });
    const stream = `KV_${bucket}`;
    const { config } = await jsm.streams.info(stream);
    if (config.discard !== DiscardPolicy.Old)
      await jsm.streams.update(stream, { ...config, discard: DiscardPolicy.Old });
  } catch {
    // Not permitted or not supported: see above.
  }
}

/** `/`-separated segments to KV tokens; characters outside `[A-Za-z0-9_-]` become `=XX` per UTF-8 byte. */
export function encodeKey(key: string): string {
  return key
    .split('/')
    .map((segment) =>
      segment.replace(/[^A-Za-z0-9_-]/gu, (char) =>
        [...Buffer.from(char, 'utf8')]
          .map((byte) => `=${byte.toString(16).toUpperCase().padStart(2, '0')}`)
          .join(''),
      ),
    )
    .join('.');
}

function positive(where: string, name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new BatonError('CONFIG_INVALID', `${where}: "${name}" must be a positive integer`, {
      details: { field: name },
    });
  }
  return value;
}
