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
import type pg from 'pg';
import { z } from 'zod';
import type { PostgresMemoryStoreOptions } from './open.js';
import { PK, type PutStatements, putStatements, RECORD_LOCK, SUBJECT_LOCK, statementPrefix } from './put.js';
import { countSchema, nsParams, RECORD_SELECT, toRecord } from './rows.js';
import { type Migrated, type Tables, tablesOf } from './schema.js';
import { anyWordQuery, blendedSearch, lexicalSearch, vectorLiteral } from './search.js';

/**
 * Long-term memory in PostgreSQL: records and their earlier versions in two tables, recall by full-text
 * search with recency weighting, and vector similarity when pgvector is installed. Every operation on
 * one record, and every erasure, is one transaction.
 */
export class PostgresMemoryStore implements MemoryStore {
  readonly backend = 'postgres';
  /** True when pgvector is there and `search` blends in embeddings; see `vectorNote` when it is not. */
  readonly vectorSearch: boolean;
  /** Why vector search is off (no extension, no right to create it, or turned off). */
  readonly vectorNote: string | undefined;
  /** The text search configuration the schema indexes with. */
  readonly textSearch: string;
  private readonly tables: Tables;
  private readonly putSql: PutStatements;
  private closed = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly ownsPool: boolean,
    private readonly schema: string,
    private readonly migrated: Migrated,
    private readonly options: PostgresMemoryStoreOptions,
  ) {
    this.tables = tablesOf(schema);
    this.putSql = putStatements(schema, this.tables, migrated.vectorSchema);
    this.vectorSearch = migrated.vectorSchema !== undefined;
    this.vectorNote = migrated.vectorNote;
    this.textSearch = migrated.textSearch;
  }

  async put(
    namespace: MemoryNamespace,
    key: string,
    value: string,
    options?: MemoryPutOptions,
  ): Promise<MemoryRecord> {
    const put = parsePut(namespace, key, value, options);
    const ns = put.namespace;
    const sql = this.putSql;
    return this.transaction('put', async (client) => {
      const pk = [...nsParams(ns), put.key];
      if (ns.user !== undefined) {
        // The subject's lock first, in its own statement: the opt-out check after it sees any opt-out that
        // committed while this waited (a statement reads what was committed when it started).
        await client.query(sql.lockSubject([subjectLock(ns.tenant, ns.user)]));
        const out = await client.query(sql.optedOutAndLockRecord([ns.tenant, ns.user, JSON.stringify(pk)]));
        if ((out.rows[0] as { opted_out?: unknown } | undefined)?.opted_out === true) throw optedOutError(ns);
      } else {
        await client.query(sql.lockRecord([JSON.stringify(pk)]));
      }
      const now = Date.now();
      const row = (await client.query(sql.current(pk))).rows[0];
      const previous = row === undefined ? undefined : toRecord(row);
      const live = previous && !isExpired(previous, now) ? previous : undefined;
      if (live) {
        await client.query(sql.moveToHistory([...pk, live.version - MEMORY_LIMITS.historyMax]));
      } else if (previous) {
        // Expired: the key starts over, its old versions go with it.
        await client.query(sql.dropHistory(pk));
      }
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
      const values = [
        ...pk,
        record.value,
        record.kind,
        JSON.stringify(record.provenance),
        record.version,
        record.createdAt,
        record.updatedAt,
        record.expiresAt ?? null,
        record.metadata === undefined ? null : JSON.stringify(record.metadata),
      ];
      // With vectors on, the plain upsert also drops the previous version's embedding: it must not answer
      // for this one.
      await client.query(
        this.vectorSearch && put.embedding !== undefined
          ? sql.upsertWithEmbedding([...values, vectorLiteral(put.embedding)])
          : sql.upsert(values),
      );
      return record;
    });
  }

  async get(namespace: MemoryNamespace, key: string): Promise<MemoryRecord | undefined> {
    const pk = [...nsParams(parseNamespace(namespace)), parseKey(key)];
    const rows = await this.query(
      'get',
      `SELECT ${RECORD_SELECT} FROM ${this.tables.records} ${PK} ${LIVE}`,
      [...pk, Date.now()],
    );
    return rows[0] === undefined ? undefined : toRecord(rows[0]);
  }

  async history(namespace: MemoryNamespace, key: string): Promise<MemoryRecord[]> {
    const pk = [...nsParams(parseNamespace(namespace)), parseKey(key)];
    const t = this.tables;
    const rows = await this.query(
      'history',
      `SELECT ${RECORD_SELECT} FROM ${t.history} ${PK}
         AND EXISTS (SELECT 1 FROM ${t.records} ${PK} ${LIVE})
       ORDER BY version`,
      [...pk, Date.now()],
    );
    return rows.map(toRecord);
  }

  async list(
    namespace: MemoryNamespace,
    options?: { kind?: MemoryKind; limit?: number },
  ): Promise<MemoryRecord[]> {
    const ns = parseNamespace(namespace);
    const { kind, limit } = parseListOptions(options);
    const rows = await this.query(
      'list',
      `SELECT ${RECORD_SELECT} FROM ${this.tables.records}
       WHERE tenant = $1 AND user_id = $2 AND scope = $3 AND (expires_at IS NULL OR expires_at > $4)
         AND ($5::text IS NULL OR kind = $5)
       ORDER BY updated_at DESC LIMIT $6`,
      [...nsParams(ns), Date.now(), kind ?? null, limit ?? null],
    );
    return rows.map(toRecord);
  }

  async search(
    namespace: MemoryNamespace,
    query: string,
    options?: MemorySearchOptions,
  ): Promise<MemoryHit[]> {
    const ns = parseNamespace(namespace);
    const search = parseSearch(query, options);
    const { embedding } = search;
    const vectorSchema = this.migrated.vectorSchema;
    const blend = vectorSchema !== undefined && embedding !== undefined;
    if (!blend && anyWordQuery(search.query) === '') return [];
    const statement = blend
      ? blendedSearch(
          this.tables,
          this.textSearch,
          vectorSchema,
          ns,
          { ...search, embedding },
          Date.now(),
          this.options.minSimilarity ?? 0.3,
        )
      : lexicalSearch(this.tables, this.textSearch, ns, search, Date.now());
    // Each shape is one text per store (only its values change): prepared once per connection.
    const name = `${statementPrefix(this.schema, vectorSchema)}_${blend ? 'blended' : 'lexical'}`;
    const rows = await this.query('search', statement.text, statement.values, name);
    return rows.map((row) => ({
      record: toRecord(row),
      score: z.number().parse((row as { score: unknown }).score),
    }));
  }

  async delete(namespace: MemoryNamespace, key: string): Promise<boolean> {
    const pk = [...nsParams(parseNamespace(namespace)), parseKey(key)];
    const t = this.tables;
    return this.transaction('delete', async (client) => {
      await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, $2))', [
        JSON.stringify(pk),
        RECORD_LOCK,
      ]);
      const gone = await client.query(
        `DELETE FROM ${t.records} ${PK} RETURNING expires_at::float8 AS expires_at`,
        pk,
      );
      await client.query(`DELETE FROM ${t.history} ${PK}`, pk);
      const expiresAt = (gone.rows[0] as { expires_at: number | null } | undefined)?.expires_at;
      return expiresAt !== undefined && (expiresAt === null || expiresAt > Date.now());
    });
  }

  async exportSubject(subject: MemorySubject): Promise<MemoryRecord[]> {
    const s = parseSubject(subject);
    const t = this.tables;
    const rows = await this.query(
      'exportSubject',
      `SELECT ${RECORD_SELECT} FROM ${t.history} h WHERE tenant = $1 AND user_id = $2 AND EXISTS (
         SELECT 1 FROM ${t.records} r WHERE r.tenant = h.tenant AND r.user_id = h.user_id AND r.scope = h.scope
           AND r.key = h.key AND (r.expires_at IS NULL OR r.expires_at > $3))
       UNION ALL
       SELECT ${RECORD_SELECT} FROM ${t.records} WHERE tenant = $1 AND user_id = $2
         AND (expires_at IS NULL OR expires_at > $3)
       ORDER BY scope, key, version`,
      [s.tenant, s.user, Date.now()],
    );
    return rows.map(toRecord);
  }

  async forgetSubject(subject: MemorySubject): Promise<number> {
    const s = parseSubject(subject);
    return this.transaction('forgetSubject', (client) => this.erase(client, s));
  }

  async setOptOut(subject: MemorySubject, optedOut: boolean): Promise<void> {
    const s = parseSubject(subject);
    const t = this.tables;
    await this.transaction('setOptOut', async (client) => {
      if (!optedOut) {
        await client.query(`DELETE FROM ${t.optOuts} WHERE tenant = $1 AND user_id = $2`, [s.tenant, s.user]);
        return;
      }
      await client.query(
        `INSERT INTO ${t.optOuts} (tenant, user_id, opted_out_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
        [s.tenant, s.user, Date.now()],
      );
      await this.erase(client, s);
    });
  }

  async isOptedOut(subject: MemorySubject): Promise<boolean> {
    const s = parseSubject(subject);
    const rows = await this.query(
      'isOptedOut',
      `SELECT 1 FROM ${this.tables.optOuts} WHERE tenant = $1 AND user_id = $2`,
      [s.tenant, s.user],
    );
    return rows.length > 0;
  }

  async purgeExpired(): Promise<number> {
    const t = this.tables;
    // Vectors go with their records (ON DELETE CASCADE); history in the same statement.
    const rows = await this.query(
      'purgeExpired',
      `WITH gone AS (
         DELETE FROM ${t.records} WHERE expires_at IS NOT NULL AND expires_at <= $1
         RETURNING tenant, user_id, scope, key),
       old AS (
         DELETE FROM ${t.history} h USING gone g
         WHERE h.tenant = g.tenant AND h.user_id = g.user_id AND h.scope = g.scope AND h.key = g.key)
       SELECT count(*) AS count FROM gone`,
      [Date.now()],
    );
    return countSchema.parse(rows[0]).count;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsPool) await this.pool.end();
  }

  /** Deletes every row of the subject in every table; the caller's transaction makes it all or nothing. */
  private async erase(client: pg.PoolClient, s: MemorySubject): Promise<number> {
    const t = this.tables;
    await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, $2))', [
      subjectLock(s.tenant, s.user),
      SUBJECT_LOCK,
    ]);
    if (this.migrated.vectorSchema !== undefined) {
      await client.query(`DELETE FROM ${t.vectors} WHERE tenant = $1 AND user_id = $2`, [s.tenant, s.user]);
    }
    await client.query(`DELETE FROM ${t.history} WHERE tenant = $1 AND user_id = $2`, [s.tenant, s.user]);
    const gone = await client.query(`DELETE FROM ${t.records} WHERE tenant = $1 AND user_id = $2`, [
      s.tenant,
      s.user,
    ]);
    return gone.rowCount ?? 0;
  }

  private async query(operation: string, text: string, values: unknown[], name?: string): Promise<unknown[]> {
    this.checkOpen(operation);
    try {
      return (await this.pool.query(name === undefined ? { text, values } : { name, text, values })).rows;
    } catch (error) {
      throw unavailable(operation, error);
    }
  }

  private async transaction<T>(operation: string, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    this.checkOpen(operation);
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw unavailable(operation, error);
    }
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw unavailable(operation, error);
    } finally {
      client.release();
    }
  }

  private checkOpen(operation: string): void {
    if (this.closed)
      throw new BatonError('MEMORY_UNAVAILABLE', `postgresMemoryStore: ${operation} after close()`);
  }
}

const LIVE = 'AND (expires_at IS NULL OR expires_at > $5)';

const subjectLock = (tenant: string, user: string) => JSON.stringify([tenant, user]);

function optedOutError(ns: ResolvedNamespace): BatonError {
  return new BatonError('MEMORY_OPTED_OUT', 'This user opted out of memory: nothing about them is stored', {
    details: { tenant: ns.tenant },
  });
}

export function unavailable(operation: string, error: unknown): BatonError {
  if (error instanceof BatonError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new BatonError('MEMORY_UNAVAILABLE', `postgresMemoryStore: ${operation} failed: ${message}`, {
    cause: error,
  });
}
