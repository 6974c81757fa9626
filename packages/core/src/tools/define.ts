import { z } from 'zod';
import { MAX_CACHE_TTL_MS } from '../cache/codec.js';
import { BatonError } from '../errors.js';
import type { JsonSchema, ToolSpec } from '../model/types.js';
import { recoveryOf, type ToolRecovery, type ToolRecoveryConfig } from '../recovery/config.js';

export type ToolRisk = 'read' | 'write' | 'destructive';

export const RISK_ORDER: Record<ToolRisk, number> = { read: 0, write: 1, destructive: 2 };

export interface ToolRetryPolicy {
  /** Total attempts including the first (1 = no retry). */
  attempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

export interface ToolRateLimit {
  /** Calls allowed per run. */
  perRun?: number;
  /** Calls allowed per rolling minute, across every run of one tenant in this process. */
  perMinute?: number;
}

/**
 * How a read tool's results are cached. `ttlMs` is required: a result kept without an end is a stale
 * answer waiting to happen, so a tool that does not say how long its data stays true is not cached.
 */
export interface ToolCacheConfig {
  /** How long a result stays fresh, in milliseconds. */
  ttlMs: number;
  /** Most entries kept in the default in-memory store (least recently used go first; default 500). */
  max?: number;
  /**
   * Who may share a cached result: `user` (default) keys it by tenant and user; `tenant` shares it
   * between the tenant's users, for data that does not depend on who asks (a public catalogue).
   */
  scope?: 'user' | 'tenant';
  /** Change it when the tool's behaviour changes without a schema change: older entries are no longer read. */
  version?: string;
}

/** A tool's cache settings as defined (see ToolCacheConfig). */
export interface ToolCacheOptions {
  ttlMs: number;
  max: number;
  scope: 'user' | 'tenant';
  version?: string;
}

export interface ToolContext {
  /** Aborted on timeout, run deadline, user abort or kill switch. Pass it to fetch/child processes. */
  signal: AbortSignal;
  runId: string;
  agent: string;
  step: number;
  toolCallId: string;
  /** 1 for the first attempt. */
  attempt: number;
  /**
   * `<runId>:<toolCallId>`, the same on every attempt, every resume and every redelivery of this call:
   * pass it to the API you call (an Idempotency-Key header, a unique constraint) so a repeat does nothing.
   */
  idempotencyKey: string;
  /**
   * True when this call was started before (its intent is journaled) but no outcome was recorded — the
   * process died mid-call: the side effect may already have happened. A tool that can check, checks.
   */
  possibleDuplicate: boolean;
  /**
   * Secrets for this call, scoped to the run, from the run's credentials provider (`RunOptions.credentials`).
   * A secret handed out here is redacted from the tool's result, the journal, events and spans.
   */
  credentials: ToolCredentials;
  /**
   * The tenant the run belongs to (`RunOptions.tenantId`; for a remote member, the tenant its envelope
   * carried, which is the bus namespace). Scope whatever the tool reads or writes by it.
   */
  tenantId?: string;
  /** The user the run acts for (`RunOptions.userId`; for a remote member, from its envelope). */
  userId?: string;
  /** The session the run belongs to (`RunOptions.sessionId`; for a remote member, from its envelope). */
  sessionId?: string;
}

export interface ToolCredentials {
  /** The secret named `name` for this tool in this run; fails with TOOL_PERMISSION_DENIED when none is granted. */
  get(name: string): Promise<string>;
}

/** Short human phrases for progress output ("Searching for budgets…", "Found 3 documents"). */
export interface ToolProgress<I, O> {
  start?(input: I): string;
  done?(output: O): string;
}

export interface ToolConfig<I, O> extends ToolRecoveryConfig<I> {
  /** `^[a-zA-Z0-9_-]{1,64}$`, the set every provider accepts. */
  name: string;
  description: string;
  input: z.ZodType<I>;
  output?: z.ZodType<O>;
  /** `read` (default) runs freely; `write` and `destructive` are subject to the run's tool policy. */
  risk?: ToolRisk;
  /** Per attempt; default 30 s. The tool's signal aborts when it passes. */
  timeoutMs?: number;
  /** A number of attempts, or a full policy. Only retryable failures (timeouts, retryable ToolErrors) retry. */
  retry?: number | Partial<ToolRetryPolicy>;
  rateLimit?: ToolRateLimit;
  /**
   * Cache results by tenant, user and canonical arguments (read tools only), for `ttlMs`; where they are
   * kept is the run's choice (`RunOptions.cache.store`, in memory by default). There is no default TTL.
   */
  cache?: false | ToolCacheConfig;
  /** Results longer than this many tokens are truncated before the model sees them; default 2,000. */
  maxResultTokens?: number;
  /** Ask the run's approval handler before executing. Defaults to true for `destructive` tools. */
  needsApproval?: boolean | ((input: I) => boolean);
  /**
   * A call that may already have run (started before a crash, no recorded outcome) is not run again without
   * a person's decision: the run pauses for approval instead. Default true for `destructive` tools.
   */
  once?: boolean;
  /**
   * What a resumed run does with this tool's recorded calls: `outcome` (default) replays the recorded
   * result and never runs the tool again; `execute` runs it again — for tools whose own work is journaled
   * (a team's delegation tool: the handoff it makes replays from the team's journal).
   */
  replay?: 'outcome' | 'execute';
  /**
   * Whether what it returns is untrusted content that can carry instructions (a web page, an email, a
   * document). Default: true for `read` tools. Once a run has read untrusted content, its `write` and
   * `destructive` calls need the agent's untrusted-content policy's consent.
   */
  untrustedOutput?: boolean;
  /** A write or destructive tool that may run after untrusted content without asking (default false). */
  safeAfterUntrusted?: boolean;
  /** What a call would do, in terms a person can check ("email to 50 people, subject X"); shown in approvals and dry runs. */
  preview?: (input: I) => unknown | Promise<unknown>;
  /** Runs the tool's logic without committing anything (a dry run); its result is shown instead of running. */
  dryRun?: (input: I, context: ToolContext) => unknown | Promise<unknown>;
  progress?: ToolProgress<I, O>;
  execute(input: I, context: ToolContext): Promise<O> | O;
}

export interface Tool<I = unknown, O = unknown> {
  readonly kind: 'tool';
  readonly name: string;
  readonly description: string;
  readonly input: z.ZodType<I>;
  readonly output: z.ZodType<O> | undefined;
  readonly risk: ToolRisk;
  readonly timeoutMs: number;
  readonly retry: ToolRetryPolicy;
  readonly rateLimit: ToolRateLimit | undefined;
  readonly cache: ToolCacheOptions | undefined;
  readonly maxResultTokens: number;
  /** What the model is shown: name, description and the JSON Schema of the input. */
  readonly spec: ToolSpec;
  readonly progress: ToolProgress<I, O> | undefined;
  readonly once: boolean;
  readonly replay: 'outcome' | 'execute';
  readonly untrustedOutput: boolean;
  readonly safeAfterUntrusted: boolean;
  /** Modified retries and a fallback, when the tool has them (see ToolRecoveryConfig). */
  readonly recovery?: ToolRecovery;
  // Method signatures, so a Tool<{ id: string }> is still an AnyTool (parameters are bivariant).
  preview?(input: I): unknown | Promise<unknown>;
  dryRun?(input: I, context: ToolContext): unknown | Promise<unknown>;
  needsApproval(input: I): boolean;
  execute(input: I, context: ToolContext): Promise<O> | O;
}

/** A tool with its types erased, as agents hold them. */
export type AnyTool = Tool<unknown, unknown>;

const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_RESULT_TOKENS = 2_000;

export function defineTool<I, O>(config: ToolConfig<I, O>): Tool<I, O> {
  const where = `defineTool(${typeof config?.name === 'string' ? JSON.stringify(config.name) : '?'})`;
  if (typeof config !== 'object' || config === null) throw configError('defineTool', 'config', 'an object');
  if (typeof config.name !== 'string' || !TOOL_NAME.test(config.name)) {
    throw configError(where, 'name', '1–64 characters of letters, digits, "_" or "-"');
  }
  if (typeof config.description !== 'string' || config.description.trim() === '') {
    throw configError(where, 'description', 'a non-empty string telling the model when to use the tool');
  }
  if (!(config.input instanceof z.ZodType)) throw configError(where, 'input', 'a zod schema');
  if (config.output !== undefined && !(config.output instanceof z.ZodType)) {
    throw configError(where, 'output', 'a zod schema');
  }
  if (typeof config.execute !== 'function') throw configError(where, 'execute', 'a function');
  const risk = config.risk ?? 'read';
  if (!(risk in RISK_ORDER)) throw configError(where, 'risk', '"read", "write" or "destructive"');
  const timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!isPositive(timeoutMs)) throw configError(where, 'timeoutMs', 'a positive number of milliseconds');
  const maxResultTokens = config.maxResultTokens ?? DEFAULT_MAX_RESULT_TOKENS;
  if (!isPositive(maxResultTokens)) throw configError(where, 'maxResultTokens', 'a positive number');
  const retry = normalizeRetry(config.retry, where);
  const rateLimit = normalizeRateLimit(config.rateLimit, where);
  const cache = normalizeCache(config.cache, risk, where);
  const parameters = toParametersSchema(config.input, where);
  const approval = config.needsApproval ?? risk === 'destructive';
  if (config.replay !== undefined && config.replay !== 'outcome' && config.replay !== 'execute') {
    throw configError(where, 'replay', '"outcome" or "execute"');
  }
  const execute = config.execute;

