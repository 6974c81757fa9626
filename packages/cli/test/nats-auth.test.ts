import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type NatsTenancyInput, natsServerConfig, type TenantRole } from '@baton/bus';
import { type NatsServer, startNatsServer } from '@baton/bus/testing';
import { createProgram, EXIT, formatCliError, type Io, toCliError } from '@baton/cli';
import { nkeys } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, runCli, startCli, waitForStderr } from './cli.js';

const AGENTS = ['researcher', 'writer', 'reviewer'] as const;
const ROLES: readonly TenantRole[] = ['worker', 'caller', 'operator'];
/** Fresh per run (as in the bus's tenancy fixture): nothing here is a credential anywhere else. */
const PASSWORDS = new Map<string, string>(
  ['acme', 'globex'].flatMap((tenant) =>
    ROLES.map((role) => [`${tenant}-${role}`, `${randomBytes(12).toString('base64url')}$!`] as const),
  ),
);
const passwordOf = (user: string) => PASSWORDS.get(user) as string;

function tenancy(): NatsTenancyInput {
  return {
    tenants: ['acme', 'globex'].map((name) => ({
      name,
      jetstream: { maxMemory: '64M', maxFile: '1G', maxStreams: 32, maxConsumers: 128 },
      users: ROLES.map((role) => ({
        user: `${name}-${role}`,
        password: passwordOf(`${name}-${role}`),
        roles: [role],
      })),
    })),
  };
}

/** No login from the machine running the tests: each case says how it logs in. */
const NO_LOGIN = {
  NATS_USER: undefined,
  NATS_PASSWORD: undefined,
  NATS_CREDS: undefined,
  NATS_URL: undefined,
};

