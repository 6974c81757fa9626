import { readFileSync } from 'node:fs';
import { BatonError } from '@baton/core';
import {
  type Authenticator,
  type ConnectionOptions,
  connect,
  headers as createHeaders,
  createInbox,
  credsAuthenticator,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  type Subscription,
} from '@nats-io/transport-node';
import { EventEmitter } from 'eventemitter3';
import { decodeUtf8 } from '../bytes.js';
import {
  callHandler,
  type HandlerErrorListener,
  logHandlerError,
  reportHandlerError,
} from './handler-errors.js';
import { DEFAULT_MAX_PAYLOAD } from './in-process.js';
import {
  busClosed,
  deadlineExceeded,
  noResponders,
  PendingRequests,
  payloadTooLarge,
  type WaitingRequest,
} from './pending.js';
import { checkSubject } from './subject.js';
import type {
  Bus,
  BusHandler,
  BusHeaders,
  BusMessage,
  BusPayload,
  BusStatus,
  BusSubscription,
  PublishOptions,
  RequestOptions,
  SubscribeOptions,
} from './types.js';

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

/** A publish or subscription the NATS server refused for this connection's user. */
export interface PermissionDenial {
  operation: 'publish' | 'subscription';
  subject: string;
  queue?: string;
}

class NatsSubscription implements BusSubscription {
  constructor(
    readonly subject: string,
    readonly queue: string | undefined,
    private readonly sub: Subscription,
  ) {}

  get closed(): boolean {
    return this.sub.isClosed();
  }

  unsubscribe(): void {
    if (!this.sub.isClosed()) this.sub.unsubscribe();
  }
}

/**
 * The Bus over NATS core (`@nats-io/transport-node` v3). One muxed inbox subscription serves every request
 * of the connection. The client reconnects on its own; requests waiting while the connection is down end
 * with BUS_DISCONNECTED at their deadline, and everything on a closed bus fails with BUS_CLOSED.
 */
export class NatsBus implements Bus {
  readonly transport = 'nats' as const;
  readonly system = 'nats';
  private readonly requests: PendingRequests;
  private readonly mux: Subscription;
  private readonly statusEvents = new EventEmitter();
  private readonly denials = new EventEmitter();
  /** Set when the server refused the reply subscription: no request on this bus can get a reply. */
  private noReplies: BatonError | undefined;
  private readonly limit: number | undefined;
  private readonly onHandlerError: HandlerErrorListener;
  private state: BusStatus = 'connected';
  /** Increments on every disconnect, so a request can tell whether the link dropped while it waited. */
  private disconnects = 0;

  private constructor(
    readonly connection: NatsConnection,
    options: NatsBusWrapOptions,
  ) {
    this.limit = options.maxPayload;
    this.ownsConnection = options.ownsConnection ?? false;
    this.onHandlerError = options.onHandlerError ?? logHandlerError;
    this.inboxPrefix = options.inboxPrefix ?? inboxPrefixOf(connection);
    this.requests = new PendingRequests(`${createInbox(this.inboxPrefix)}.`, (subject, timeoutMs) =>
      this.state === 'disconnected'
        ? new BatonError(
            'BUS_DISCONNECTED',
            `Disconnected from NATS; no reply on "${subject}" in ${timeoutMs} ms`,
            {
              details: { subject, timeoutMs },
            },
          )
        : deadlineExceeded(subject, timeoutMs),
    );
    this.mux = connection.subscribe(`${this.requests.prefix}*`, {
      callback: (error, msg) => {
        if (error) return;
        // Every request of the connection is answered through here: a throw would silence them all.
        try {
          const token = msg.subject.slice(this.requests.prefix.length);
          if (msg.data.length === 0 && msg.headers?.code === 503) {
            this.requests.fail(token, noResponders(this.requests.subjectOf(token) ?? msg.subject));
            return;
          }
          this.requests.resolve(token, new NatsMessage(msg));
        } catch (caught) {
          reportHandlerError(this.onHandlerError, caught, msg.subject);
        }
      },
    });
    void this.watchStatus();
    void connection.closed().then(() => this.markClosed());
  }

  private readonly ownsConnection: boolean;
  /** Where replies to this bus go (undefined: nats.js's `_INBOX`). */
  readonly inboxPrefix: string | undefined;

  /** Connects to NATS. A server that cannot be reached fails with BUS_DISCONNECTED, never hangs. */
  static async connect(options: NatsBusOptions): Promise<NatsBus> {
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
    let connection: NatsConnection;
    try {
      connection = await connect(connectionOptions);
    } catch (error) {
      // A refused login is the user's to fix, not a server to wait for: its own code, not retryable.
      const refused = (error as Error)?.name === 'AuthorizationError';
      throw new BatonError(
        refused ? 'BUS_AUTH_FAILED' : 'BUS_DISCONNECTED',
        `Cannot connect to NATS at ${withoutPasswords(options.servers)}: ${(error as Error).message}`,
        {
          cause: error,
          details: { servers: withoutPasswords(options.servers) },
          ...(refused
            ? { hint: "Check the user and password (or the server's authorization settings)" }
            : {}),
        },
      );
    }
    const wrap: NatsBusWrapOptions = { ownsConnection: true };
    if (connectionOptions.inboxPrefix !== undefined) wrap.inboxPrefix = connectionOptions.inboxPrefix;
    if (options.maxPayload !== undefined) wrap.maxPayload = options.maxPayload;
    if (options.onHandlerError !== undefined) wrap.onHandlerError = options.onHandlerError;
    return new NatsBus(connection, wrap);
  }

