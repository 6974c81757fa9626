/**
 * How memory records sit in a KV bucket.
 *
 * Keys are subject tokens built from digests of the names (sha-256, base64url, 132 bits): any text fits,
 * every key has a bounded length, and a purge marker that an erasure without the stream-purge right
 * leaves behind (see kv-stream.ts) names nobody in clear. The names themselves live in the values.
 *
 *   r.<tenant>.<user>.<scope>.<key>   a record: its newest message is the current version, the earlier
 *                                     ones (the bucket keeps MEMORY_LIMITS.historyMax + 1 per key) its
 *                                     history, so a new version and its history are one atomic write
 *   o.<tenant>.<user>                 the subject opted out of memory
 *   e.<tenant>                        the tenant's epoch, bumped after every erasure (kv-index-cache.ts)
 *
 * `<user>` is `_` for tenant-wide memory (no digest is `_`). The parts are ordered tenant → user → scope
 * → key, so one wildcard selects a namespace or a subject in every scope.
 */
import { createHash } from 'node:crypto';
import {
  type MemoryRecord,
  type MemorySubject,
  memoryRecordSchema,
  type ResolvedNamespace,
} from '@baton/core';
import { z } from 'zod';

const token = (text: string) => createHash('sha256').update(text, 'utf8').digest('base64url').slice(0, 22);
const userToken = (user: string | undefined) => (user === undefined ? '_' : token(user));

const namespacePart = (ns: ResolvedNamespace) =>
  `${token(ns.tenant)}.${userToken(ns.user)}.${token(ns.scope)}`;
const subjectPart = (subject: MemorySubject) => `${token(subject.tenant)}.${userToken(subject.user)}`;

export const kvKeys = {
  record: (ns: ResolvedNamespace, key: string) => `r.${namespacePart(ns)}.${token(key)}`,
  /** Every record of one namespace. */
  namespace: (ns: ResolvedNamespace) => `r.${namespacePart(ns)}.*`,
  /** Every record of one subject, in every scope. */
  subject: (subject: MemorySubject) => `r.${subjectPart(subject)}.>`,
  allRecords: 'r.>',
  /** The start of every record key of one tenant. */
  tenant: (tenant: string) => `r.${token(tenant)}.`,
  optOut: (subject: MemorySubject) => `o.${subjectPart(subject)}`,
  epoch: (tenant: string) => `e.${token(tenant)}`,
} as const;

/** What a KV message holds: the record, plus its embedding when one was given. */
const storedSchema = memoryRecordSchema.extend({ embedding: z.array(z.number()).optional() });

export interface StoredRecord {
  record: MemoryRecord;
  embedding?: number[];
}

/**
 * Reads a KV value back: the bucket is shared with other processes and versions, so it is checked like
 * any input. Undefined when it is not a record this store wrote (it is then never handed to a model).
 */
export function decodeStored(bytes: Uint8Array): StoredRecord | undefined {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return undefined;
  }
  const parsed = storedSchema.safeParse(json);
  if (!parsed.success) return undefined;
  const { embedding, ...record } = parsed.data;
  return embedding === undefined
    ? { record: record as MemoryRecord }
    : { record: record as MemoryRecord, embedding };
}

export function encodeStored(stored: StoredRecord): string {
  return JSON.stringify(stored.embedding ? { ...stored.record, embedding: stored.embedding } : stored.record);
}
