import { BatonError, type ToolRisk } from '@baton/core';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { z } from 'zod';

/** Starts the server as a child process and speaks MCP over its stdin/stdout. */
export interface McpStdioTransport {
  command: string;
  args?: readonly string[];
  /**
   * Added to a minimal environment (HOME, PATH, USER, …): the parent's variables — API keys included —
   * are not passed to the server unless named here.
   */
  env?: Readonly<Record<string, string>>;
  cwd?: string;
  /** `capture` (default) keeps the last lines for error messages; `inherit` passes them to this process. */
  stderr?: 'capture' | 'inherit';
}

/** Streamable HTTP (the MCP transport of spec 2025-03-26 and later). */
export interface McpHttpTransport {
  url: string | URL;
  /** Sent with every request (an `Authorization` header, a tenant header). */
  headers?: Readonly<Record<string, string>>;
}

export type McpTransportConfig =
  | { stdio: McpStdioTransport }
  | { http: McpHttpTransport }
  /** Any transport of the SDK (in-memory, WebSocket, …): a new one per connection. */
  | { custom: () => Transport };

/** What the user says about one tool of the server, by its MCP name; it wins over annotations. */
export interface McpToolOverride {
  risk?: ToolRisk;
  timeoutMs?: number;
  maxResultTokens?: number;
  needsApproval?: boolean;
  /** A write tool that may run after the run read untrusted content without asking (default false). */
  safeAfterUntrusted?: boolean;
}

export interface McpReconnectPolicy {
  /** Background attempts after the connection is lost (a call still tries once more). Default 5. */
  attempts?: number;
  initialDelayMs?: number;
  maxDelayMs?: number;
}

export interface McpServerConfig {
  /** `^[a-zA-Z0-9_-]{1,32}$`: prefixes every tool name (`<name>__<tool>`). */
  name: string;
  transport: McpTransportConfig;
  /**
   * Believe the server's tool annotations (readOnlyHint, destructiveHint) for risk. Default false: an
   * untrusted server could call a tool that deletes files "read-only", so each of its tools is `write`.
   */
  trusted?: boolean;
  /** Per tool call; the tool's AbortSignal fires and the server is sent a cancel. Default 30 s. */
  timeoutMs?: number;
  /** Starting the server and the MCP handshake. Default 30 s. */
  connectTimeoutMs?: number;
  /** Results longer than this many tokens are truncated before the model sees them; default 2,000. */
  maxResultTokens?: number;
  /** Which of the server's tools to offer, by MCP name (include first, then exclude). */
  tools?: { include?: readonly string[]; exclude?: readonly string[] };
  overrides?: Readonly<Record<string, McpToolOverride>>;
  /** Offer `<name>__list_resources` and `<name>__read_resource` when the server has resources. Default true. */
  resources?: boolean;
  /** Reconnect in the background when the transport is lost; `false` waits for the next call. */
  reconnect?: false | McpReconnectPolicy;
  /** Tool descriptions are the server's words sent to the model: longer ones are cut. Default 1,024. */
  maxDescriptionChars?: number;
}

export interface ResolvedMcpConfig {
  name: string;
  transport: McpTransportConfig;
  trusted: boolean;
  timeoutMs: number;
  connectTimeoutMs: number;
  maxResultTokens: number | undefined;
  include: ReadonlySet<string> | undefined;
  exclude: ReadonlySet<string>;
  overrides: Readonly<Record<string, McpToolOverride>>;
  resources: boolean;
  reconnect: Required<McpReconnectPolicy> | false;
  maxDescriptionChars: number;
}

const positiveMs = z.number().finite().positive();
const risk = z.enum(['read', 'write', 'destructive']);
const stringRecord = z.record(z.string(), z.string());

const transportSchema = z.union([
  z.strictObject({
    stdio: z.strictObject({
      command: z.string().min(1),
      args: z.array(z.string()).optional(),
      env: stringRecord.optional(),
      cwd: z.string().min(1).optional(),
      stderr: z.enum(['capture', 'inherit']).optional(),
    }),
  }),
  z.strictObject({
    http: z.strictObject({
      url: z.union([z.url({ protocol: /^https?$/ }), z.instanceof(URL)]),
      headers: stringRecord.optional(),
    }),
  }),
  z.strictObject({ custom: z.custom<() => Transport>((value) => typeof value === 'function') }),
]);

const configSchema = z.strictObject({
  name: z.string().regex(/^[a-zA-Z0-9_-]{1,32}$/, '1–32 letters, digits, "_" or "-"'),
  transport: transportSchema,
  trusted: z.boolean().optional(),
  timeoutMs: positiveMs.optional(),
  connectTimeoutMs: positiveMs.optional(),
  maxResultTokens: z.number().int().positive().optional(),
  tools: z
    .strictObject({ include: z.array(z.string()).optional(), exclude: z.array(z.string()).optional() })
    .optional(),
  overrides: z
    .record(
      z.string(),
      z.strictObject({
        risk: risk.optional(),
        timeoutMs: positiveMs.optional(),
        maxResultTokens: z.number().int().positive().optional(),
        needsApproval: z.boolean().optional(),
        safeAfterUntrusted: z.boolean().optional(),
      }),
    )
    .optional(),
  resources: z.boolean().optional(),
  reconnect: z
    .union([
      z.literal(false),
      z.strictObject({
        attempts: z.number().int().min(0).optional(),
        initialDelayMs: z.number().finite().min(0).optional(),
        maxDelayMs: z.number().finite().min(0).optional(),
      }),
    ])
    .optional(),
  maxDescriptionChars: z.number().int().min(16).optional(),
});

/** Checks a config where it enters (it may come from a JSON file) and fills in the defaults. */
export function resolveConfig(config: McpServerConfig): ResolvedMcpConfig {
  const parsed = configSchema.safeParse(config);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue && issue.path.length > 0 ? issue.path.join('.') : 'config';
    const name = typeof config?.name === 'string' ? JSON.stringify(config.name) : '?';
    throw new BatonError(
      'CONFIG_INVALID',
      `mcpServer(${name}): "${field}" ${issue?.message ?? 'is invalid'}`,
      {
        details: {
          field,
          issues: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
        },
      },
    );
  }
  const reconnect =
    config.reconnect === false
      ? false
      : { attempts: 5, initialDelayMs: 200, maxDelayMs: 5_000, ...dropUndefined(config.reconnect ?? {}) };
  if (reconnect && reconnect.maxDelayMs < reconnect.initialDelayMs) {
    throw new BatonError(
      'CONFIG_INVALID',
      `mcpServer("${config.name}"): "reconnect" needs initialDelayMs ≤ maxDelayMs`,
      {
        details: { field: 'reconnect' },
      },
    );
  }
  return {
    name: config.name,
    // The caller's own object: a custom factory and a URL instance stay as given.
    transport: config.transport,
    trusted: config.trusted ?? false,
    timeoutMs: config.timeoutMs ?? 30_000,
    connectTimeoutMs: config.connectTimeoutMs ?? 30_000,
    maxResultTokens: config.maxResultTokens,
    include: config.tools?.include ? new Set(config.tools.include) : undefined,
    exclude: new Set(config.tools?.exclude ?? []),
    overrides: config.overrides ?? {},
    resources: config.resources ?? true,
    reconnect,
    maxDescriptionChars: config.maxDescriptionChars ?? 1_024,
  };
}

function dropUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