describe('the CLI logs in to a multi-tenant nats-server (natsServerConfig)', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'baton-nats-auth-'));
  let nats: NatsServer;
  const workers = new Map<string, ChildProcess>();

  beforeAll(async () => {
    nats = await startNatsServer({
      jetstream: true,
      config: natsServerConfig(tenancy()),
      readyTimeoutMs: 30_000,
    });
    // The workers log in from the environment, as a deployment would hand them their secret.
    const env = { ...NO_LOGIN, NATS_USER: 'acme-worker', NATS_PASSWORD: passwordOf('acme-worker') };
    for (const agent of AGENTS) {
      workers.set(
        agent,
        startCli(['worker', agent, '--nats', nats.url, '--namespace', 'acme', '--heartbeat', '500'], {
          cwd,
          env,
        }),
      );
    }
    await Promise.all(
      [...workers.values()].map((worker) => waitForStderr(worker, /serving .* Ctrl-C to stop/)),
    );
  });
  afterAll(async () => {
    for (const worker of workers.values()) if (worker.exitCode === null) worker.kill('SIGKILL');
    await nats?.stop();
    rmSync(cwd, { recursive: true, force: true });
  });

  it("the tenant's workers serve, and its caller lists them and runs the team on them (tenant inbox prefix)", async () => {
    const login = ['--nats', nats.url, '--namespace', 'acme', '--nats-user', 'acme-caller'];
    const agents = await runCli(['agents', ...login, '--json'], {
      cwd,
      env: { ...NO_LOGIN, NATS_PASSWORD: passwordOf('acme-caller') },
    });
    expect(agents.code, agents.stderr).toBe(0);
    const listed = JSON.parse(agents.stdout) as { agents: { name: string; instances: number }[] };
    expect(listed.agents.map((agent) => [agent.name, agent.instances])).toEqual([
      ['researcher', 1],
      ['reviewer', 1],
      ['writer', 1],
    ]);

    // The password as a flag this time; it is never echoed.
    const run = await runCli(['run', 'research', ...login, '--nats-password', passwordOf('acme-caller')], {
      cwd,
      env: NO_LOGIN,
      timeoutMs: 120_000,
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/\[researcher\] search_corpus\(/);
    expect(run.stdout).toMatch(/Citations: \d+, all resolve to corpus documents/);
    expect(run.stdout).toMatch(/^writer +completed +2 /m);
    for (const output of [run.stdout, run.stderr, agents.stdout, agents.stderr]) {
      for (const secret of PASSWORDS.values()) expect(output).not.toContain(secret);
    }
  }, 180_000);

  it('a wrong password is an auth failure (exit 6) that names the user, never a password, nor "Cannot reach"', async () => {
    const wrong = `wrong-${randomBytes(9).toString('base64url')}`;
    const { code, stdout, stderr } = await runCli(
      ['run', 'research', '--nats', nats.url, '--namespace', 'acme', '--nats-user', 'acme-caller'],
      { cwd, env: { ...NO_LOGIN, NATS_PASSWORD: wrong } },
    );
    expect(code).toBe(EXIT.AUTH_FAILED);
    expect(code).toBe(6);
    expect(stdout).toBe('');
    expect(stderr).toContain(
      `error: NATS at ${nats.url} refused the login of user "acme-caller" (Authorization Violation)`,
    );
    expect(stderr).toMatch(/^hint: Check the user and password/m);
    expect(stderr).not.toContain('Cannot reach');
    expect(stderr).not.toContain(wrong);
    expect(stderr).not.toContain(passwordOf('acme-caller'));
  });

  it("another tenant's password, no login at all, a password in the URL: refused the same way, in-process", async () => {
    const url = new URL(nats.url);
    const inUrl = `nats://acme-caller:${encodeURIComponent('url-password-1')}@${url.host}`;
    const cases: Array<[string[], Record<string, string>, RegExp]> = [
      [
        ['--nats-user', 'acme-caller', '--nats-password', passwordOf('globex-caller')],
        {},
        /refused the login of user "acme-caller"/,
      ],
      [[], {}, /refused the login \(/],
      [['--nats-user', 'acme-caller'], { NATS_PASSWORD: 'env-password-1' }, /refused the login of user/],
    ];
    for (const [flags, env, expected] of cases) {
      const result = await withEnv({ ...NO_LOGIN, ...env }, () =>
        inProcess(['agents', '--nats', nats.url, '--namespace', 'acme', ...flags]),
      );
      expect(result.code, flags.join(' ')).toBe(EXIT.AUTH_FAILED);
      expect(result.stderr).toMatch(expected);
      expect(result.stderr).not.toMatch(/env-password-1|Cannot reach/);
      expect(result.stderr).not.toContain(passwordOf('globex-caller'));
    }
    const viaUrl = await withEnv(NO_LOGIN, () =>
      inProcess(['agents', '--nats', inUrl, '--namespace', 'acme']),
    );
    expect(viaUrl.code).toBe(EXIT.AUTH_FAILED);
    expect(viaUrl.stderr).toContain(`NATS at nats://***@${url.host} refused the login`);
    expect(viaUrl.stderr).not.toContain('url-password-1');
  });

  it("listing another tenant's workers is refused (exit 6), not answered with an empty bus", async () => {
    const login = ['--nats-user', 'acme-caller', '--nats-password', passwordOf('acme-caller')];
    const result = await withEnv(NO_LOGIN, () =>
      inProcess(['agents', '--nats', nats.url, '--namespace', 'globex', ...login]),
    );
    expect(result.code, result.stderr).toBe(EXIT.AUTH_FAILED);
    expect(result.stderr).toMatch(
      /does not let this user (subscribe to|publish to) "(baton\.globex\.|_INBOX_globex)/,
    );
    expect(result.stdout).not.toMatch(/No workers/);
  });

  it('login flags that do not fit together are usage errors (exit 2), before any connection', async () => {
    const cases: Array<[string[], Record<string, string>, RegExp]> = [
      [['--nats-password', 'flag-password-1'], {}, /needs a user/],
      [['--nats-user', 'acme-caller'], {}, /NATS user "acme-caller" needs a password/],
      [['--nats-user', 'acme-caller', '--nats-creds', 'x.creds'], {}, /not both/],
      [['--inbox-prefix', '_INBOX.>'], {}, /inboxPrefix/],
    ];
    for (const [flags, env, expected] of cases) {
      const result = await withEnv({ ...NO_LOGIN, ...env }, () =>
        inProcess(['agents', '--nats', nats.url, ...flags]),
      );
      expect(result.code, flags.join(' ')).toBe(EXIT.USAGE);
      expect(result.stderr).toMatch(expected);
      expect(result.stderr).not.toContain('flag-password-1');
    }
  });

  it('SIGTERM drains each tenant worker and it exits 0', async () => {
    const exits = [...workers.entries()].map(async ([agent, worker]) => {
      const done = collect(worker, 30_000);
      worker.kill('SIGTERM');
      return { agent, ...(await done) };
    });
    for (const exit of await Promise.all(exits)) {
      expect(exit.code, exit.agent).toBe(0);
      expect(exit.stderr).not.toContain(passwordOf('acme-worker'));
    }
  });
});

describe('--nats-creds / NATS_CREDS: a credentials file (nkey seed) logs in', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'baton-nats-creds-'));
  const user = nkeys.createUser();
  let nats: NatsServer;
  beforeAll(async () => {
    nats = await startNatsServer({
      config: `authorization { users: [ { nkey: "${user.getPublicKey()}" } ] }\n`,
      readyTimeoutMs: 30_000,
    });
  });
  afterAll(async () => {
    await nats?.stop();
    rmSync(cwd, { recursive: true, force: true });
  });

  it('logs in with the file; a malformed or missing one is a usage error that never quotes it', async () => {
    const seed = new TextDecoder().decode(user.getSeed());
    // The server checks the nkey signature; outside operator mode the JWT part is not read.
    const creds = join(cwd, 'user.creds');
    writeFileSync(
      creds,
      `-----BEGIN NATS USER JWT-----\nunused.jwt.part\n------END NATS USER JWT------\n\n` +
        `-----BEGIN USER NKEY SEED-----\n${seed}\n------END USER NKEY SEED------\n`,
      { mode: 0o600 },
    );
    const withFlag = await withEnv(NO_LOGIN, () =>
      inProcess(['agents', '--nats', nats.url, '--nats-creds', creds]),
    );
    expect(withFlag.code, withFlag.stderr).toBe(EXIT.OK);
    expect(withFlag.stdout).toContain('No workers on');
    const fromEnv = await withEnv({ ...NO_LOGIN, NATS_CREDS: creds }, () =>
      inProcess(['agents', '--nats', nats.url]),
    );
    expect(fromEnv.code, fromEnv.stderr).toBe(EXIT.OK);

    const other = join(cwd, 'other.creds');
    const stranger = new TextDecoder().decode(nkeys.createUser().getSeed());
    writeFileSync(other, `----- A -----\nx\n------ A ------\n----- B -----\n${stranger}\n------ B ------\n`);
    const refused = await withEnv(NO_LOGIN, () =>
      inProcess(['agents', '--nats', nats.url, '--nats-creds', other]),
    );
    expect(refused.code).toBe(EXIT.AUTH_FAILED);
    expect(refused.stderr).toContain(`refused the login with the credentials file ${other}`);

    const garbage = join(cwd, 'garbage.creds');
    writeFileSync(garbage, `not a creds file but ${seed}`);
    const malformed = await withEnv(NO_LOGIN, () =>
      inProcess(['agents', '--nats', nats.url, '--nats-creds', garbage]),
    );
    expect(malformed.code).toBe(EXIT.USAGE);
    expect(malformed.stderr).toContain('is not a NATS credentials file');
    expect(malformed.stderr).not.toContain(seed);
    const missing = await withEnv(NO_LOGIN, () =>
      inProcess(['agents', '--nats', nats.url, '--nats-creds', join(cwd, 'nowhere.creds')]),
    );
    expect(missing.code).toBe(EXIT.USAGE);
    expect(missing.stderr).toMatch(/nowhere\.creds cannot be read \(ENOENT\)/);
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
