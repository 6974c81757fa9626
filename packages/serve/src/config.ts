import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { BatonError } from '@baton/core';
import { z } from 'zod';

/** Namespaces become NATS subject tokens and JetStream names: the same rule as the bus. */
const TOKEN = /^[A-Za-z0-9_-]{1,64}$/;
const tokenSchema = z.string().regex(TOKEN, 'must be 1–64 letters, digits, "_" or "-"');

export const rateLimitSchema = z.object({
  /** Tokens added per second: the sustained request rate. */
  perSecond: z.number().positive().max(1_000_000),
  /** Bucket size: how many requests may arrive at once after a quiet spell. */
  burst: z.number().int().positive().max(1_000_000),
});
export type RateLimit = z.output<typeof rateLimitSchema>;

export const apiKeySchema = z
  .object({
    /** A name for the key: logged, and recorded as who decided an approval. Never the secret. */
    id: tokenSchema.optional(),
    /** The key itself (at least 16 characters)… */
    key: z.string().min(16, 'an API key needs at least 16 characters').max(512).optional(),
    /** …or its SHA-256 in hex, so the configuration file need not hold the secret. */
    sha256: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex digits')
      .optional(),
    /** The tenant: the bus namespace its runs, jobs and approvals live in. */
    tenant: tokenSchema.default('default'),
    /** This key's own rate limit (default: the gateway's). */
    rateLimit: rateLimitSchema.optional(),
    /** Signs this key's webhooks instead of the gateway's secret. */
    webhookSecret: z.string().min(16).optional(),
  })
  .refine((key) => (key.key === undefined) !== (key.sha256 === undefined), {
    message: 'give exactly one of "key" or "sha256"',
  });
export type ApiKeyInput = z.input<typeof apiKeySchema>;

const webhookSchema = z.object({
  /** HMAC-SHA256 secret of the `baton-signature` header (or BATON_WEBHOOK_SECRET). */
  secret: z.string().min(16).optional(),
  /** Deliveries per event, the first included. */
  maxAttempts: z.number().int().min(1).max(20).default(5),
  /** Longest one delivery may take. */
  timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
  /** First retry delay; it doubles (with jitter) up to `maxBackoffMs`. */
  backoffMs: z.number().int().min(1).max(600_000).default(500),
  maxBackoffMs: z.number().int().min(1).max(3_600_000).default(30_000),
  /** When set, webhooks may only go to these host names (exact match). */
  allowHosts: z.array(z.string().min(1)).optional(),
});

const runsSchema = z.object({
  /** How long a finished run stays readable (GET /v1/runs/:id) in memory; on NATS the bucket keeps it 24 h. */
  retentionMs: z
    .number()
    .int()
    .positive()
    .default(60 * 60 * 1000),
  /** Most runs kept in memory; the oldest finished ones go first. */
  max: z.number().int().positive().default(10_000),
  /** Team timeout: a real timer that cancels the team (default 120 s, as `baton run`). */
  timeoutMs: z.number().int().positive().default(120_000),
  /** Longest an async job may take, approval waits included, before it is stopped. */
  jobTimeoutMs: z
    .number()
    .int()
    .positive()
    .default(60 * 60 * 1000),
  /** A tool call waiting longer than this for a person counts as denied (default: no limit). */
  approvalTimeoutMs: z.number().int().positive().optional(),
  /** Async jobs this gateway runs at once (in NATS mode: pulled from the work queue). */
  concurrency: z.number().int().positive().max(1_000).default(8),
});

export const serveConfigSchema = z.object({
  keys: z.array(apiKeySchema).default([]),
  /** Per API key, unless the key says otherwise. */
  rateLimit: rateLimitSchema.default({ perSecond: 20, burst: 40 }),
  /** Largest request body in bytes (413 above it). */
  maxBodyBytes: z
    .number()
    .int()
    .positive()
    .max(64 * 1024 * 1024)
    .default(1024 * 1024),
  /** The tenant of requests when no API keys are configured (open mode). */
  namespace: tokenSchema.default('default'),
  webhook: webhookSchema.default({ maxAttempts: 5, timeoutMs: 10_000, backoffMs: 500, maxBackoffMs: 30_000 }),
  runs: runsSchema.default({
    retentionMs: 60 * 60 * 1000,
    max: 10_000,
    timeoutMs: 120_000,
    jobTimeoutMs: 60 * 60 * 1000,
    concurrency: 8,
  }),
});
export type ServeConfigInput = z.input<typeof serveConfigSchema>;
export type ServeConfig = z.output<typeof serveConfigSchema>;

