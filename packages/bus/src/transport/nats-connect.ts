import { readFileSync } from 'node:fs';
import { BatonError } from '@baton/core';
import {
  type Authenticator,
  type ConnectionOptions,
  credsAuthenticator,
  type NatsConnection,
} from '@nats-io/transport-node';
import type { HandlerErrorListener } from './handler-errors.js';

export interface NatsBusOptions {
  /** `nats://host:port`, or several for a cluster. */
  servers: string | string[];
  /** Client name shown by the server's monitoring. */
  name?: string;
  /** Largest payload this bus sends or accepts (default: the server's max_payload, usually 1 MiB). */
  maxPayload?: number;
  /** How long the first connection may take (default 5 s). */
  connectTimeoutMs?: number;
  /** Pause between reconnect attempts (default 250 ms). */
  reconnectTimeWaitMs?: number;
  /** Reconnect attempts per server before giving up; -1 (default) retries forever. */
  maxReconnectAttempts?: number;
  /**
   * Prefix of every reply subject this bus (and JetStream on its connection) listens on (default
   * `_INBOX`). A user of a tenant config from `natsServerConfig` may subscribe only to its tenant's
   * prefix: pass `tenantInboxPrefix(namespace)`, or requests never get their replies.
   */
  inboxPrefix?: string;
  /** Any other nats.js connection option (credentials, TLS, ping interval...). */
  connection?: Partial<ConnectionOptions>;
  /**
   * A NATS credentials file (`.creds`: a user JWT and its nkey seed, as `nsc` writes) to log in with. Read
   * once here; an unreadable file is CONFIG_INVALID.
   */
  credsFile?: string;
  /** Where errors thrown by subscription handlers go (default: console.error), as on InProcessBus. */
  onHandlerError?: HandlerErrorListener;
}

export interface NatsBusWrapOptions {
  maxPayload?: number;
  /** The connection's inbox prefix, when it was connected with one (read from the connection otherwise). */
  inboxPrefix?: string;
  /** Close the connection when the bus closes (default false: the caller owns it). */
  ownsConnection?: boolean;
  /** Where errors thrown by subscription handlers go (default: console.error), as on InProcessBus. */
  onHandlerError?: HandlerErrorListener;
}

/** The nats.js connection options of `NatsBus.connect`; a bad credentials file or inbox prefix throws. */
export function connectionOptionsOf(options: NatsBusOptions): ConnectionOptions {
  const connectionOptions: ConnectionOptions = {
    servers: options.servers,
    timeout: options.connectTimeoutMs ?? 5_000,
    reconnect: true,
    maxReconnectAttempts: options.maxReconnectAttempts ?? -1,
    reconnectTimeWait: options.reconnectTimeWaitMs ?? 250,
    reconnectJitter: 100,
    // nats.js builds an Error (a stack trace) for every request and timeout up front, in case it fails;
    // that was a fifth of a journal append's CPU. Failures reach callers as BatonErrors with context.
    noAsyncTraces: true,
    ...options.connection,
  };
  if (options.name !== undefined) connectionOptions.name = options.name;
  if (options.credsFile !== undefined) connectionOptions.authenticator = credsFrom(options.credsFile);
  if (options.inboxPrefix !== undefined)
    connectionOptions.inboxPrefix = checkInboxPrefix(options.inboxPrefix);
  return connectionOptions;
}

/** Why `NatsBus.connect` failed, as a typed error that shows no password. */
export function connectFailed(error: unknown, servers: string | string[]): BatonError {
  // A refused login is the user's to fix, not a server to wait for: its own code, not retryable.
  const refused = (error as Error)?.name === 'AuthorizationError';
  return new BatonError(
    refused ? 'BUS_AUTH_FAILED' : 'BUS_DISCONNECTED',
    `Cannot connect to NATS at ${withoutPasswords(servers)}: ${(error as Error).message}`,
    {
      cause: error,
      details: { servers: withoutPasswords(servers) },
      ...(refused ? { hint: "Check the user and password (or the server's authorization settings)" } : {}),
    },
  );
}

/**
 * The login of a credentials file, checked now: nats.js would parse it only while connecting, and a
 * malformed file would then look like a server that cannot be reached.
 */
function credsFrom(path: string): Authenticator {
  const invalid = (why: string) =>
    new BatonError('CONFIG_INVALID', `NatsBus: the credentials file ${path} ${why}`, {
      details: { field: 'credsFile' },
      hint: 'Give the .creds file of a NATS user (a user JWT and its nkey seed), as nsc writes it',
    });
  let contents: Uint8Array;
  try {
    contents = readFileSync(path);
  } catch (error) {
    throw invalid(`cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const authenticator = credsAuthenticator(contents);
  try {
    authenticator('check');
  } catch {
    // Not the parser's message: it could quote the file, and the file holds a secret seed.
    throw invalid('is not a NATS credentials file');
  }
  return authenticator;
}

/** Server URLs as they may be shown: `nats://user:pass@host` keeps its host, not its credentials. */
function withoutPasswords(servers: string | string[]): string {
  return String(servers).replace(/\/\/[^/@,]*@/g, '//***@');
}

/** The inbox prefix a nats.js connection was made with (its options are not part of the typed interface). */
export function inboxPrefixOf(connection: NatsConnection): string | undefined {
  const prefix = (connection as { options?: { inboxPrefix?: unknown } }).options?.inboxPrefix;
  return typeof prefix === 'string' && prefix !== '' ? prefix : undefined;
}

/** Subject tokens without wildcards: a prefix with one would subscribe to other clients' replies. */
const INBOX_PREFIX = /^[A-Za-z0-9_$-]{1,128}(\.[A-Za-z0-9_$-]{1,128}){0,7}$/;

function checkInboxPrefix(prefix: string): string {
  if (!INBOX_PREFIX.test(prefix)) {
    throw new BatonError(
      'CONFIG_INVALID',
      'NatsBus: "inboxPrefix" must be subject tokens of letters, digits, "_", "-" or "$", with no wildcards',
      { details: { field: 'inboxPrefix' } },
    );
  }
  return prefix;
}
