import {
  BatonError,
  type MemoryKind,
  type MemoryPutOptions,
  type MemoryRecord,
  type MemoryStore,
} from '@baton/core';
import { type KV, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { z } from 'zod';
import { jetstreamNames, resolveNamespace } from '../subjects.js';
import { NatsBus } from '../transport/nats.js';

export interface NatsMemoryStoreOptions {
  /**
   * The tenant (default `default`): the bucket is `BATON_<ns>_MEMORY`, so two tenants never share a key
   * even on one NATS account (with `natsServerConfig`, each tenant's JetStream is its own anyway).
   */
  namespace?: string;
  /** KV bucket name (default `BATON_<namespace>_MEMORY`). */
  bucket?: string;
  /** Server-side cap on how long any record is kept, whatever its own TTL (default: none). */
  maxAgeMs?: number;
}

const recordSchema = z.object({
  namespace: z.string(),
  key: z.string(),
  value: z.string(),
  kind: z.enum(['fact', 'episode', 'summary']),
  createdAt: z.number(),
  updatedAt: z.number(),
  expiresAt: z.number().optional(),
  metadata: z.record(z.string(), z.string()).optional(),
});

const BUCKET = /^[A-Za-z0-9_-]{1,64}$/;

/** KV keys are subject tokens: namespaces and keys are base64url-encoded so any text is a valid key. */
function encodeToken(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

function words(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/**
 * Long-term memory on a NATS KV bucket, shared by every process of a team. Records are namespaced (one
 * namespace per user, usually); TTLs are enforced by the store itself through `expiresAt` (the server's
 * per-key TTL is not relied on); deletes purge the key's history, and opting out erases the namespace.
 */
export class NatsKvMemoryStore implements MemoryStore {
  private constructor(private readonly kv: KV) {}

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
    const connection = source instanceof NatsBus ? source.connection : source;
    const kvOptions: { history: number; ttl?: number } = { history: 1 };
    if (options.maxAgeMs !== undefined) kvOptions.ttl = options.maxAgeMs;
    try {
      return new NatsKvMemoryStore(await new Kvm(connection).create(bucket, kvOptions));
    } catch (error) {
      throw new BatonError(
        'BUS_DISCONNECTED',
        `Cannot open the KV bucket "${bucket}": ${(error as Error).message}`,
        {
          cause: error,
          hint: 'The memory store needs nats-server with JetStream enabled (-js)',
        },
      );
    }
  }

  async put(
    namespace: string,
    key: string,
    value: string,
    options: MemoryPutOptions = {},
  ): Promise<MemoryRecord> {
    checkText('namespace', namespace);
    checkText('key', key);
    if (typeof value !== 'string') throw new BatonError('INPUT_INVALID', 'Memory values are strings');
    if (options.ttlMs !== undefined && !(options.ttlMs > 0)) {
      throw new BatonError('INPUT_INVALID', 'ttlMs must be a positive number of milliseconds');
    }
    if (await this.isOptedOut(namespace)) {
      throw new BatonError(
        'MEMORY_OPTED_OUT',
        `Namespace "${namespace}" opted out of memory; nothing is stored`,
        {
          details: { namespace },
        },
      );
    }
    const now = Date.now();
    const existing = await this.get(namespace, key);
    const record: MemoryRecord = {
      namespace,
      key,
      value,
      kind: options.kind ?? existing?.kind ?? 'fact',
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    };
    if (options.ttlMs !== undefined) record.expiresAt = now + options.ttlMs;
    if (options.metadata !== undefined) record.metadata = { ...options.metadata };
    await this.kv.put(recordKey(namespace, key), JSON.stringify(record));
    return record;
  }

  async get(namespace: string, key: string): Promise<MemoryRecord | undefined> {
    checkText('namespace', namespace);
    checkText('key', key);
    return this.read(recordKey(namespace, key), Date.now());
  }

  async list(namespace: string, options: { kind?: MemoryKind } = {}): Promise<MemoryRecord[]> {
    checkText('namespace', namespace);
    const now = Date.now();
    const keys = await this.keysOf(namespace);
    const records = await Promise.all(keys.map((key) => this.read(key, now)));
    return records
      .filter((record): record is MemoryRecord => record !== undefined)
      .filter((record) => options.kind === undefined || record.kind === options.kind)
      .sort((a, b) => b.updatedAt - a.updatedAt);
  }

  async search(namespace: string, query: string, options: { limit?: number } = {}): Promise<MemoryRecord[]> {
    const wanted = [...new Set(words(query))];
    if (wanted.length === 0) return [];
    const limit = options.limit ?? 10;
    const scored = (await this.list(namespace))
      .map((record) => {
        const keyWords = new Set(words(record.key));
        const valueWords = new Set(words(record.value));
        let score = 0;
        for (const word of wanted) {
          if (keyWords.has(word)) score += 2;
          if (valueWords.has(word)) score += 1;
        }
        return { record, score };
      })
      .filter((entry) => entry.score > 0)
      .sort((a, b) => b.score - a.score || b.record.updatedAt - a.record.updatedAt);
    return scored.slice(0, limit).map((entry) => entry.record);
  }

  async delete(namespace: string, key: string): Promise<boolean> {
    const existing = await this.get(namespace, key);
    if (!existing) return false;
    await this.kv.purge(recordKey(namespace, key));
    return true;
  }

  async clear(namespace: string): Promise<number> {
    checkText('namespace', namespace);
    const keys = await this.keysOf(namespace);
    await Promise.all(keys.map((key) => this.kv.purge(key)));
    return keys.length;
  }

  async setOptOut(namespace: string, optedOut: boolean): Promise<void> {
    checkText('namespace', namespace);
    const marker = optOutKey(namespace);
    if (optedOut) {
      await this.kv.put(marker, JSON.stringify({ at: Date.now() }));
      await this.clear(namespace);
    } else {
      await this.kv.purge(marker);
    }
  }

  async isOptedOut(namespace: string): Promise<boolean> {
    checkText('namespace', namespace);
    const entry = await this.kv.get(optOutKey(namespace));
    return entry !== null && entry.operation === 'PUT';
  }

  private async keysOf(namespace: string): Promise<string[]> {
    const keys: string[] = [];
    const iterator = await this.kv.keys(`m.${encodeToken(namespace)}.>`);
    for await (const key of iterator) keys.push(key);
    return keys;
  }

  /** The live record under a KV key; an expired one is purged on the way. */
  private async read(kvKey: string, now: number): Promise<MemoryRecord | undefined> {
    const entry = await this.kv.get(kvKey);
    if (entry?.operation !== 'PUT') return undefined;
    let parsed: ReturnType<typeof recordSchema.safeParse>;
    try {
      parsed = recordSchema.safeParse(JSON.parse(entry.string()));
    } catch {
      return undefined;
    }
    if (!parsed.success) return undefined;
    const record = parsed.data as MemoryRecord;
    if (record.expiresAt !== undefined && record.expiresAt <= now) {
      await this.kv.purge(kvKey).catch(() => undefined);
      return undefined;
    }
    return record;
  }
}

/** Opens (creating if needed) a MemoryStore on NATS KV. */
export function natsMemoryStore(
  source: NatsBus | NatsConnection,
  options?: NatsMemoryStoreOptions,
): Promise<NatsKvMemoryStore> {
  return NatsKvMemoryStore.open(source, options);
}

function recordKey(namespace: string, key: string): string {
  return `m.${encodeToken(namespace)}.${encodeToken(key)}`;
}

function optOutKey(namespace: string): string {
  return `o.${encodeToken(namespace)}`;
}

function checkText(field: string, value: unknown): void {
  if (typeof value !== 'string' || value.length === 0) {
    throw new BatonError('INPUT_INVALID', `Memory ${field} must be a non-empty string`, {
      details: { field },
    });
  }
}
