import { closeSync, fchmodSync, openSync, readFileSync, writeSync } from 'node:fs';
import { natsServerConfig, resolveTenancyFile, type TenancyFileUser } from '@baton/bus';
import { CliError, EXIT } from '../errors.js';
import type { Io } from '../io.js';

export interface NatsConfigFlags {
  /** Write the configuration here (owner-only) instead of stdout. */
  out?: string;
  /** Write every user's password and inbox prefix here as JSON (owner-only), for the clients. */
  credentials?: string;
}

/**
 * `baton nats-config <tenants.json>`: the nats-server configuration that isolates the tenants of the
 * file (one account each, least-privilege users per role), printed or written with `--out`. Passwords
 * come from the file, from the environment (`passwordEnv`) or are generated; stderr says which, per user.
 * An invalid file is CONFIG_INVALID (exit 2), naming what is wrong where and never a password.
 */
export async function natsConfigCommand(file: string, flags: NatsConfigFlags, io: Io): Promise<number> {
  const { tenancy, users } = resolveTenancyFile(readTenants(file));
  const text = natsServerConfig(tenancy);
  if (flags.out !== undefined) writeOwnerOnly(flags.out, text, '--out');
  else io.out(text.trimEnd());
  if (flags.credentials !== undefined) {
    writeOwnerOnly(flags.credentials, `${JSON.stringify(credentialsOf(users), null, 2)}\n`, '--credentials');
  }
  for (const user of users)
    io.err(`${user.user} (${user.roles.join('+')} of ${user.tenant}): ${sourceOf(user)}`);
  const generated = users.filter((user) => user.source === 'generated').length;
  if (generated > 0 && flags.credentials === undefined) {
    io.err(
      `${generated} generated password${generated === 1 ? ' is' : 's are'} only in the configuration: pass --credentials <file> to hand them to the clients`,
    );
  }
  if (flags.out !== undefined) {
    io.err(`wrote ${flags.out}: it holds the passwords, keep it readable by the server only`);
  }
  return EXIT.OK;
}

function readTenants(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError(`Cannot read ${file}: ${(error as Error).message}`, EXIT.USAGE);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CliError(
      `${file} is not JSON: ${(error as Error).message}`,
      EXIT.USAGE,
      'Write the tenants as JSON: {"tenants": [{"name": "acme", "users": [{"user": "...", "roles": ["worker"]}]}]}',
    );
  }
}

function sourceOf(user: TenancyFileUser): string {
  if (user.source === 'env') return `password from $${user.env}`;
  if (user.source === 'generated') return 'password generated';
  return 'password from the file';
}

/** What a client needs: who it is, its password, and where its replies go (its namespace is its tenant). */
function credentialsOf(users: readonly TenancyFileUser[]) {
  return users.map((user) => ({
    tenant: user.tenant,
    namespace: user.tenant,
    user: user.user,
    roles: user.roles,
    password: user.password,
    inboxPrefix: user.inboxPrefix,
  }));
}

/** Creates or truncates `path` readable by its owner only — also when it existed with wider rights. */
function writeOwnerOnly(path: string, text: string, flag: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'w', 0o600);
    fchmodSync(fd, 0o600);
    writeSync(fd, text);
  } catch (error) {
    throw new CliError(`Cannot write ${flag} ${path}: ${(error as Error).message}`, EXIT.USAGE);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
