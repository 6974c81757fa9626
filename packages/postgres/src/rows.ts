/**
 * Rows in, records out: what a SELECT returns is read through zod like any other input (the tables may
 * have been edited by hand or by another version), then through core's record schema.
 */
import { type MemoryRecord, parseStoredRecord, type ResolvedNamespace } from '@baton/core';
import { z } from 'zod';

/** The record columns every SELECT of a record names (bigints as float8: epoch milliseconds fit exactly). */
export const RECORD_SELECT = `tenant, user_id, scope, key, value, kind, provenance, version,
  created_at::float8 AS created_at, updated_at::float8 AS updated_at, expires_at::float8 AS expires_at, metadata`;

const rowSchema = z.object({
  tenant: z.string(),
  user_id: z.string(),
  scope: z.string(),
  key: z.string(),
  value: z.string(),
  kind: z.string(),
  provenance: z.unknown(),
  version: z.number(),
  created_at: z.number(),
  updated_at: z.number(),
  expires_at: z.number().nullable(),
  metadata: z.unknown(),
});

export function toRecord(row: unknown): MemoryRecord {
  const parsed = rowSchema.safeParse(row);
  if (!parsed.success) return parseStoredRecord(undefined, 'postgres');
  const r = parsed.data;
  const candidate: Record<string, unknown> = {
    namespace:
      r.user_id === ''
        ? { tenant: r.tenant, scope: r.scope }
        : { tenant: r.tenant, user: r.user_id, scope: r.scope },
    key: r.key,
    value: r.value,
    kind: r.kind,
    provenance: r.provenance,
    version: r.version,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
  if (r.expires_at !== null) candidate.expiresAt = r.expires_at;
  if (r.metadata !== null && r.metadata !== undefined) candidate.metadata = r.metadata;
  return parseStoredRecord(candidate, 'postgres');
}

/** The primary key columns of a namespace: `user_id` is '' for tenant-wide memory. */
export function nsParams(ns: ResolvedNamespace): [string, string, string] {
  return [ns.tenant, ns.user ?? '', ns.scope];
}

export const countSchema = z.object({ count: z.coerce.number() });
