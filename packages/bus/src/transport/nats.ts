import { BatonError } from '@baton/core';
import {
  connect,
  createInbox,
  type MsgHdrs,
  type NatsConnection,
  type Subscription,
} from '@nats-io/transport-node';
import { EventEmitter } from 'eventemitter3';
import {
  callHandler,
  type HandlerErrorListener,
  logHandlerError,
  reportHandlerError,
} from './handler-errors.js';
import { DEFAULT_MAX_PAYLOAD } from './in-process.js';
import { NatsMessage, NatsSubscription, toBytes, toNatsHeaders } from './nats-adapters.js';
import {
  connectFailed,
  connectionOptionsOf,
  inboxPrefixOf,
  type NatsBusOptions,
  type NatsBusWrapOptions,
} from './nats-connect.js';
import {
  busClosed,
  deadlineExceeded,
  noResponders,
  PendingRequests,
  payloadTooLarge,
  type WaitingRequest,
} from './pending.js';
import { type PermissionDenial, permissionDenial, permissionDenied } from './permission-denials.js';
import { checkSubject } from './subject.js';
import type {
  Bus,
  BusHandler,
  BusMessage,
  BusPayload,
  BusStatus,
  BusSubscription,
  PublishOptions,
  RequestOptions,
  SubscribeOptions,
} from './types.js';

// Also importable from here, where the package index and other modules look for them.
export { toNatsHeaders } from './nats-adapters.js';
export type { NatsBusOptions, NatsBusWrapOptions } from './nats-connect.js';
export {
  type DenialReporting,
  type PermissionDenial,
  permissionDenial,
  permissionDenied,
  reportsDenials,
} from './permission-denials.js';

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
    const connectionOptions = connectionOptionsOf(options);
    let connection: NatsConnection;
    try {
      connection = await connect(connectionOptions);
    } catch (error) {
      throw connectFailed(error, options.servers);
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
