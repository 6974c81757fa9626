import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'eventemitter3';
import { exceedsBytes, PayloadMessage, payloadSize } from '../bytes.js';
import { callHandler, type HandlerErrorListener, logHandlerError } from './handler-errors.js';
import { busClosed, noResponders, PendingRequests, payloadTooLarge } from './pending.js';
import { checkSubject, hasWildcard, subjectMatches } from './subject.js';
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

export interface InProcessBusOptions {
  /** Largest payload in bytes (default 1 MiB, like nats-server). */
  maxPayload?: number;
  /** Where errors thrown by subscription handlers go (default: console.error), as on NatsBus. */
  onHandlerError?: HandlerErrorListener;
}

export const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

const INBOX = '_INBOX.';
const ROUTE_CACHE_LIMIT = 4_096;
const CLIENT_ID_LENGTH = 16;

class Subscription implements BusSubscription {
  closed = false;
  readonly tokens: string[] | undefined;

  constructor(
    readonly subject: string,
    readonly queue: string | undefined,
    readonly handler: BusHandler,
    readonly client: InProcessBus,
  ) {
    this.tokens = hasWildcard(subject) ? subject.split('.') : undefined;
  }

  unsubscribe(): void {
    if (this.closed) return;
    this.closed = true;
    this.client.forget(this);
  }
}

/** The shared switchboard of every InProcessBus connected to it: subscriptions and queue groups. */
export class InProcessBroker {
  private readonly exact = new Map<string, Subscription[]>();
  private readonly wildcards: Subscription[] = [];
  private readonly queueCursor = new Map<string, number>();
  /** Who receives each subject, computed once per subject until the subscriptions change. */
  private readonly routes = new Map<string, readonly Subscription[]>();
  readonly clients = new Map<string, InProcessBus>();

  add(subscription: Subscription): void {
    this.routes.clear();
    if (subscription.tokens) this.wildcards.push(subscription);
    else {
      const list = this.exact.get(subscription.subject);
      if (list) list.push(subscription);
      else this.exact.set(subscription.subject, [subscription]);
    }
  }

  remove(subscription: Subscription): void {
    this.routes.clear();
    if (subscription.tokens) {
      const index = this.wildcards.indexOf(subscription);
      if (index >= 0) this.wildcards.splice(index, 1);
      return;
    }
    const list = this.exact.get(subscription.subject);
    if (!list) return;
    const index = list.indexOf(subscription);
    if (index >= 0) list.splice(index, 1);
    if (list.length === 0) this.exact.delete(subscription.subject);
  }

  /** Delivers to every plain subscriber and to one member of each queue group; returns the deliveries. */
  route(
    subject: string,
    payload: BusPayload,
    size: number | undefined,
    headers: BusHeaders | undefined,
    reply: string | undefined,
  ): number {
    const candidates = this.routes.get(subject) ?? this.resolve(subject);
    if (candidates.length === 0) return 0;
    const message = makeMessage(subject, payload, size, headers, reply);
    if (candidates.length === 1) {
      deliver(candidates[0] as Subscription, message);
      return 1;
    }
    let groups: Map<string, Subscription[]> | undefined;
    let delivered = 0;
    for (const sub of candidates) {
      if (sub.queue === undefined) {
        deliver(sub, message);
        delivered++;
      } else {
        groups ??= new Map();
        const members = groups.get(sub.queue);
        if (members) members.push(sub);
        else groups.set(sub.queue, [sub]);
      }
    }
    if (groups) {
      for (const [queue, members] of groups) {
        const cursor = this.queueCursor.get(queue) ?? 0;
        this.queueCursor.set(queue, cursor + 1);
        deliver(members[cursor % members.length] as Subscription, message);
        delivered++;
      }
    }
    return delivered;
  }

  private resolve(subject: string): readonly Subscription[] {
    const candidates: Subscription[] = [...(this.exact.get(subject) ?? [])];
    if (this.wildcards.length > 0) {
      const tokens = subject.split('.');
      for (const sub of this.wildcards)
        if (subjectMatches(sub.tokens as string[], tokens)) candidates.push(sub);
    }
    if (this.routes.size >= ROUTE_CACHE_LIMIT) this.routes.clear();
    this.routes.set(subject, candidates);
    return candidates;
  }

  /** Drops every subscription of a client that closes. */
  dropClient(client: InProcessBus): void {
    this.routes.clear();
    this.clients.delete(client.id);
    for (const [subject, list] of this.exact) {
      const kept = list.filter((sub) => sub.client !== client);
      if (kept.length === 0) this.exact.delete(subject);
      else if (kept.length !== list.length) this.exact.set(subject, kept);
    }
    for (let index = this.wildcards.length - 1; index >= 0; index--) {
      if (this.wildcards[index]?.client === client) this.wildcards.splice(index, 1);
    }
  }
}

function deliver(sub: Subscription, message: BusMessage): void {
  queueMicrotask(() => {
    if (sub.closed) return;
    sub.client.call(sub.handler, message);
  });
}

/**
 * The embedded bus: subjects, wildcards, queue groups and request/reply with NATS semantics, in one
 * process. Payloads are bytes and are copied on delivery, handlers run asynchronously, oversized
 * payloads and missing responders fail exactly as they do on NATS — so a team behaves the same on both.
 * `connect()` opens another client on the same broker (as a second NATS connection would).
 */
