import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NatsBus, subjects } from '@baton/bus';
import { findNatsServer, startNatsServer, TenantClient } from '@baton/bus/testing';
import { createProgram, formatCliError, type Io, toCliError } from '@baton/cli';
import { BatonError } from '@baton/core';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './cli.js';

const cwd = mkdtempSync(join(tmpdir(), 'baton-nats-config-'));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

/** A password only this run knows, handed to the CLI through the environment. */
const FROM_ENV = `env-${Math.random().toString(36).slice(2)}-password`;
const env = { BATON_TEST_WORKER_PASSWORD: FROM_ENV };

function tenantsFile(name: string, content: unknown): string {
  const path = join(cwd, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return path;
}

const tenants = {
  tenants: [
    {
      name: 'acme',
      jetstream: { maxFile: '1G', maxMemory: '64M' },
      users: [
        { user: 'acme-worker', roles: ['worker'], passwordEnv: 'BATON_TEST_WORKER_PASSWORD' },
        { user: 'acme-caller', roles: ['caller'] },
        { user: 'acme-ops', roles: ['operator'], password: 'ops-password-from-file' },
      ],
    },
    { name: 'globex', users: [{ user: 'globex-caller', roles: ['caller'] }] },
  ],
};

interface Credentials {
  tenant: string;
  namespace: string;
  user: string;
  roles: Array<'worker' | 'caller' | 'operator'>;
  password: string;
  inboxPrefix: string;
}

describe('baton nats-config', () => {
  it('prints a configuration nats-server runs with; passwords from the file, the environment or generated, and says which', async () => {
    const file = tenantsFile('tenants.json', tenants);
    const credentialsFile = join(cwd, 'credentials.json');
    const { code, stdout, stderr } = await runCli(['nats-config', file, '--credentials', credentialsFile], {
      cwd,
      env,
    });
    expect(code).toBe(0);
    expect(stderr).toContain('acme-worker (worker of acme): password from $BATON_TEST_WORKER_PASSWORD');
    expect(stderr).toContain('acme-caller (caller of acme): password generated');
    expect(stderr).toContain('acme-ops (operator of acme): password from the file');
    expect(stderr).toContain('globex-caller (caller of globex): password generated');
    // stderr names where passwords came from, never a password.
    expect(stderr).not.toContain(FROM_ENV);
    expect(stdout).toContain(`password: "${FROM_ENV}"`);
    expect(stdout).toContain('"acme" {');
    expect(stdout).toContain('"globex" {');

    expect(statSync(credentialsFile).mode & 0o777).toBe(0o600);
    const credentials = JSON.parse(readFileSync(credentialsFile, 'utf8')) as Credentials[];
    expect(credentials.map((c) => [c.user, c.tenant, c.inboxPrefix])).toEqual([
      ['acme-worker', 'acme', '_INBOX_acme'],
      ['acme-caller', 'acme', '_INBOX_acme'],
      ['acme-ops', 'acme', '_INBOX_acme'],
      ['globex-caller', 'globex', '_INBOX_globex'],
    ]);
    const generated = credentials.filter((c) => c.user.endsWith('-caller')).map((c) => c.password);
    expect(new Set(generated).size).toBe(2);
    for (const password of generated) expect(password).toMatch(/^[A-Za-z0-9_-]{32}$/);

    // The printed text is a configuration nats-server starts with, and its users log in with their passwords.
    const server = await startNatsServer({ jetstream: true, config: stdout });
    const clients: TenantClient[] = [];
    try {
      for (const entry of credentials) clients.push(await TenantClient.connect(server.url, entry));
      const [worker, caller, , intruder] = clients as [
        TenantClient,
        TenantClient,
        TenantClient,
        TenantClient,
      ];
      // Inside acme a caller reaches its workers' subjects; globex's caller is refused.
      const listening = worker.bus.subscribe(subjects.registryQuery('acme'), (message) => {
        if (message.reply) worker.bus.publish(message.reply, 'here');
      });
      await worker.bus.flush();
      const reply = await caller.bus.request(subjects.registryQuery('acme'), '{}', { timeoutMs: 20_000 });
      expect(reply.string()).toBe('here');
      const refused = await intruder.bus
        .request(subjects.registryQuery('acme'), '{}', { timeoutMs: 60_000 })
        .catch((error: unknown) => error);
      expect((refused as BatonError).code).toBe('BUS_PERMISSION_DENIED');
      listening.unsubscribe();
      const wrong = await NatsBus.connect({
        servers: server.url,
        connectTimeoutMs: 20_000,
        connection: { user: 'acme-ops', pass: 'not-the-password' },
      }).catch((error: unknown) => error);
      expect(wrong).toBeInstanceOf(BatonError);
      expect((wrong as BatonError).code).toBe('BUS_AUTH_FAILED');
    } finally {
      await Promise.all(clients.map((client) => client.close()));
      await server.stop();
    }
  });

  it('--out writes the configuration owner-only; nats-server -t accepts it; the same file prints the same text', async () => {
    const file = tenantsFile('fixed.json', {
      tenants: [
        {
          name: 'acme',
          users: [{ user: 'acme-worker', roles: ['worker'], passwordEnv: 'BATON_TEST_WORKER_PASSWORD' }],
        },
      ],
    });
    const out = join(cwd, 'nats.conf');
    writeFileSync(out, 'an older, world-readable file', { mode: 0o644 });
    const written = await runCli(['nats-config', file, '--out', out], { cwd, env });
    expect(written.code).toBe(0);
    expect(written.stdout).toBe('');
    expect(written.stderr).toContain(`wrote ${out}`);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const printed = await withEnv(env, () => inProcess(['nats-config', file]));
    const again = await withEnv(env, () => inProcess(['nats-config', file]));
    expect(printed.code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(printed.stdout);
    expect(again.stdout).toBe(printed.stdout);
    const checked = spawnSync(findNatsServer(), ['-t', '-c', out], { encoding: 'utf8', timeout: 60_000 });
    expect(`${checked.stdout}${checked.stderr}`).toContain('is valid');
    expect(checked.status).toBe(0);
  });

  it('an invalid file: exit 2 and what is wrong where, never a password', async () => {
    const user = { user: 'acme-worker', roles: ['worker'] };
    const short = { tenants: [{ name: 'acme', users: [{ ...user, password: 'short' }] }] };
    // One through the real binary, the exit code included; the rest through the same command in-process.
    const run = await runCli(['nats-config', tenantsFile('short.json', short)], { cwd });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      'error: Invalid tenants: tenants.0.users.0.password: must be at least 8 characters\n',
    );
    const cases: Array<[string, unknown, RegExp]> = [
      ['not-json.json', '{"tenants": [', /not JSON/],
      [
        'dotted.json',
        { tenants: [{ name: 'a.b', users: [user] }] },
        /tenants\.0\.name: must be 1–128 letters/,
      ],
      [
        'unset.json',
        { tenants: [{ name: 'acme', users: [{ ...user, passwordEnv: 'BATON_TEST_UNSET' }] }] },
        /tenants\.0\.users\.0\.passwordEnv: \$BATON_TEST_UNSET is not set/,
      ],
      [
        'both.json',
        { tenants: [{ name: 'acme', users: [{ ...user, password: 'long-enough-1', passwordEnv: 'X' }] }] },
        /give "password" or "passwordEnv", not both/,
      ],
      [
        'twice.json',
        {
          tenants: [
            { name: 'acme', users: [user] },
            { name: 'globex', users: [user] },
          ],
        },
        /user "acme-worker" is listed twice/,
      ],
      [
        'role.json',
        { tenants: [{ name: 'acme', users: [{ ...user, roles: ['root'] }] }] },
        /tenants\.0\.users\.0\.roles\.0/,
      ],
      [
        'extra.json',
        { tenants: [{ name: 'acme', users: [{ ...user, pasword: 'typo-password' }] }] },
        /tenants\.0\.users\.0/,
      ],
      ['nowhere.json', undefined, /Cannot read .*nowhere\.json/],
    ];
    for (const [name, content, expected] of cases) {
      const file = content === undefined ? join(cwd, name) : tenantsFile(name, content);
      const result = await withEnv({ BATON_TEST_UNSET: undefined }, () => inProcess(['nats-config', file]));
      expect(result.code, name).toBe(2);
      expect(result.stdout, name).toBe('');
      expect(result.stderr, name).toMatch(/^error: /);
      expect(result.stderr, name).toMatch(expected);
      expect(result.stderr, name).not.toMatch(/long-enough-1|typo-password/);
    }
  });
});

/** Runs `baton <args>` in this process, as bin.ts does: the exit code and what it wrote. */
async function inProcess(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: Io = {
    out: (text) => {
      stdout += `${text}\n`;
    },
    err: (text) => {
      stderr += `${text}\n`;
    },
    interactive: false,
  };
  let code = -1;
  try {
    await createProgram(io, (exit) => {
      code = exit;
    }).parseAsync(['node', 'baton', ...args]);
  } catch (error) {
    const failure = toCliError(error);
    stderr += `${formatCliError(failure)}\n`;
    code = failure.exitCode;
  }
  return { code, stdout, stderr };
}

/** Runs `body` with these environment variables set (or unset), then puts them back. */
async function withEnv<T>(vars: Record<string, string | undefined>, body: () => Promise<T>): Promise<T> {
  const before = Object.fromEntries(Object.keys(vars).map((key) => [key, process.env[key]]));
  const apply = (values: Record<string, string | undefined>) => {
    for (const [key, value] of Object.entries(values)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
  apply(vars);
  try {
    return await body();
  } finally {
    apply(before);
  }
}
