import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  kvBuckets,
  mergePermissions,
  natsServerConfig,
  parseNatsTenancy,
  rolePermissions,
  subjects,
  tenantInboxPrefix,
  userPermissions,
} from '@baton/bus';
import { findNatsServer } from '@baton/bus/testing';
import { BatonError } from '@baton/core';
import { describe, expect, it } from 'vitest';
import { may, tenancy } from './tenancy-fixtures.js';

function configError(input: unknown): BatonError {
  try {
    natsServerConfig(input);
  } catch (error) {
    expect(error).toBeInstanceOf(BatonError);
    return error as BatonError;
  }
  throw new Error('natsServerConfig accepted an invalid input');
}

describe('natsServerConfig', () => {
  const minimal = (users: unknown, extra: Record<string, unknown> = {}) => ({
    tenants: [{ name: 'acme', users, ...extra }],
  });
  const worker = { user: 'w', password: 'password-1', roles: ['worker'] };

  it('is deterministic: the same tenants give the same text, byte for byte', () => {
    const first = natsServerConfig(tenancy());
    expect(natsServerConfig(structuredClone(tenancy()))).toBe(first);
    expect(first.endsWith('\n')).toBe(true);
    // One change in the input is one change in the text.
    const other = tenancy();
    (other.tenants[1] as { jetstream: { maxStreams: number } }).jetstream.maxStreams = 33;
    const changed = natsServerConfig(other)
      .split('\n')
      .filter((line, index) => line !== first.split('\n')[index]);
    expect(changed).toEqual(['      max_streams: 33']);
  });

  it('writes one account per tenant with its JetStream limits, users with their roles, and no anonymous user', () => {
    const text = natsServerConfig({
      tenants: [
        {
          name: 'acme',
          jetstream: { maxMemory: '512M', maxFile: '10G', maxStreams: 7, maxConsumers: 70 },
          users: [worker, { user: 'ops@acme', password: 'password-2', roles: ['operator'] }],
        },
        { name: '123', users: [{ user: 'c', password: 'password-3', roles: ['caller'] }] },
      ],
      responseWindowSeconds: 90,
      storeDir: '/var/lib/nats',
    });
    expect(text).toContain('store_dir: "/var/lib/nats"');
    expect(text).toContain('"acme" {');
    expect(text).toContain('"123" {');
    expect(text).toContain(`max_memory: ${512 * 2 ** 20}`);
    expect(text).toContain(`max_file: ${10 * 2 ** 30}`);
    expect(text).toContain('max_streams: 7');
    expect(text).toContain('max_consumers: 70');
    expect(text).toContain('# inbox prefix: _INBOX_acme');
    expect(text).toContain('user: "ops@acme"');
    expect(text).not.toMatch(/no_auth_user|system_account/);
    // Workers and callers answer what they are asked, within the window; operators need no tracking.
    expect(text.match(/allow_responses: \{ max: 256, expires: "90s" \}/g)).toHaveLength(2);
    expect(text.match(/allow_responses/g)).toHaveLength(2);
  });

  it('nats-server accepts the generated configuration (-t)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'baton-tenancy-conf-'));
    try {
      const file = join(dir, 'nats.conf');
      writeFileSync(file, natsServerConfig({ ...tenancy(), storeDir: join(dir, 'js') }), { mode: 0o600 });
      const checked = spawnSync(findNatsServer(), ['-t', '-c', file], { encoding: 'utf8', timeout: 60_000 });
      expect(`${checked.stdout}${checked.stderr}`).toContain('is valid');
      expect(checked.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses invalid tenants with CONFIG_INVALID, saying where, never repeating a password', () => {
    const cases: Array<[string, unknown, string]> = [
      ['not an object', 'tenants', ''],
      ['no tenants', { tenants: [] }, 'tenants'],
      ['a dotted tenant', { tenants: [{ name: 'a.b', users: [worker] }] }, 'tenants.0.name'],
      [
        'a tenant twice',
        { tenants: [minimal([worker]).tenants[0], { name: 'acme', users: [{ ...worker, user: 'x' }] }] },
        'tenants.1.name',
      ],
      [
        'a user in two tenants',
        { tenants: [minimal([worker]).tenants[0], { name: 'b', users: [worker] }] },
        'tenants.1.users.0.user',
      ],
      ['no users', minimal([]), 'tenants.0.users'],
      ['no roles', minimal([{ ...worker, roles: [] }]), 'tenants.0.users.0.roles'],
      ['an unknown role', minimal([{ ...worker, roles: ['admin'] }]), 'tenants.0.users.0.roles.0'],
      ['a short password', minimal([{ ...worker, password: 'short' }]), 'tenants.0.users.0.password'],
      [
        'a quote in a password',
        minimal([{ ...worker, password: 'pass"word-1' }]),
        'tenants.0.users.0.password',
      ],
      [
        'a space in a password',
        minimal([{ ...worker, password: 'pass word-1' }]),
        'tenants.0.users.0.password',
      ],
      ['an unknown key', minimal([{ ...worker, pasword: 'x' }]), 'tenants.0.users.0'],
      ['a bad size', minimal([worker], { jetstream: { maxFile: 'lots' } }), 'tenants.0.jetstream.maxFile'],
      [
        'a huge size',
        minimal([worker], { jetstream: { maxFile: '999999999999999T' } }),
        'tenants.0.jetstream.maxFile',
      ],
      ['a quote in the store dir', { ...minimal([worker]), storeDir: '/tmp/"x' }, 'storeDir'],
      ['a zero response window', { ...minimal([worker]), responseWindowSeconds: 0 }, 'responseWindowSeconds'],
    ];
    for (const [name, input, path] of cases) {
      const error = configError(input);
      expect(error.code, name).toBe('CONFIG_INVALID');
      expect(error.category, name).toBe('user');
      const issues = (error.details as { issues: Array<{ path: string[] }> }).issues;
      expect(
        issues.map((issue) => issue.path.join('.')),
        name,
      ).toContain(path);
      expect(JSON.stringify(error.toJSON()), name).not.toMatch(/password-1|pass"word|pass word|short"/);
    }
    expect(() => parseNatsTenancy(minimal([worker]))).not.toThrow();
  });

  it('roles: only operators may publish kill; workers may not cancel, callers may (their abort must reach the run)', () => {
    const ns = 'acme';
    const worker = rolePermissions(ns, 'worker');
    const caller = rolePermissions(ns, 'caller');
    const operator = rolePermissions(ns, 'operator');
    const kill = subjects.kill(ns);
    const cancel = subjects.runCancel(ns, 'run-1');
    expect([worker, caller, operator].map((p) => may(p, 'publish', kill))).toEqual([false, false, true]);
    expect([worker, caller, operator].map((p) => may(p, 'publish', cancel))).toEqual([false, true, true]);
    // Workers hear both; nobody of acme reaches another tenant's subjects or inboxes.
    expect(may(worker, 'subscribe', kill) && may(worker, 'subscribe', cancel)).toBe(true);
    for (const permissions of [worker, caller, operator]) {
      for (const side of ['publish', 'subscribe'] as const) {
        expect(may(permissions, side, subjects.invoke('globex', 'echo'))).toBe(false);
        expect(may(permissions, side, `${tenantInboxPrefix('globex')}.x`)).toBe(false);
        expect(may(permissions, side, '_INBOX.x')).toBe(false);
        expect(may(permissions, side, '$SYS.REQ.SERVER.PING')).toBe(false);
      }
    }
    // Workers publish durable replies only into the tenant's durable inboxes; no one may delete a stream
    // but the operator.
    expect(may(worker, 'publish', `${tenantInboxPrefix(ns)}.durable.abc.1`)).toBe(true);
    expect(may(worker, 'publish', `${tenantInboxPrefix(ns)}.abc.1`)).toBe(false);
    const deleteAudit = '$JS.API.STREAM.DELETE.BATON_acme_AUDIT';
    expect([worker, caller, operator].map((p) => may(p, 'publish', deleteAudit))).toEqual([
      false,
      false,
      true,
    ]);
    const purge = (stream: string) =>
      [worker, caller, operator].map((p) => may(p, 'publish', `$JS.API.STREAM.PURGE.${stream}`));
    expect(purge('BATON_acme_AUDIT')).toEqual([false, false, true]);
    expect(purge('BATON_acme_JOURNAL')).toEqual([false, false, true]);
    for (const bucket of Object.values(kvBuckets(ns))) {
      expect(
        [worker, caller, operator].map((p) => may(p, 'publish', `$KV.${bucket}.k`)),
        bucket,
      ).toEqual([true, true, true]);
      expect(may(worker, 'publish', `$KV.${bucket.replace(ns, 'globex')}.k`)).toBe(false);
    }
    // Erasing a person's memory leaves nothing: the memory bucket may be purged by subject.
    expect(purge('KV_BATON_acme_MEMORY')).toEqual([true, true, true]);
  });

  it('a user with several roles gets their union: worker + caller may cancel but never kill', () => {
    const both = userPermissions('acme', { roles: ['worker', 'caller'] });
    expect(may(both, 'publish', subjects.runCancel('acme', 'r'))).toBe(true);
    expect(may(both, 'publish', subjects.kill('acme'))).toBe(false);
    const admin = mergePermissions([rolePermissions('acme', 'operator'), rolePermissions('acme', 'caller')]);
    expect(may(admin, 'publish', subjects.kill('acme'))).toBe(true);
    // Grants another one covers are left out: the operator's `baton.acme.>` once, not every caller subject.
    expect(admin.publish.allow).not.toContain(subjects.invoke('acme', '*'));
    expect(admin.publish.allow).toContain('baton.acme.>');
    expect(admin.publish.deny).toEqual([]);
  });
});
