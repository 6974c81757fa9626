/**
 * The boundary of every memory store: what a caller may write and what a stored record must look like
 * when it is read back. Adapters call these before touching their backend so that every store refuses
 * the same inputs with the same INPUT_INVALID error, and reads stored bytes through `memoryRecordSchema`
 * instead of trusting them.
 */
import { z } from 'zod';
import { BatonError } from '../errors.js';
import type {
  MemoryKind,
  MemoryNamespace,
  MemoryProvenance,
  MemoryPutOptions,
  MemoryRecord,
  MemorySearchOptions,
  MemorySubject,
} from './store.js';

/**
 * The documented limits. Memory is for short facts, episodes and recaps: a value past these is a bug or
 * an attack (a model told to "remember" a whole document), and a history past `historyMax` versions
 * would let one key grow without bound, so stores keep only the newest earlier versions.
 */
export const MEMORY_LIMITS = {
  /** tenant, user and scope, each. */
  namePartMaxChars: 256,
  keyMaxChars: 512,
  valueMaxChars: 32_768,
  metadataMaxEntries: 32,
  metadataMaxChars: 1024,
  queryMaxChars: 4096,
  /** The most `limit` a search or a list may ask for. */
  resultsMax: 1000,
  /** Earlier versions kept per key (the oldest are dropped first). */
  historyMax: 20,
  /** About 100 years: anything longer is a unit mistake, and timers must stay in range. */
  ttlMaxMs: 100 * 365 * 24 * 3600 * 1000,
  embeddingMaxDims: 8192,
} as const;

export const DEFAULT_SCOPE = 'default';
/** Recency half-life when a search does not say: a month-old memory counts half as much. */
export const DEFAULT_RECENCY_HALF_LIFE_MS = 30 * 24 * 3600 * 1000;
export const DEFAULT_SEARCH_LIMIT = 10;

// Lone surrogates do not survive UTF-8 backends (PostgreSQL, NATS) and NUL is refused by PostgreSQL text:
// refusing them everywhere keeps a record byte-identical across adapters.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const cleanText = (max: number, min = 0) =>
  z
    .string()
    .min(min)
    .max(max)
    .refine((text) => !text.includes('\u0000'), 'must not contain NUL characters')
    .refine((text) => !LONE_SURROGATE.test(text), 'must be well-formed Unicode (no lone surrogates)');

const namePart = cleanText(MEMORY_LIMITS.namePartMaxChars, 1);

export const memoryKindSchema = z.enum(['fact', 'episode', 'summary']);

export const memoryNamespaceSchema = z.strictObject({
  tenant: namePart,
  user: namePart.optional(),
  scope: namePart.optional(),
});

export const memorySubjectSchema = z.strictObject({ tenant: namePart, user: namePart });

export const memoryKeySchema = cleanText(MEMORY_LIMITS.keyMaxChars, 1);
export const memoryValueSchema = cleanText(MEMORY_LIMITS.valueMaxChars);

export const memoryProvenanceSchema = z.strictObject({
  source: cleanText(64, 1),
  trusted: z.boolean(),
  runId: cleanText(256, 1).optional(),
  agent: cleanText(256, 1).optional(),
  sessionId: cleanText(256, 1).optional(),
});

const metadataSchema = z
  .record(cleanText(MEMORY_LIMITS.metadataMaxChars, 1), cleanText(MEMORY_LIMITS.metadataMaxChars))
  .refine((meta) => Object.keys(meta).length <= MEMORY_LIMITS.metadataMaxEntries, {
    message: `at most ${MEMORY_LIMITS.metadataMaxEntries} metadata entries`,
  });

const embeddingSchema = z.array(z.number().finite()).min(1).max(MEMORY_LIMITS.embeddingMaxDims).readonly();

export const memoryPutOptionsSchema = z.strictObject({
  kind: memoryKindSchema.optional(),
  ttlMs: z.number().int().positive().max(MEMORY_LIMITS.ttlMaxMs).optional(),
  metadata: metadataSchema.optional(),
  provenance: memoryProvenanceSchema.optional(),
  embedding: embeddingSchema.optional(),
});

const limitSchema = z.number().int().positive().max(MEMORY_LIMITS.resultsMax);

export const memorySearchOptionsSchema = z.strictObject({
  limit: limitSchema.optional(),
  kind: memoryKindSchema.optional(),
  embedding: embeddingSchema.optional(),
  recencyHalfLifeMs: z.number().finite().nonnegative().optional(),
});

export const memoryListOptionsSchema = z.strictObject({
  kind: memoryKindSchema.optional(),
  limit: limitSchema.optional(),
});

