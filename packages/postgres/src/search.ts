/**
 * The recall query: PostgreSQL full-text search (`ts_rank` over a stored tsvector, GIN-indexed), weighted
 * by recency, and — with pgvector — blended with cosine similarity the way `inMemoryStore` blends them.
 */
import type { ParsedSearch, ResolvedNamespace } from '@baton/core';
import { RECORD_SELECT } from './rows.js';
import { quote, type Tables } from './schema.js';

/**
 * A tsquery matching any word of `text` (recall wants OR, as BM25 does; the rank rewards matching more),
 * words of four letters or more also as prefixes. Words are letters and digits only, so quoting them
 * is safe; the configuration stems them and drops stop words.
 */
export function anyWordQuery(text: string): string {
  const words = [...new Set(text.toLocaleLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [])];
  return words.map((word) => (word.length >= 4 ? `'${word}':*` : `'${word}'`)).join(' | ');
}

/** exp(-ln 2 · age / half-life), capped so that very old records stay above zero instead of underflowing. */
const recency = (now: string, halfLife: string, updatedAt: string) =>
  `(CASE WHEN ${halfLife}::float8 > 0
     THEN exp(-ln(2) * least(greatest(${now}::float8 - ${updatedAt}, 0) / ${halfLife}::float8, 700))
     ELSE 1 END)`;

export interface SearchStatement {
  text: string;
  values: unknown[];
}

export function lexicalSearch(
  t: Tables,
  textSearch: string,
  ns: ResolvedNamespace,
  search: ParsedSearch,
  now: number,
): SearchStatement {
  return {
    text: `SELECT ${RECORD_SELECT}, ts_rank(search, query)::float8 * ${recency('$5', '$6', 'updated_at')} AS score
      FROM ${t.records}, to_tsquery('${textSearch}'::regconfig, $4) AS query
      WHERE tenant = $1 AND user_id = $2 AND scope = $3 AND search @@ query
        AND (expires_at IS NULL OR expires_at > $5) AND ($7::text IS NULL OR kind = $7)
      ORDER BY score DESC, updated_at DESC
      LIMIT $8`,
    values: [
      ns.tenant,
      ns.user ?? '',
      ns.scope,
      anyWordQuery(search.query),
      now,
      search.recencyHalfLifeMs,
      search.kind ?? null,
      search.limit,
    ],
  };
}

/**
 * Every live record of the namespace is a candidate (exact, like `inMemoryStore`): the lexical rank is
 * scaled by the best one to [0, 1], a similarity under `minSimilarity` counts as none, and the two are
 * averaged before recency. Embeddings of another length than the query's are not compared (pgvector
 * refuses to), and a zero vector's NaN distance counts as no similarity.
 */
export function blendedSearch(
  t: Tables,
  textSearch: string,
  vectorSchema: string,
  ns: ResolvedNamespace,
  search: ParsedSearch & { embedding: readonly number[] },
  now: number,
  minSimilarity: number,
): SearchStatement {
  const v = quote(vectorSchema);
  return {
    text: `WITH q AS (SELECT to_tsquery('${textSearch}'::regconfig, $4) AS query),
      candidates AS (
        SELECT r.tenant, r.user_id, r.scope, r.key, r.value, r.kind, r.provenance, r.version, r.created_at,
          r.updated_at, r.expires_at, r.metadata,
          (CASE WHEN r.search @@ q.query THEN ts_rank(r.search, q.query) ELSE 0 END)::float8 AS lexical,
          COALESCE(NULLIF((1 - (e.embedding OPERATOR(${v}.<=>) $9::${v}.vector))::float8, 'NaN'), 0) AS similarity
        FROM ${t.records} r CROSS JOIN q
        LEFT JOIN ${t.vectors} e ON e.tenant = r.tenant AND e.user_id = r.user_id AND e.scope = r.scope
          AND e.key = r.key AND ${v}.vector_dims(e.embedding) = $10
        WHERE r.tenant = $1 AND r.user_id = $2 AND r.scope = $3
          AND (r.expires_at IS NULL OR r.expires_at > $5) AND ($7::text IS NULL OR r.kind = $7)),
      best AS (SELECT max(lexical) AS best FROM candidates),
      scored AS (
        SELECT c.*, (0.5 * (CASE WHEN best.best > 0 THEN c.lexical / best.best ELSE 0 END)
          + 0.5 * (CASE WHEN c.similarity >= $11 THEN c.similarity ELSE 0 END))
          * ${recency('$5', '$6', 'c.updated_at')} AS score
        FROM candidates c CROSS JOIN best)
      SELECT ${RECORD_SELECT}, score FROM scored WHERE score > 0
      ORDER BY score DESC, updated_at DESC
      LIMIT $8`,
    values: [
      ns.tenant,
      ns.user ?? '',
      ns.scope,
      anyWordQuery(search.query),
      now,
      search.recencyHalfLifeMs,
      search.kind ?? null,
      search.limit,
      vectorLiteral(search.embedding),
      search.embedding.length,
      minSimilarity,
    ],
  };
}

/** pgvector's text form; the numbers were checked finite at the boundary. */
export function vectorLiteral(embedding: readonly number[]): string {
  return `[${embedding.join(',')}]`;
}
