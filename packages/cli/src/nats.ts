import { DEFAULT_NAMESPACE, NatsBus, type NatsBusOptions, tenantInboxPrefix } from '@baton/bus';
import { BatonError } from '@baton/core';
import { CliError, EXIT, toCliError } from './errors.js';
import type { NatsAuthFlags } from './nats-flags.js';

/** The login flags, and the namespace the inbox prefix of a tenant user follows. */
export interface NatsConnectFlags extends NatsAuthFlags {
  namespace?: string;
}

/** Who logs in, for messages: never the password. */
interface Login {
  options: Pick<NatsBusOptions, 'connection' | 'credsFile' | 'inboxPrefix'>;
  who: string;
  hint: string;
}

/**
 * Connects to NATS or fails at once with a clear message: an unreachable server is exit code 3, a refused
 * login exit code 6, never a hang. After the first connection the client reconnects on its own.
 */
export async function connectNats(
  url: string,
  clientName: string,
  flags: NatsConnectFlags = {},
): Promise<NatsBus> {
  const login = natsLogin(url, flags);
  const shown = withoutPassword(url);
  try {
    return await NatsBus.connect({
      servers: url,
      name: clientName,
      // A closed port fails at once whatever this is; the limit is for the handshake, which a loaded
      // machine (the CLI loads OpenTelemetry meanwhile) can take several seconds to finish.
      connectTimeoutMs: 10_000,
      ...login.options,
    });
  } catch (error) {
    if (!BatonError.is(error, 'BUS_AUTH_FAILED') && !BatonError.is(error, 'BUS_DISCONNECTED')) {
      throw toCliError(error);
    }
    const reason = error.message.replace(/^Cannot connect to NATS at \S+: /, '');
    if (error.code === 'BUS_AUTH_FAILED') {
      throw new CliError(
        `NATS at ${shown} refused the login${login.who} (${reason})`,
        EXIT.AUTH_FAILED,
        login.hint,
      );
    }
    throw new CliError(`Cannot reach NATS at ${shown} (${reason})`, EXIT.UNAVAILABLE, unreachableHint(url));
  }
}

/**
 * The login the flags (else the environment) give. A flag of one kind of login hides the environment's
 * other kind, so `--nats-creds` works in a shell that exports NATS_USER. A logged-in user gets its
 * tenant's inbox prefix: a user of a `baton nats-config` configuration may hear replies there only.
 */
function natsLogin(url: string, flags: NatsConnectFlags): Login {
  const creds = flags.natsCreds ?? (flags.natsUser === undefined ? fromEnv('NATS_CREDS') : undefined);
  const user = flags.natsUser ?? (flags.natsCreds === undefined ? fromEnv('NATS_USER') : undefined);
  const password =
    flags.natsPassword ?? (flags.natsCreds === undefined ? fromEnv('NATS_PASSWORD') : undefined);
  if (creds !== undefined && (user !== undefined || password !== undefined)) {
    throw new CliError(
      'Give a credentials file (--nats-creds, NATS_CREDS) or a user and password (--nats-user, NATS_USER), not both',
      EXIT.USAGE,
    );
  }
  if (user === undefined && password !== undefined) {
    throw new CliError(
      'A NATS password (--nats-password, NATS_PASSWORD) needs a user: --nats-user or NATS_USER',
      EXIT.USAGE,
    );
  }
  if (user !== undefined && password === undefined) {
    throw new CliError(`NATS user "${user}" needs a password: NATS_PASSWORD or --nats-password`, EXIT.USAGE);
  }
  const loggedIn = creds !== undefined || user !== undefined || LOGIN_IN_URL.test(url);
  const inboxPrefix =
    flags.inboxPrefix ?? (loggedIn ? tenantInboxPrefix(flags.namespace ?? DEFAULT_NAMESPACE) : undefined);
  const options: Login['options'] = inboxPrefix === undefined ? {} : { inboxPrefix };
  if (creds !== undefined) {
    return {
      options: { ...options, credsFile: creds },
      who: ` with the credentials file ${creds}`,
      hint: 'Check the credentials file (--nats-creds, NATS_CREDS) and that the server trusts its account',
    };
  }
  if (user !== undefined && password !== undefined) {
    return {
      options: { ...options, connection: { user, pass: password } },
      who: ` of user "${user}"`,
      hint: "Check the user and password (--nats-user/NATS_USER, --nats-password/NATS_PASSWORD); `baton nats-config --credentials` lists each user's",
    };
  }
  return {
    options,
    who: '',
    hint: LOGIN_IN_URL.test(url)
      ? 'Check the user and password in the --nats URL'
      : 'The server wants a login: --nats-user and NATS_PASSWORD, or --nats-creds',
  };
}

/**
 * For a server on this machine, the command that starts one there (with JetStream, which the durable
 * features need); for another host, which URL was tried and where it came from.
 */
function unreachableHint(url: string): string {
  let host = '';
  let port = '4222';
  try {
    const parsed = new URL(
      url
        .split(',')[0]
        ?.trim()
        .replace(/^(nats|tls):/, 'http:') ?? url,
    );
    host = parsed.hostname;
    if (parsed.port) port = parsed.port;
  } catch {
    return 'Check the --nats URL (or NATS_URL): it does not parse as nats://host:port';
  }
  if (host === '127.0.0.1' || host === 'localhost' || host === '::1' || host === '[::1]') {
    return `Start a local server: nats-server -js -p ${port}`;
  }
  return `Check that a NATS server listens on ${host}:${port}, or pass another --nats URL (or NATS_URL)`;
}

/** `nats://user:pass@host`: nats.js logs in with what the URL carries. */
const LOGIN_IN_URL = /\/\/[^/@]+@/;

function fromEnv(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value === '' ? undefined : value;
}

/** The URL as it may be shown: `nats://user:pass@host` keeps its host, not its credentials. */
export function withoutPassword(url: string): string {
  return url.replace(/\/\/[^/@]*@/g, '//***@');
}