  return {
    kind: 'tool',
    name: config.name,
    description: config.description,
    input: config.input,
    output: config.output,
    risk,
    timeoutMs,
    retry,
    rateLimit,
    cache,
    maxResultTokens,
    spec: {
      name: config.name,
      description: config.description,
      parameters,
      strict: isStrictCompatible(parameters),
    },
    needsApproval: typeof approval === 'function' ? approval : () => approval,
    progress: config.progress,
    once: config.once ?? risk === 'destructive',
    replay: config.replay ?? 'outcome',
    untrustedOutput: config.untrustedOutput ?? risk === 'read',
    safeAfterUntrusted: config.safeAfterUntrusted ?? false,
    ...(config.preview ? { preview: config.preview } : {}),
    ...(config.dryRun ? { dryRun: config.dryRun } : {}),
    ...recoveryOf(config as never, risk, where, defineTool as never),
    execute,
  };
}

export function isTool(value: unknown): value is AnyTool {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'tool';
}

function toParametersSchema(input: z.ZodType, where: string): JsonSchema {
  let schema: JsonSchema;
  try {
    schema = z.toJSONSchema(input, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  } catch (error) {
    throw new BatonError('CONFIG_INVALID', `${where}: "input" cannot be expressed as JSON Schema`, {
      cause: error,
      details: { field: 'input' },
    });
  }
  if (schema.type !== 'object') {
    throw configError(where, 'input', 'a zod object schema (tool arguments are a JSON object)');
  }
  const { $schema: _ignored, ...rest } = schema;
  return rest;
}

/**
 * OpenAI strict mode needs every property required and `additionalProperties: false` at every level,
 * and no keywords it cannot enforce; we only ask for strict when the schema already satisfies that.
 */
export function isStrictCompatible(schema: unknown): boolean {
  if (typeof schema !== 'object' || schema === null) return true;
  if (Array.isArray(schema)) return schema.every(isStrictCompatible);
  const node = schema as Record<string, unknown>;
  if ('default' in node || 'pattern' in node || 'format' in node) return false;
  if (node.type === 'object') {
    const properties = (node.properties ?? {}) as Record<string, unknown>;
    const required = new Set((node.required as string[] | undefined) ?? []);
    if (node.additionalProperties !== false) return false;
    if (Object.keys(properties).some((key) => !required.has(key))) return false;
  }
  return Object.entries(node).every(([key, value]) => key === 'required' || isStrictCompatible(value));
}

function normalizeRetry(retry: ToolConfig<unknown, unknown>['retry'], where: string): ToolRetryPolicy {
  const base: ToolRetryPolicy = { attempts: 1, initialDelayMs: 200, maxDelayMs: 5_000 };
  if (retry === undefined) return base;
  const policy = typeof retry === 'number' ? { ...base, attempts: retry } : { ...base, ...retry };
  if (!Number.isInteger(policy.attempts) || policy.attempts < 1) {
    throw configError(where, 'retry.attempts', 'an integer ≥ 1 (total attempts)');
  }
  const finite = Number.isFinite(policy.initialDelayMs) && Number.isFinite(policy.maxDelayMs);
  if (!finite || policy.initialDelayMs < 0 || policy.maxDelayMs < policy.initialDelayMs) {
    throw configError(where, 'retry', 'delays with 0 ≤ initialDelayMs ≤ maxDelayMs');
  }
  return policy;
}

function normalizeRateLimit(limit: ToolRateLimit | undefined, where: string): ToolRateLimit | undefined {
  if (limit === undefined) return undefined;
  for (const key of ['perRun', 'perMinute'] as const) {
    const value = limit[key];
    if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
      throw configError(where, `rateLimit.${key}`, 'an integer ≥ 1');
    }
  }
  return { ...limit };
}

