/**
 * The tables of the memory store, created (and later migrated) on open. Every statement is idempotent and
 * runs under an advisory lock, so processes opening one schema at once do not race each other.
 *
 * Tenant-wide memory (no user) is stored with `user_id = ''`: user ids are never empty (the boundary
 * refuses them), and a primary key cannot hold a NULL.
 */
import { BatonError } from '@baton/core';
import type { PoolClient } from 'pg';

/** The newest schema version this code knows; a schema written by a newer Baton is refused, not guessed at. */
export const SCHEMA_VERSION = 1;

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export function checkIdentifier(what: string, value: string): string {
  if (!IDENTIFIER.test(value)) {
    throw new BatonError('CONFIG_INVALID', `postgresMemoryStore: "${what}" must be a plain SQL identifier`, {
      details: { [what]: value },
      hint: 'Letters, digits and "_", starting with a letter or "_", at most 63 characters',
    });
  }
  return value;
}

/** Quoted so that mixed case survives; the identifier was checked, so it cannot close the quotes. */
export const quote = (identifier: string) => `"${identifier}"`;

/** The tables of one schema, quoted and qualified, for building statements. */
export interface Tables {
  schema: string;
  records: string;
  history: string;
  optOuts: string;
  vectors: string;
  settings: string;
}

export function tablesOf(schema: string): Tables {
  const s = quote(schema);
  return {
    schema: s,
    records: `${s}.memory_records`,
    history: `${s}.memory_history`,
    optOuts: `${s}.memory_opt_outs`,
    vectors: `${s}.memory_vectors`,
    settings: `${s}.memory_settings`,
  };
}

const RECORD_COLUMNS = `
  tenant text NOT NULL,
  user_id text NOT NULL,
  scope text NOT NULL,
  key text NOT NULL,
  value text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('fact', 'episode', 'summary')),
  provenance jsonb NOT NULL,
  version integer NOT NULL,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  expires_at bigint,
  metadata jsonb`;