/** A stored record as read back from any backend: parse it, never cast it. */
export const memoryRecordSchema = z.object({
  namespace: z.object({
    tenant: z.string().min(1),
    user: z.string().min(1).optional(),
    scope: z.string().min(1),
  }),
  key: z.string().min(1),
  value: z.string(),
  kind: memoryKindSchema,
  provenance: z.object({
    source: z.string().min(1),
    trusted: z.boolean(),
    runId: z.string().optional(),
    agent: z.string().optional(),
    sessionId: z.string().optional(),
  }),
  version: z.number().int().positive(),
  createdAt: z.number().finite(),
  updatedAt: z.number().finite(),
  expiresAt: z.number().finite().optional(),
  metadata: z.record(z.string(), z.string()).optional(),
});

function parse<T>(schema: z.ZodType<T>, input: unknown, what: string): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
    message: issue.message,
  }));
  const summary = issues.map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message));
  throw new BatonError('INPUT_INVALID', `Invalid memory ${what}: ${summary.join('; ')}`, {
    details: { issues },
  });
}

/** The namespace with its scope filled in: `{ tenant, user }` and `{ tenant, user, scope: 'default' }` are one. */
export interface ResolvedNamespace extends MemoryNamespace {
  scope: string;
}

export function parseNamespace(namespace: unknown): ResolvedNamespace {
  const parsed = parse(memoryNamespaceSchema, namespace, 'namespace');
  const resolved: ResolvedNamespace = { tenant: parsed.tenant, scope: parsed.scope ?? DEFAULT_SCOPE };
  if (parsed.user !== undefined) resolved.user = parsed.user;
  return resolved;
}

export function parseSubject(subject: unknown): MemorySubject {
  return parse(memorySubjectSchema, subject, 'subject');
}

export function parseKey(key: unknown): string {
  return parse(memoryKeySchema, key, 'key');
}

export interface ParsedPut {
  namespace: ResolvedNamespace;
  key: string;
  value: string;
  kind: MemoryKind;
  provenance: MemoryProvenance;
  ttlMs?: number;
  metadata?: Record<string, string>;
  embedding?: readonly number[];
}

/** Checks every argument of `put` and fills the defaults (kind `fact`, provenance untrusted agent). */
export function parsePut(namespace: unknown, key: unknown, value: unknown, options: unknown): ParsedPut {
  const ns = parseNamespace(namespace);
  const k = parseKey(key);
  const v = parse(memoryValueSchema, value, 'value');
  const opts: MemoryPutOptions = parse(memoryPutOptionsSchema, options ?? {}, 'put options');
  const put: ParsedPut = {
    namespace: ns,
    key: k,
    value: v,
    kind: opts.kind ?? 'fact',
    provenance: opts.provenance ?? { source: 'agent', trusted: false },
  };
  if (opts.ttlMs !== undefined) put.ttlMs = opts.ttlMs;
  if (opts.metadata !== undefined) put.metadata = opts.metadata;
  if (opts.embedding !== undefined) put.embedding = opts.embedding;
  return put;
}

export interface ParsedSearch {
  query: string;
  limit: number;
  kind?: MemoryKind;
  embedding?: readonly number[];
  recencyHalfLifeMs: number;
}

export function parseSearch(query: unknown, options: unknown): ParsedSearch {
  const q = parse(cleanText(MEMORY_LIMITS.queryMaxChars), query, 'query');
  const opts: MemorySearchOptions = parse(memorySearchOptionsSchema, options ?? {}, 'search options');
  const search: ParsedSearch = {
    query: q,
    limit: opts.limit ?? DEFAULT_SEARCH_LIMIT,
    recencyHalfLifeMs: opts.recencyHalfLifeMs ?? DEFAULT_RECENCY_HALF_LIFE_MS,
  };
  if (opts.kind !== undefined) search.kind = opts.kind;
  if (opts.embedding !== undefined) search.embedding = opts.embedding;
  return search;
}

export function parseListOptions(options: unknown): { kind?: MemoryKind; limit?: number } {
  return parse(memoryListOptionsSchema, options ?? {}, 'list options');
}

/** Reads a stored record; a record that does not parse is corrupt, not something to hand a model. */
export function parseStoredRecord(input: unknown, backend: string): MemoryRecord {
  const result = memoryRecordSchema.safeParse(input);
  if (result.success) return result.data as MemoryRecord;
  throw new BatonError('INTERNAL', `A stored memory record in ${backend} is unreadable`, {
    details: { issues: result.error.issues.map((issue) => issue.message) },
  });
}

/** True when `record` is past its TTL at `now`. */
export function isExpired(record: Pick<MemoryRecord, 'expiresAt'>, now = Date.now()): boolean {
  return record.expiresAt !== undefined && record.expiresAt <= now;
}

/** The weight of a record `ageMs` old: 1 when new, 0.5 at one half-life; 1 always when `halfLifeMs` is 0. */
export function recencyWeight(ageMs: number, halfLifeMs: number): number {
  if (halfLifeMs <= 0) return 1;
  return 2 ** (-Math.max(0, ageMs) / halfLifeMs);
}

/** Cosine similarity of two vectors of one length (0 when either is all zeros or the lengths differ). */
export function cosineSimilarity(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) return 0;
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}