  /** A bus on a connection you already have; by default closing the bus leaves the connection open. */
  static fromConnection(connection: NatsConnection, options: NatsBusWrapOptions = {}): NatsBus {
    return new NatsBus(connection, options);
  }

  get status(): BusStatus {
    return this.state;
  }

  get maxPayload(): number {
    const server = this.connection.info?.max_payload ?? DEFAULT_MAX_PAYLOAD;
    return this.limit === undefined ? server : Math.min(this.limit, server);
  }

  publish(subject: string, payload: BusPayload, options?: PublishOptions): void {
    this.checkOpen();
    const data = toBytes(payload);
    const max = this.maxPayload;
    if (data.byteLength > max) throw payloadTooLarge(data.byteLength, max, subject);
    try {
      if (options === undefined) this.connection.publish(subject, data);
      else {
        const publishOptions: { headers?: MsgHdrs; reply?: string } = {};
        if (options.headers) publishOptions.headers = toNatsHeaders(options.headers);
        if (options.reply !== undefined) publishOptions.reply = options.reply;
        this.connection.publish(subject, data, publishOptions);
      }
    } catch (error) {
      throw this.translate(error, subject);
    }
  }

  subscribe(subject: string, handler: BusHandler, options?: SubscribeOptions): BusSubscription {
    this.checkOpen();
    checkSubject(subject, true);
    const queue = options?.queue;
    try {
      const sub = this.connection.subscribe(subject, {
        ...(queue === undefined ? {} : { queue }),
        callback: (error, msg) => {
          if (error) return;
          callHandler(handler, new NatsMessage(msg), this.onHandlerError, msg.subject);
        },
      });
      return new NatsSubscription(subject, queue, sub);
    } catch (error) {
      throw this.translate(error, subject);
    }
  }

  request(subject: string, payload: BusPayload, options: RequestOptions): Promise<BusMessage> {
    if (this.state === 'closed') return Promise.reject(busClosed(this.transport));
    if (this.noReplies) return Promise.reject(this.noReplies);
    const data = toBytes(payload);
    const max = this.maxPayload;
    if (data.byteLength > max) return Promise.reject(payloadTooLarge(data.byteLength, max, subject));
    const { reply, token, promise } = this.requests.open(subject, options);
    try {
      if (options.headers) {
        this.connection.publish(subject, data, { reply, headers: toNatsHeaders(options.headers) });
      } else {
        this.connection.publish(subject, data, { reply });
      }
    } catch (error) {
      this.requests.fail(token, this.translate(error, subject));
    }
    return promise;
  }

  createInbox(): string {
    return createInbox(this.inboxPrefix);
  }

  async flush(): Promise<void> {
    this.checkOpen();
    try {
      await this.connection.flush();
    } catch (error) {
      throw this.translate(error, '');
    }
  }

  /**
   * Calls `listener` for every publish or subscription the server refuses (permissions). A refused
   * request fails at once with BUS_PERMISSION_DENIED; a refused subscription ends (nats.js closes it), and
   * this is where that shows.
   */
  onPermissionDenied(listener: (denial: PermissionDenial) => void): () => void {
    this.denials.on('denied', listener);
    return () => {
      this.denials.off('denied', listener);
    };
  }

  onStatus(listener: (status: BusStatus) => void): () => void {
    this.statusEvents.on('status', listener);
    return () => {
      this.statusEvents.off('status', listener);
    };
  }

  async drain(): Promise<void> {
    if (this.state === 'closed') return;
    if (!this.ownsConnection) return this.close();
    try {
      await this.connection.drain();
    } catch {
      await this.connection.close();
    }
    this.markClosed();
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    if (this.ownsConnection) await this.connection.close();
    else if (!this.mux.isClosed()) this.mux.unsubscribe();
    this.markClosed();
  }

  private markClosed(): void {
    if (this.state === 'closed') return;
    this.setStatus('closed');
    this.requests.failAll(busClosed(this.transport));
    this.statusEvents.removeAllListeners();
    this.denials.removeAllListeners();
  }

  private setStatus(status: BusStatus): void {
    if (this.state === status || this.state === 'closed') return;
    this.state = status;
    this.statusEvents.emit('status', status);
  }

  private async watchStatus(): Promise<void> {
    for await (const status of this.connection.status()) {
      if (status.type === 'disconnect') {
        this.disconnects++;
        this.setStatus('disconnected');
      } else if (status.type === 'reconnect') this.setStatus('connected');
      else if (status.type === 'close') this.markClosed();
      else if (status.type === 'error') this.onServerError(status.error);
    }
  }