/** A configured key as the gateway holds it: the secret only as its digest. */
export interface ResolvedKey {
  id: string;
  digest: string;
  tenant: string;
  rateLimit: RateLimit;
  webhookSecret: string | undefined;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Validates a configuration (throws CONFIG_INVALID naming every bad field). */
export function parseServeConfig(input: unknown, source = 'configuration'): ServeConfig {
  const parsed = serveConfigSchema.safeParse(input);
  if (!parsed.success) {
    const issues = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
    throw new BatonError('CONFIG_INVALID', `Invalid gateway ${source}: ${issues.join('; ')}`, {
      details: { issues },
    });
  }
  return parsed.data;
}

/** The keys with their digests and effective limits; duplicate keys or ids are a configuration error. */
export function resolveKeys(config: ServeConfig): ResolvedKey[] {
  const keys: ResolvedKey[] = [];
  const digests = new Set<string>();
  const ids = new Set<string>();
  for (const key of config.keys) {
    const digest = key.sha256 ? key.sha256.toLowerCase() : sha256Hex(key.key as string);
    const id = key.id ?? `key-${digest.slice(0, 8)}`;
    if (digests.has(digest) || ids.has(id)) {
      throw new BatonError('CONFIG_INVALID', `API key "${id}" is configured twice`, { details: { id } });
    }
    digests.add(digest);
    ids.add(id);
    keys.push({
      id,
      digest,
      tenant: key.tenant,
      rateLimit: key.rateLimit ?? config.rateLimit,
      webhookSecret: key.webhookSecret,
    });
  }
  return keys;
}

/**
 * `BATON_API_KEYS`: a JSON array of keys (as in the file), or the short form `key[=tenant],key[=tenant]`.
 * Undefined when the variable is unset or blank.
 */
export function keysFromEnv(value: string | undefined): ApiKeyInput[] | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (text.startsWith('[')) {
    try {
      return JSON.parse(text) as ApiKeyInput[];
    } catch (error) {
      throw new BatonError('CONFIG_INVALID', `BATON_API_KEYS is not valid JSON: ${(error as Error).message}`);
    }
  }
  return text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map((part) => {
      const at = part.lastIndexOf('=');
      return at > 0 ? { key: part.slice(0, at), tenant: part.slice(at + 1) } : { key: part };
    });
}

export interface LoadConfigOptions {
  /** A JSON configuration file (`baton serve --config`). */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Overrides that win over the file (CLI flags). */
  overrides?: Partial<ServeConfigInput>;
}

/** The file, then the environment (BATON_API_KEYS adds keys, BATON_WEBHOOK_SECRET sets the secret), then overrides. */
export function loadServeConfig(options: LoadConfigOptions = {}): ServeConfig {
  const env = options.env ?? process.env;
  let base: Record<string, unknown> = {};
  if (options.file) {
    let text: string;
    try {
      text = readFileSync(options.file, 'utf8');
    } catch (error) {
      throw new BatonError('CONFIG_INVALID', `Cannot read ${options.file}: ${(error as Error).message}`);
    }
    try {
      const json: unknown = JSON.parse(text);
      if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error('not an object');
      base = json as Record<string, unknown>;
    } catch (error) {
      throw new BatonError(
        'CONFIG_INVALID',
        `${options.file} is not a JSON object: ${(error as Error).message}`,
      );
    }
  }
  const merged: Record<string, unknown> = { ...base, ...options.overrides };
  const envKeys = keysFromEnv(env.BATON_API_KEYS);
  if (envKeys) merged.keys = [...((merged.keys as unknown[] | undefined) ?? []), ...envKeys];
  const secret = env.BATON_WEBHOOK_SECRET?.trim();
  if (secret) merged.webhook = { ...(merged.webhook as Record<string, unknown> | undefined), secret };
  return parseServeConfig(merged, options.file ? `configuration (${options.file})` : 'configuration');
}