function normalizeCache(cache: unknown, risk: ToolRisk, where: string): ToolCacheOptions | undefined {
  if (cache === undefined || cache === false) return undefined;
  if (risk !== 'read') throw configError(where, 'cache', 'only allowed on read tools (a write must run)');
  if (typeof cache !== 'object' || cache === null) {
    // `cache: true` once meant five minutes for every tool; how long data stays true is the tool's to say.
    throw configError(
      where,
      'cache',
      'an object with ttlMs (how long a result stays fresh; there is no default)',
    );
  }
  const given = cache as Partial<ToolCacheConfig>;
  const options: ToolCacheOptions = {
    ttlMs: given.ttlMs as number,
    max: given.max ?? 500,
    scope: given.scope ?? 'user',
  };
  if (given.version !== undefined) options.version = given.version;
  if (!isPositive(options.ttlMs) || options.ttlMs > MAX_CACHE_TTL_MS) {
    throw configError(where, 'cache.ttlMs', 'a positive number of milliseconds, at most a year');
  }
  if (!Number.isInteger(options.max) || options.max < 1)
    throw configError(where, 'cache.max', 'an integer ≥ 1');
  if (options.scope !== 'user' && options.scope !== 'tenant') {
    throw configError(where, 'cache.scope', '"user" or "tenant"');
  }
  if (options.version !== undefined && typeof options.version !== 'string') {
    throw configError(where, 'cache.version', 'a string');
  }
  return options;
}

function isPositive(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0;
}

export function configError(where: string, field: string, expected: string): BatonError {
  return new BatonError('CONFIG_INVALID', `${where}: "${field}" must be ${expected}`, {
    details: { field },
  });
}
