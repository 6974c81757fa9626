/** Tenants, users and passwords the tenancy tests share (tenancy.test.ts, tenancy-config.test.ts). */
import { randomBytes } from 'node:crypto';
import type { NatsTenancyInput, SubjectPermissions, TenantRole } from '@baton/bus';
import type { TenantCredentials } from '@baton/bus/testing';

export const ROLES: readonly TenantRole[] = ['worker', 'caller', 'operator'];
export const TENANTS = ['acme', 'globex', 'initech'] as const;
export type Tenant = (typeof TENANTS)[number];

/** Fresh passwords per run: nothing here is a credential anywhere else. */
const passwords = new Map<string, string>();
export const passwordOf = (user: string) => {
  let password = passwords.get(user);
  if (!password) {
    password = `${randomBytes(12).toString('base64url')}$!`;
    passwords.set(user, password);
  }
  return password;
};
export const userOf = (tenant: Tenant, role: TenantRole) => `${tenant}-${role}`;
export const credentials = (tenant: Tenant, role: TenantRole): TenantCredentials => ({
  tenant,
  user: userOf(tenant, role),
  password: passwordOf(userOf(tenant, role)),
  roles: [role],
});

export function tenancy(): NatsTenancyInput {
  return {
    tenants: TENANTS.map((name) => ({
      name,
      jetstream: { maxMemory: '64M', maxFile: '1G', maxStreams: 32, maxConsumers: 128 },
      users: ROLES.map((role) => ({
        user: userOf(name, role),
        password: passwordOf(userOf(name, role)),
        roles: [role],
      })),
    })),
  };
}

/** NATS subject matching of one side of a user's permissions: an allow covers it and no deny does. */
export function may(
  permissions: SubjectPermissions,
  side: 'publish' | 'subscribe',
  subject: string,
): boolean {
  const matches = (pattern: string) => {
    const want = subject.split('.');
    const have = pattern.split('.');
    for (let index = 0; index < have.length; index++) {
      if (have[index] === '>') return index < want.length;
      if (want[index] === undefined || (have[index] !== '*' && have[index] !== want[index])) return false;
    }
    return have.length === want.length;
  };
  return permissions[side].allow.some(matches) && !permissions[side].deny.some((denied) => matches(denied));
}
