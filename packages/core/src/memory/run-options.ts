import { z } from 'zod';
import { BatonError } from '../errors.js';
import type { Model } from '../model/types.js';
import type { RecallBudget } from './context.js';
import type { Embedder } from './embedder.js';
import type { MemoryNamespace, MemoryStore } from './store.js';

/** Long-term memory of a run (`RunOptions.memory`): what it recalls at the start and saves at the end. */
export interface RunMemoryOptions {
  store: MemoryStore;
  /**
   * Fields that replace the run's: by default `{ tenant: tenantId ?? 'default', user: userId, scope:
   * 'default' }`. A run without a user needs this set explicitly (tenant-wide memory is a choice).
   */
  namespace?: Partial<MemoryNamespace>;
  /** Memories put into the system prompt at the start (default on: 1000 tokens, 8 facts, 3 episodes). */
  inject?: false | Partial<RecallBudget>;
  /** Save an episode of each finished run (task, strategy, tools and their errors, outcome). Default true. */
  episodes?: boolean;
  /**
   * Save a recap of the session at the end of each run, offered to the next session. `true` (default)
   * writes it without a model; `{ model }` has that model write it (send a cheap one; its usage counts on
   * the run). `false` saves none.
   */
  summary?: boolean | { model: Model; maxInputTokens?: number; maxOutputTokens?: number };
  /** This run uses no memory at all: nothing is recalled or saved, and the memory tools refuse to write. */
  optOut?: boolean;
  /** Embeds the task and saved records for stores with vector search. */
  embedder?: Embedder;
  /** How long episodes and recaps are kept (default: until deleted, or the store's retention). */
  ttlMs?: number;
  /** Longest the recall at the start, and the saving at the end, may each take (default 10 000 ms). */
  timeoutMs?: number;
}

export interface ResolvedRunMemory {
  store: MemoryStore;
  namespace: MemoryNamespace;
  inject: RecallBudget | undefined;
  episodes: boolean;
  summary: false | { model?: Model; maxInputTokens: number; maxOutputTokens: number };
  optOut: boolean;
  embedder: Embedder | undefined;
  ttlMs: number | undefined;
  timeoutMs: number;
}

const hasMethods = (...names: string[]) =>
  z.custom<object>(
    (value) =>
      typeof value === 'object' &&
      value !== null &&
      names.every((name) => typeof (value as Record<string, unknown>)[name] === 'function'),
    { message: `must have ${names.join(', ')}` },
  );
const part = z.string().min(1).max(256);
const count = (max: number) => z.number().int().min(0).max(max);

const optionsSchema = z.strictObject({
  store: hasMethods('put', 'get', 'search', 'list', 'isOptedOut'),
  namespace: z
    .strictObject({ tenant: part.optional(), user: part.optional(), scope: part.optional() })
    .optional(),
  inject: z
    .union([
      z.literal(false),
      z.strictObject({
        maxTokens: count(100_000).optional(),
        limit: count(100).optional(),
        episodes: count(20).optional(),
      }),
    ])
    .optional(),
  episodes: z.boolean().optional(),
  summary: z
    .union([
      z.boolean(),
      z.strictObject({
        model: hasMethods('generate'),
        maxInputTokens: z.number().int().positive().optional(),
        maxOutputTokens: z.number().int().positive().optional(),
      }),
    ])
    .optional(),
  optOut: z.boolean().optional(),
  embedder: hasMethods('embed').optional(),
  ttlMs: z.number().int().positive().optional(),
  timeoutMs: z.number().int().positive().max(600_000).optional(),
});

const isStore = (value: unknown): value is MemoryStore =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as MemoryStore).put === 'function' &&
  !('store' in value);

/**
 * `RunOptions.memory` checked and completed: a store alone means every default. A misconfiguration is a
 * programmer's error, thrown before the run starts like any other invalid configuration.
 */
export function resolveRunMemory(
  given: MemoryStore | RunMemoryOptions,
  run: { tenantId?: string; userId?: string },
): ResolvedRunMemory {
  const raw: unknown = isStore(given) ? { store: given } : given;
  const parsed = optionsSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || '(memory)'}: ${issue.message}`,
    );
    throw new BatonError('CONFIG_INVALID', `Invalid RunOptions.memory: ${problems.join('; ')}`, {
      details: { field: 'memory', issues: problems },
    });
  }
  const options = raw as RunMemoryOptions;
  const user = options.namespace?.user ?? run.userId;
  if (user === undefined && options.namespace === undefined) {
    throw new BatonError(
      'CONFIG_INVALID',
      'RunOptions.memory needs to know whose memory it is: give the run a userId, or memory.namespace for tenant-wide memory',
      { details: { field: 'memory.namespace' } },
    );
  }
  const namespace: MemoryNamespace = {
    tenant: options.namespace?.tenant ?? run.tenantId ?? 'default',
    scope: options.namespace?.scope ?? 'default',
  };
  if (user !== undefined) namespace.user = user;
  const summary = options.summary ?? true;
  return {
    store: options.store,
    namespace,
    inject:
      options.inject === false
        ? undefined
        : {
            maxTokens: options.inject?.maxTokens ?? 1_000,
            limit: options.inject?.limit ?? 8,
            episodes: options.inject?.episodes ?? 3,
          },
    episodes: options.episodes ?? true,
    summary:
      summary === false
        ? false
        : summary === true
          ? { maxInputTokens: 4_000, maxOutputTokens: 300 }
          : {
              model: summary.model,
              maxInputTokens: summary.maxInputTokens ?? 4_000,
              maxOutputTokens: summary.maxOutputTokens ?? 300,
            },
    optOut: options.optOut ?? false,
    embedder: options.embedder,
    ttlMs: options.ttlMs,
    timeoutMs: options.timeoutMs ?? 10_000,
  };
}
