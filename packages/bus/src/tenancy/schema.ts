import { BatonError } from '@baton/core';
import { z } from 'zod';
import { summarizeIssues } from '../issues.js';

/**
 * What a user of a tenant does on the bus. `worker` serves agents (and their journals, approvals, audit
 * and memory); `caller` invokes agents, follows and cancels runs and runs teams; `operator` administers
 * the tenant: kill switch, streams and buckets (delete, purge, reconfigure), dead letters. Approval
 * decisions are not the operator's alone on the wire: a request and its decision are one KV key, which
 * workers and callers write too (see docs/decisions.md, "Tenancy on NATS").
 */
export const TENANT_ROLES = ['worker', 'caller', 'operator'] as const;
export type TenantRole = (typeof TENANT_ROLES)[number];

/** A tenant is a bus namespace: it becomes subject tokens and stream names, so the same rule applies. */
const tenantName = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,128}$/, 'must be 1–128 letters, digits, "_" or "-" (it is the bus namespace)');

const userName = z
  .string()
  .regex(/^[A-Za-z0-9_.@-]{1,128}$/, 'must be 1–128 letters, digits, "_", "-", "." or "@"');

/**
 * Printable ASCII without quotes or backslashes, so it goes into the configuration as written (a bcrypt
 * hash, `$2a$...`, works too: nats-server checks it as one). Messages never repeat the value.
 */
const password = z
  .string()
  .min(8, 'must be at least 8 characters')
  .max(1024, 'must be at most 1,024 characters')
  .regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, 'must be printable ASCII without spaces, quotes (") or backslashes');

const SIZE = /^(\d{1,15})\s*([kmgt])?(?:i?b)?$/i;
const UNIT: Record<string, number> = { k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };

/** Bytes as a number, or a size such as `512M`, `10G` (powers of 1,024). */
const size = z
  .union([
    z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    z.string().regex(SIZE, 'must be a number of bytes or a size such as "512M" or "10G"'),
  ])
  .transform((value, context) => {
    if (typeof value === 'number') return value;
    const [, digits, unit] = SIZE.exec(value.trim()) as RegExpExecArray;
    const bytes = Number(digits) * (unit === undefined ? 1 : (UNIT[unit.toLowerCase()] as number));
    if (!Number.isSafeInteger(bytes)) {
      context.addIssue({ code: 'custom', message: 'is too large' });
      return z.NEVER;
    }
    return bytes;
  });

/**
 * JetStream limits of one tenant's account. Baton uses up to 7 streams per tenant (3 of them KV); the
 * journal stream reserves its `maxBytes` (1 GiB by default) out of `maxFile` when it is created.
 */
export const DEFAULT_TENANT_JETSTREAM = {
  maxMemory: 256 * 2 ** 20,
  maxFile: 8 * 2 ** 30,
  maxStreams: 16,
  maxConsumers: 256,
} as const;

const jetstreamLimits = z.strictObject({
  /** Memory storage the account may use, all streams together. */
  maxMemory: size.default(DEFAULT_TENANT_JETSTREAM.maxMemory),
  /** File storage the account may use, all streams together. */
  maxFile: size.default(DEFAULT_TENANT_JETSTREAM.maxFile),
  maxStreams: z.number().int().min(1).max(100_000).default(DEFAULT_TENANT_JETSTREAM.maxStreams),
  maxConsumers: z.number().int().min(1).max(1_000_000).default(DEFAULT_TENANT_JETSTREAM.maxConsumers),
});

const tenantUser = z.strictObject({
  user: userName,
  password,
  /** A user with several roles gets every permission of each (an orchestrating worker: worker + caller). */
  roles: z.array(z.enum(TENANT_ROLES)).min(1, 'must name at least one role').max(TENANT_ROLES.length),
});

const tenant = z.strictObject({
  name: tenantName,
  jetstream: jetstreamLimits.default({
    maxMemory: DEFAULT_TENANT_JETSTREAM.maxMemory,
    maxFile: DEFAULT_TENANT_JETSTREAM.maxFile,
    maxStreams: DEFAULT_TENANT_JETSTREAM.maxStreams,
    maxConsumers: DEFAULT_TENANT_JETSTREAM.maxConsumers,
  }),
  users: z.array(tenantUser).min(1, 'must have at least one user'),
});

/** True when `path` can be written in a configuration string as it is. */
function isPlainPath(path: string): boolean {
  for (const char of path) {
    const code = char.charCodeAt(0);
    if (code < 0x20 || code === 0x7f || char === '"' || char === '\\') return false;
  }
  return true;
}

/** How long a worker (or caller) may take to answer a request it received (default 10 minutes). */
export const DEFAULT_RESPONSE_WINDOW_SECONDS = 600;

/**
 * The tenants a nats-server configuration is generated for (`natsServerConfig`, `baton nats-config`).
 * Tenant and user names are unique; every user belongs to exactly one tenant.
 */
export const natsTenancySchema = z
  .strictObject({
    tenants: z.array(tenant).min(1, 'must list at least one tenant').max(10_000),
    /**
     * How long after receiving a request a worker may still answer it (nats-server `allow_responses`
     * expiry). A core invocation that runs longer cannot reply: keep it above your longest remote run.
     */
    responseWindowSeconds: z
      .number()
      .int()
      .min(1)
      .max(7 * 86_400)
      .default(DEFAULT_RESPONSE_WINDOW_SECONDS),
    /** JetStream store directory of the server (default: nats-server's own, or `-sd`). */
    storeDir: z
      .string()
      .min(1)
      .max(4096)
      .refine(isPlainPath, 'must be a path without quotes, backslashes or control characters')
      .optional(),
  })
  .superRefine((value, context) => {
    const tenants = new Set<string>();
    const users = new Set<string>();
    value.tenants.forEach((entry, index) => {
      if (tenants.has(entry.name)) {
        context.addIssue({
          code: 'custom',
          path: ['tenants', index, 'name'],
          message: `tenant "${entry.name}" is listed twice`,
        });
      }
      tenants.add(entry.name);
      entry.users.forEach((user, userIndex) => {
        // nats-server finds the account from the user name: one name, one tenant.
        if (users.has(user.user)) {
          context.addIssue({
            code: 'custom',
            path: ['tenants', index, 'users', userIndex, 'user'],
            message: `user "${user.user}" is listed twice (user names are unique across all tenants)`,
          });
        }
        users.add(user.user);
      });
    });
  });

/** What a tenants file may say (defaults not applied yet). */
export type NatsTenancyInput = z.input<typeof natsTenancySchema>;
/** The tenants, validated, with every default applied. */
export type NatsTenancy = z.output<typeof natsTenancySchema>;
export type NatsTenant = NatsTenancy['tenants'][number];
export type NatsTenantUser = NatsTenant['users'][number];

/** Validates a tenants description; CONFIG_INVALID says what is wrong where (never a password). */
export function parseNatsTenancy(value: unknown): NatsTenancy {
  const parsed = natsTenancySchema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new BatonError('CONFIG_INVALID', `Invalid tenants: ${summarizeIssues(parsed.error)}`, {
    details: {
      issues: parsed.error.issues
        .slice(0, 10)
        .map((issue) => ({ path: issue.path.map(String), message: issue.message })),
    },
  });
}