  /**
   * A permission violation ends what it concerns at once, as a typed error: a refused request would
   * otherwise wait for its deadline, and a refused reply subscription would silence every request.
   */
  private onServerError(error: unknown): void {
    const denial = permissionDenial(error);
    if (!denial) return;
    if (denial.operation === 'publish') {
      this.requests.failSubject(denial.subject, permissionDenied(denial));
    } else if (denial.subject === this.mux.getSubject()) {
      this.noReplies = permissionDenied(denial, 'Connect with the inbox prefix your user may subscribe to');
      this.requests.failAll(this.noReplies);
    }
    try {
      this.denials.emit('denied', denial);
    } catch (caught) {
      reportHandlerError(this.onHandlerError, caught, denial.subject);
    }
  }

  /** How many times the connection dropped since the bus was created. */
  get disconnectCount(): number {
    return this.disconnects;
  }

  /**
   * Requests waiting for a reply that were given a `tag`. NATS core keeps nothing for a client that is
   * reconnecting, so a reply published meanwhile is gone: after a reconnect the requester asks the
   * responder about these and settles them (see agent/reply-recovery.ts).
   */
  waitingRequests(): WaitingRequest[] {
    return this.requests.tagged();
  }

  /** Ends a waiting request with a recovered reply or an error; false when it no longer waits. */
  settleRequest(token: string, outcome: BusMessage | BatonError): boolean {
    return outcome instanceof BatonError
      ? this.requests.fail(token, outcome)
      : this.requests.resolve(token, outcome);
  }

  private checkOpen(): void {
    if (this.state === 'closed' || this.connection.isClosed()) throw busClosed(this.transport);
  }

  private translate(error: unknown, subject: string): BatonError {
    if (error instanceof BatonError) return error;
    const name = (error as Error)?.name ?? '';
    if (
      this.connection.isClosed() ||
      name === 'ClosedConnectionError' ||
      name === 'DrainingConnectionError'
    ) {
      return new BatonError('BUS_CLOSED', `The NATS connection is closed (${subject})`, { cause: error });
    }
    return new BatonError('BUS_DISCONNECTED', `NATS failed on "${subject}": ${(error as Error).message}`, {
      cause: error,
      details: { subject },
    });
  }
}

/** The denial a nats.js error describes, when it is a permission violation. */
export function permissionDenial(error: unknown): PermissionDenial | undefined {
  const candidate = error as { name?: unknown; operation?: unknown; subject?: unknown; queue?: unknown };
  if (candidate?.name !== 'PermissionViolationError' || typeof candidate.subject !== 'string')
    return undefined;
  const denial: PermissionDenial = {
    operation: candidate.operation === 'subscription' ? 'subscription' : 'publish',
    subject: candidate.subject,
  };
  if (typeof candidate.queue === 'string') denial.queue = candidate.queue;
  return denial;
}

/** A bus that reports the publishes and subscriptions its server refuses (NatsBus). */
export interface DenialReporting {
  onPermissionDenied(listener: (denial: PermissionDenial) => void): () => void;
}

export function reportsDenials(bus: object): bus is DenialReporting {
  // Duck-typed rather than `instanceof NatsBus`: a second copy of the package must still count.
  return typeof (bus as Partial<DenialReporting>).onPermissionDenied === 'function';
}

export function permissionDenied(denial: PermissionDenial, hint?: string): BatonError {
  const verb = denial.operation === 'publish' ? 'publish to' : 'subscribe to';
  return new BatonError(
    'BUS_PERMISSION_DENIED',
    `The NATS server does not let this user ${verb} "${denial.subject}"`,
    {
      details: { ...denial },
      hint: hint ?? "Check the user's permissions (baton nats-config) and the namespace it works in",
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
function inboxPrefixOf(connection: NatsConnection): string | undefined {
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

export function toNatsHeaders(values: BusHeaders): MsgHdrs {
  const natsHeaders = createHeaders();
  for (const key in values) natsHeaders.set(key, values[key] as string);
  return natsHeaders;
}

function toBytes(payload: BusPayload): Uint8Array {
  // Buffer.from encodes UTF-8 several times faster than the TextEncoder nats.js would use.
  return typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
}

/** Headers as a plain record with lower-case names. */
export function headersOf(natsHeaders: MsgHdrs | undefined): BusHeaders | undefined {
  if (!natsHeaders) return undefined;
  const headers: BusHeaders = {};
  for (const [key, values] of natsHeaders) {
    if (values.length > 0) headers[key.toLowerCase()] = values[0] as string;
  }
  return headers;
}

/** A received NATS message; headers and text are converted only when read. */
class NatsMessage implements BusMessage {
  private converted: BusHeaders | undefined | null = null;

  constructor(private readonly msg: Msg) {}

  get subject(): string {
    return this.msg.subject;
  }

  get data(): Uint8Array {
    return this.msg.data;
  }

  get size(): number {
    return this.msg.data.byteLength;
  }

  get reply(): string | undefined {
    return this.msg.reply || undefined;
  }

  get headers(): BusHeaders | undefined {
    if (this.converted === null) this.converted = headersOf(this.msg.headers);
    return this.converted;
  }

  string(): string {
    return decodeUtf8(this.msg.data);
  }
}