function version1(t: Tables, textSearch: string): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${t.records} (${RECORD_COLUMNS},
      search tsvector GENERATED ALWAYS AS (to_tsvector('${textSearch}'::regconfig, key || ' ' || value)) STORED,
      PRIMARY KEY (tenant, user_id, scope, key))`,
    `CREATE INDEX IF NOT EXISTS memory_records_search ON ${t.records} USING gin (search)`,
    // No (namespace, updated_at) index for list(): with the primary key's prefix it tied in the planner's
    // eyes, and a generic plan that took it for a key lookup scanned the whole namespace (O(n) puts).
    `CREATE INDEX IF NOT EXISTS memory_records_expiry ON ${t.records} (expires_at) WHERE expires_at IS NOT NULL`,
    `CREATE TABLE IF NOT EXISTS ${t.history} (${RECORD_COLUMNS},
      PRIMARY KEY (tenant, user_id, scope, key, version))`,
    `CREATE TABLE IF NOT EXISTS ${t.optOuts} (
      tenant text NOT NULL,
      user_id text NOT NULL,
      opted_out_at bigint NOT NULL,
      PRIMARY KEY (tenant, user_id))`,
  ];
}

export interface Migrated {
  /** The text search configuration the schema was created with (it is part of the stored column). */
  textSearch: string;
  /** The schema of the `vector` extension when vector search is on, else undefined. */
  vectorSchema: string | undefined;
  /** Why vector search is off, when it is. */
  vectorNote: string | undefined;
}

/**
 * Creates or migrates the schema. `textSearch` applies to a new schema only: an existing one keeps its
 * own (changing it would need every row re-indexed), and opening it with another is refused.
 */
export async function migrate(
  client: PoolClient,
  schema: string,
  textSearch: string,
  vectors: boolean,
): Promise<Migrated> {
  const t = tablesOf(schema);
  await client.query('BEGIN');
  try {
    // Keyed by schema name: two stores on different schemas never wait for each other.
    await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 7))', [`baton-memory:${schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${t.schema}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${t.settings} (name text PRIMARY KEY, value text NOT NULL)`,
    );
    const settings = new Map(
      (await client.query<{ name: string; value: string }>(`SELECT name, value FROM ${t.settings}`)).rows.map(
        (row) => [row.name, row.value],
      ),
    );
    const stored = Number(settings.get('version') ?? 0);
    if (stored > SCHEMA_VERSION) {
      throw new BatonError(
        'CONFIG_INVALID',
        `postgresMemoryStore: schema "${schema}" is at version ${stored}, newer than this Baton (${SCHEMA_VERSION})`,
        { hint: 'Upgrade @baton/postgres, or use another schema' },
      );
    }
    const existingSearch = settings.get('text_search');
    if (existingSearch !== undefined && existingSearch !== textSearch) {
      throw new BatonError(
        'CONFIG_INVALID',
        `postgresMemoryStore: schema "${schema}" indexes text with "${existingSearch}", not "${textSearch}"`,
        { hint: `Open it with textSearch: '${existingSearch}', or use another schema` },
      );
    }
    if (stored < 1) {
      await checkTextSearch(client, textSearch);
      for (const statement of version1(t, textSearch)) await client.query(statement);
      await client.query(
        `INSERT INTO ${t.settings} (name, value) VALUES ('version', $1), ('text_search', $2)
         ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value`,
        [String(SCHEMA_VERSION), textSearch],
      );
    }
    const vector = vectors
      ? await enableVectors(client, t)
      : { schema: undefined, note: 'turned off (vectors: false)' };
    await client.query('COMMIT');
    return { textSearch, vectorSchema: vector.schema, vectorNote: vector.note };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

async function checkTextSearch(client: PoolClient, textSearch: string): Promise<void> {
  const found = await client.query('SELECT 1 FROM pg_ts_config WHERE cfgname = $1', [textSearch]);
  if (found.rowCount === 0) {
    throw new BatonError(
      'CONFIG_INVALID',
      `postgresMemoryStore: no text search configuration "${textSearch}"`,
      {
        hint: "Use one of pg_ts_config (e.g. 'english', 'simple')",
      },
    );
  }
}

/**
 * Turns pgvector on when the server has it: the extension is created if it is available and missing
 * (which needs the right to), behind a savepoint so that a refusal leaves the rest of the migration
 * alone. Its objects are then named through the extension's own schema, wherever that is.
 */
async function enableVectors(
  client: PoolClient,
  t: Tables,
): Promise<{ schema: string | undefined; note: string | undefined }> {
  const installed = async () =>
    (
      await client.query<{ schema: string }>(
        `SELECT n.nspname AS schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
         WHERE e.extname = 'vector'`,
      )
    ).rows[0]?.schema;
  let schema = await installed();
  if (schema === undefined) {
    const available = await client.query(`SELECT 1 FROM pg_available_extensions WHERE name = 'vector'`);
    if (available.rowCount === 0) return { schema: undefined, note: 'the server has no pgvector extension' };
    // One creator at a time across schemas: concurrent CREATE EXTENSION calls collide otherwise.
    await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 7))', ['baton-memory:extension']);
    await client.query('SAVEPOINT baton_vector');
    try {
      // In `public`, not the store's schema: dropping a store's schema must not drop everyone's extension.
      await client.query('CREATE EXTENSION IF NOT EXISTS vector SCHEMA public');
      await client.query('RELEASE SAVEPOINT baton_vector');
    } catch (error) {
      await client.query('ROLLBACK TO SAVEPOINT baton_vector');
      return { schema: undefined, note: `CREATE EXTENSION vector failed: ${(error as Error).message}` };
    }
    schema = await installed();
    if (schema === undefined) return { schema: undefined, note: 'the vector extension did not install' };
  }
  await client.query(
    `CREATE TABLE IF NOT EXISTS ${t.vectors} (
      tenant text NOT NULL,
      user_id text NOT NULL,
      scope text NOT NULL,
      key text NOT NULL,
      embedding ${quote(schema)}.vector NOT NULL,
      PRIMARY KEY (tenant, user_id, scope, key),
      FOREIGN KEY (tenant, user_id, scope, key) REFERENCES ${t.records} ON DELETE CASCADE)`,
  );
  return { schema, note: undefined };
}