export class InProcessBus implements Bus {
  readonly transport = 'in-process' as const;
  readonly system = 'baton_in_process';
  readonly maxPayload: number;
  /** @internal */
  readonly broker: InProcessBroker;
  /** @internal */
  readonly id: string;
  private readonly requests: PendingRequests;
  private readonly subscriptions = new Set<Subscription>();
  private readonly statusEvents = new EventEmitter();
  private readonly onHandlerError: HandlerErrorListener;
  private readonly options: InProcessBusOptions;
  private inboxCounter = 0;
  private state: BusStatus = 'connected';

  constructor(options: InProcessBusOptions = {}, broker?: InProcessBroker) {
    this.options = options;
    this.maxPayload = options.maxPayload ?? DEFAULT_MAX_PAYLOAD;
    this.broker = broker ?? new InProcessBroker();
    this.id = randomBytes(CLIENT_ID_LENGTH / 2).toString('hex');
    this.broker.clients.set(this.id, this);
    this.requests = new PendingRequests(`${INBOX}${this.id}.r.`);
    this.onHandlerError = options.onHandlerError ?? logHandlerError;
  }

  /** Another client on the same broker; closing it leaves this one open. */
  connect(): InProcessBus {
    this.checkOpen();
    return new InProcessBus(this.options, this.broker);
  }

  get status(): BusStatus {
    return this.state;
  }

  publish(subject: string, data: BusPayload, options?: PublishOptions): void {
    this.checkOpen();
    if (exceedsBytes(data, this.maxPayload))
      throw payloadTooLarge(payloadSize(data), this.maxPayload, subject);
    if (subject.startsWith(INBOX) && this.replyToRequest(subject, data, options?.headers)) return;
    checkSubject(subject, false);
    this.broker.route(subject, data, undefined, options?.headers, options?.reply);
  }

  subscribe(subject: string, handler: BusHandler, options?: SubscribeOptions): BusSubscription {
    this.checkOpen();
    checkSubject(subject, true);
    const subscription = new Subscription(subject, options?.queue, handler, this);
    this.broker.add(subscription);
    this.subscriptions.add(subscription);
    return subscription;
  }

  request(subject: string, data: BusPayload, options: RequestOptions): Promise<BusMessage> {
    try {
      this.checkOpen();
      checkSubject(subject, false);
      if (exceedsBytes(data, this.maxPayload))
        throw payloadTooLarge(payloadSize(data), this.maxPayload, subject);
    } catch (error) {
      return Promise.reject(error);
    }
    const { reply, token, promise } = this.requests.open(subject, options);
    const delivered = this.broker.route(subject, data, undefined, options.headers, reply);
    if (delivered === 0) queueMicrotask(() => this.requests.fail(token, noResponders(subject)));
    return promise;
  }

  createInbox(): string {
    return `${INBOX}${this.id}.i${(++this.inboxCounter).toString(36)}`;
  }

  flush(): Promise<void> {
    if (this.state === 'closed') return Promise.reject(busClosed(this.transport));
    return new Promise((resolve) => setImmediate(resolve));
  }

  onStatus(listener: (status: BusStatus) => void): () => void {
    this.statusEvents.on('status', listener);
    return () => {
      this.statusEvents.off('status', listener);
    };
  }

  async drain(): Promise<void> {
    if (this.state === 'closed') return;
    // Handlers run on microtasks; one macrotask lets every delivered message reach its handler.
    await new Promise((resolve) => setImmediate(resolve));
    await this.close();
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    for (const sub of this.subscriptions) sub.closed = true;
    this.subscriptions.clear();
    this.broker.dropClient(this);
    this.requests.failAll(busClosed(this.transport));
    this.statusEvents.emit('status', this.state);
    this.statusEvents.removeAllListeners();
  }

  /** @internal */
  forget(subscription: Subscription): void {
    this.subscriptions.delete(subscription);
    this.broker.remove(subscription);
  }

  /** @internal Runs a handler as NatsBus does: what it throws goes to `onHandlerError`, never further. */
  call(handler: BusHandler, message: BusMessage): void {
    callHandler(handler, message, this.onHandlerError, message.subject);
  }

  /** A reply to a pending request of some client on this broker: straight to it, no routing. */
  private replyToRequest(subject: string, data: BusPayload, headers: BusHeaders | undefined): boolean {
    const clientId = subject.slice(INBOX.length, INBOX.length + CLIENT_ID_LENGTH);
    const client = this.broker.clients.get(clientId);
    if (!client) return false;
    return client.acceptReply(subject, makeMessage(subject, data, undefined, headers, undefined));
  }

  /** @internal */
  acceptReply(subject: string, message: BusMessage): boolean {
    const token = this.requests.tokenOf(subject);
    if (token === undefined) return false;
    // Settling a promise is already asynchronous for whoever awaits it: no extra microtask needed.
    this.requests.resolve(token, message);
    return true;
  }

  private checkOpen(): void {
    if (this.state === 'closed') throw busClosed(this.transport);
  }
}

/**
 * A delivered message owns its payload, as it would after crossing a socket: bytes are copied, text is
 * immutable already (and becomes bytes only if a subscriber asks for them).
 */
function makeMessage(
  subject: string,
  payload: BusPayload,
  size: number | undefined,
  headers: BusHeaders | undefined,
  reply: string | undefined,
): BusMessage {
  return new PayloadMessage(
    subject,
    typeof payload === 'string' ? payload : Buffer.from(payload),
    size,
    headers === undefined ? undefined : { ...headers },
    reply,
  );
}
