/**
 * Opening a PostgreSQL memory store: options, the pool, and the schema migration before first use.
 */
import { BatonError } from '@baton/core';
import pg from 'pg';
import { z } from 'zod';
import { checkIdentifier, type Migrated, migrate } from './schema.js';
import { PostgresMemoryStore, unavailable } from './store.js';

export interface PostgresMemoryStoreOptions {
  /** A pool of the application's: the store borrows it and leaves it open on `close()`. */
  pool?: pg.Pool;
  /** Or a connection string: the store makes its own pool and ends it on `close()`. */
  connectionString?: string;
  /** The schema of the store's tables, created if missing (default `baton_memory`). */
  schema?: string;
  /**
   * The text search configuration a new schema indexes with (default `english`: stemming, stop words).
   * An existing schema keeps the one it was created with.
   */
  textSearch?: string;
  /** Vector search through pgvector when the server has it (default true); false never touches it. */
  vectors?: boolean;
  /** Vector hits below this cosine similarity are left out (default 0.3, as `inMemoryStore`). */
  minSimilarity?: number;
  /** Retention: no record is kept longer than this after its last write, whatever its TTL (default: none). */
  maxAgeMs?: number;
  /** Connections of the store's own pool (default 10). */
  maxConnections?: number;
}

const optionsSchema = z.strictObject({
  pool: z.instanceof(pg.Pool).optional(),
  connectionString: z.string().min(1).optional(),
  schema: z.string().optional(),
  textSearch: z.string().optional(),
  vectors: z.boolean().optional(),
  minSimilarity: z.number().min(-1).max(1).optional(),
  maxAgeMs: z.number().int().positive().optional(),
  maxConnections: z.number().int().positive().optional(),
});

/**
 * Opens a memory store on PostgreSQL, creating its schema and tables when missing. Vector search is on
 * when the `vector` extension is installed or can be created; `store.vectorSearch` says which.
 */
export async function postgresMemoryStore(options: PostgresMemoryStoreOptions): Promise<PostgresMemoryStore> {
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) {
    throw new BatonError(
      'CONFIG_INVALID',
      `postgresMemoryStore: ${parsed.error.issues[0]?.message ?? 'invalid options'}`,
    );
  }
  if ((options.pool === undefined) === (options.connectionString === undefined)) {
    throw new BatonError('CONFIG_INVALID', 'postgresMemoryStore: give either "pool" or "connectionString"');
  }
  const schema = checkIdentifier('schema', options.schema ?? 'baton_memory');
  const textSearch = checkIdentifier('textSearch', options.textSearch ?? 'english');
  const ownsPool = options.pool === undefined;
  const pool =
    options.pool ??
    new pg.Pool({ connectionString: options.connectionString, max: options.maxConnections ?? 10 });
  // An idle connection the server drops would otherwise be an unhandled 'error' event; the next query reconnects.
  if (ownsPool) pool.on('error', () => undefined);
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    if (ownsPool) await pool.end().catch(() => undefined);
    throw new BatonError(
      'MEMORY_UNAVAILABLE',
      `postgresMemoryStore: cannot reach PostgreSQL: ${(error as Error).message}`,
      {
        cause: error,
        hint: 'Check the connection string (host, port, user, database) and that the server is running',
      },
    );
  }
  let migrated: Migrated;
  try {
    migrated = await migrate(client, schema, textSearch, options.vectors !== false);
  } catch (error) {
    client.release();
    if (ownsPool) await pool.end().catch(() => undefined);
    throw unavailable('open', error);
  }
  client.release();
  return new PostgresMemoryStore(pool, ownsPool, schema, migrated, options);
}
