import { randomBytes } from 'node:crypto';
import { BatonError } from '@baton/core';
import { z } from 'zod';
import { summarizeIssues } from '../issues.js';
import { tenantInboxPrefix } from './permissions.js';
import { type NatsTenancy, parseNatsTenancy, type TenantRole } from './schema.js';

/** Where a user's password came from: the file itself, an environment variable, or generated. */
export type PasswordSource = 'file' | 'env' | 'generated';

/** One user of a resolved tenants file, with what its clients need to connect. */
export interface TenancyFileUser {
  tenant: string;
  user: string;
  roles: TenantRole[];
  password: string;
  source: PasswordSource;
  /** The variable it was read from (`source: 'env'`). */
  env?: string;
  /** `NatsBus.connect({ inboxPrefix })` for this user. */
  inboxPrefix: string;
}

export interface ResolvedTenancyFile {
  /** Validated, defaults applied, every password filled in: what `natsServerConfig` takes. */
  tenancy: NatsTenancy;
  users: TenancyFileUser[];
}

export interface ResolveTenancyFileOptions {
  /** Where `passwordEnv` is looked up (default `process.env`). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Makes a password for a user that has none (default 32 random base64url characters, 192 bits). */
  generatePassword?: () => string;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** What a tenants file may say about a user's password, checked before the rest of the schema. */
const passwordSource = z
  .looseObject({
    password: z.string().optional(),
    passwordEnv: z.string().regex(ENV_NAME, 'must be an environment variable name').optional(),
  })
  .refine((user) => user.password === undefined || user.passwordEnv === undefined, {
    message: 'give "password" or "passwordEnv", not both',
    path: ['passwordEnv'],
  });

/**
 * A tenants file as `baton nats-config` reads it: the `natsServerConfig` input, where each user's
 * password may instead name an environment variable (`passwordEnv`) or be left out to be generated.
 * CONFIG_INVALID says what is wrong where — an unset variable by name — and never shows a password.
 */
export function resolveTenancyFile(
  input: unknown,
  options: ResolveTenancyFileOptions = {},
): ResolvedTenancyFile {
  const env = options.env ?? process.env;
  const generate = options.generatePassword ?? (() => randomBytes(24).toString('base64url'));
  const sources = new Map<string, { source: PasswordSource; env?: string }>();
  const issues: Array<{ path: PropertyKey[]; message: string }> = [];
  const tenants = (input as { tenants?: unknown } | null)?.tenants;
  // Only well-formed users are resolved here; anything else is left for the schema to name.
  const resolved = Array.isArray(tenants)
    ? {
        ...(input as object),
        tenants: tenants.map((tenant: unknown, t) => {
          const users = (tenant as { users?: unknown } | null)?.users;
          if (!Array.isArray(users)) return tenant;
          return {
            ...(tenant as object),
            users: users.map((user: unknown, u) => {
              if (typeof user !== 'object' || user === null || Array.isArray(user)) return user;
              const path = ['tenants', t, 'users', u];
              const parsed = passwordSource.safeParse(user);
              if (!parsed.success) {
                for (const issue of parsed.error.issues) {
                  issues.push({ path: [...path, ...issue.path], message: issue.message });
                }
                return user;
              }
              const { passwordEnv, ...rest } = parsed.data;
              const key = path.join('.');
              if (rest.password !== undefined) {
                sources.set(key, { source: 'file' });
                return rest;
              }
              if (passwordEnv !== undefined) {
                const value = env[passwordEnv];
                if (value === undefined || value === '') {
                  issues.push({ path: [...path, 'passwordEnv'], message: `$${passwordEnv} is not set` });
                  return rest;
                }
                sources.set(key, { source: 'env', env: passwordEnv });
                return { ...rest, password: value };
              }
              sources.set(key, { source: 'generated' });
              return { ...rest, password: generate() };
            }),
          };
        }),
      }
    : input;
  if (issues.length > 0) {
    throw new BatonError('CONFIG_INVALID', `Invalid tenants: ${summarizeIssues({ issues })}`, {
      details: { issues: issues.slice(0, 10).map((issue) => ({ ...issue, path: issue.path.map(String) })) },
    });
  }
  const tenancy = parseNatsTenancy(resolved);
  const users = tenancy.tenants.flatMap((tenant, t) =>
    tenant.users.map((user, u): TenancyFileUser => {
      const origin = sources.get(['tenants', t, 'users', u].join('.')) ?? { source: 'file' };
      return {
        tenant: tenant.name,
        user: user.user,
        roles: [...user.roles],
        password: user.password,
        ...origin,
        inboxPrefix: tenantInboxPrefix(tenant.name),
      };
    }),
  );
  return { tenancy, users };
}
