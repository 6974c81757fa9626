/**
 * The statements of one `put`, built once per store and sent as named (prepared) statements: a put is a
 * transaction of five to seven round trips, and on a busy server parsing and planning them again each
 * time is most of its cost.
 */
import { createHash } from 'node:crypto';
import type { QueryConfig } from 'pg';
import { RECORD_SELECT } from './rows.js';
import { quote, type Tables } from './schema.js';

export const COLUMNS =
  'tenant, user_id, scope, key, value, kind, provenance, version, created_at, updated_at, expires_at, metadata';
export const PK = 'WHERE tenant = $1 AND user_id = $2 AND scope = $3 AND key = $4';

/** Advisory lock keys: a subject's (its writes share it, erasures take it alone) and a record's writers. */
export const SUBJECT_LOCK = 11;
export const RECORD_LOCK = 13;

export type Statement = (values: unknown[]) => QueryConfig;

export interface PutStatements {
  lockSubject: Statement;
  /** Whether the subject opted out, taking the record's lock in the same round trip. */
  optedOutAndLockRecord: Statement;
  lockRecord: Statement;
  current: Statement;
  /** The current version into history, and the versions past the limit out of it. */
  moveToHistory: Statement;
  dropHistory: Statement;
  /** Writes the record; with vectors on, also its embedding, or drops the previous version's. */
  upsert: Statement;
  upsertWithEmbedding: Statement;
}

const UPSERT = (t: Tables) => `INSERT INTO ${t.records} (${COLUMNS})
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
  ON CONFLICT (tenant, user_id, scope, key) DO UPDATE SET value = EXCLUDED.value, kind = EXCLUDED.kind,
    provenance = EXCLUDED.provenance, version = EXCLUDED.version, created_at = EXCLUDED.created_at,
    updated_at = EXCLUDED.updated_at, expires_at = EXCLUDED.expires_at, metadata = EXCLUDED.metadata`;

/** Statement names are per connection and must always mean the same text: schema and vector mode are in them. */
export function statementPrefix(schema: string, vectorSchema: string | undefined): string {
  const digest = createHash('sha256')
    .update(`${schema}|${vectorSchema ?? ''}`)
    .digest('hex');
  return `baton_mem_${digest.slice(0, 16)}`;
}

export function putStatements(schema: string, t: Tables, vectorSchema: string | undefined): PutStatements {
  const prefix = statementPrefix(schema, vectorSchema);
  const named =
    (name: string, text: string): Statement =>
    (values) => ({ name: `${prefix}_${name}`, text, values });
  const v = vectorSchema === undefined ? undefined : quote(vectorSchema);
  return {
    lockSubject: named(
      'lock_subject',
      `SELECT pg_advisory_xact_lock_shared(hashtextextended($1, ${SUBJECT_LOCK}))`,
    ),
    optedOutAndLockRecord: named(
      'opted_out',
      `SELECT EXISTS (SELECT 1 FROM ${t.optOuts} WHERE tenant = $1 AND user_id = $2) AS opted_out
       FROM (SELECT pg_advisory_xact_lock(hashtextextended($3, ${RECORD_LOCK}))) AS locked`,
    ),
    lockRecord: named('lock_record', `SELECT pg_advisory_xact_lock(hashtextextended($1, ${RECORD_LOCK}))`),
    current: named('current', `SELECT ${RECORD_SELECT} FROM ${t.records} ${PK}`),
    moveToHistory: named(
      'to_history',
      `WITH moved AS (INSERT INTO ${t.history} SELECT ${COLUMNS} FROM ${t.records} ${PK} RETURNING version)
       DELETE FROM ${t.history} ${PK} AND version <= $5`,
    ),
    dropHistory: named('drop_history', `DELETE FROM ${t.history} ${PK}`),
    upsert: named(
      'upsert',
      v === undefined ? UPSERT(t) : `WITH up AS (${UPSERT(t)} RETURNING 1) DELETE FROM ${t.vectors} ${PK}`,
    ),
    upsertWithEmbedding: named(
      'upsert_vector',
      v === undefined
        ? UPSERT(t)
        : `WITH up AS (${UPSERT(t)} RETURNING 1)
           INSERT INTO ${t.vectors} (tenant, user_id, scope, key, embedding) VALUES ($1, $2, $3, $4, $13::${v}.vector)
           ON CONFLICT (tenant, user_id, scope, key) DO UPDATE SET embedding = EXCLUDED.embedding`,
    ),
  };
}
