/** Message headers: lower-case names, one string value each (W3C trace context, Baton routing hints). */
export type BusHeaders = Record<string, string>;

/** What a message carries: bytes, or text sent as its UTF-8 bytes (as nats.js accepts both). */
export type BusPayload = Uint8Array | string;

export interface BusMessage {
  readonly subject: string;
  /** The payload bytes. */
  readonly data: Uint8Array;
  /** Payload size in bytes. */
  readonly size: number;
  readonly headers: BusHeaders | undefined;
  /** Where a reply goes, when the sender expects one. */
  readonly reply: string | undefined;
  /** The payload as UTF-8 text (no conversion when it was published as text in process). */
  string(): string;
}

export type BusHandler = (message: BusMessage) => void;

export interface SubscribeOptions {
  /** Subscribers sharing a queue name split the messages: each message goes to one of them. */
  queue?: string;
}

export interface BusSubscription {
  readonly subject: string;
  readonly queue: string | undefined;
  readonly closed: boolean;
  unsubscribe(): void;
}

export interface PublishOptions {
  headers?: BusHeaders;
  reply?: string;
}

export interface RequestOptions {
  /** The request fails with DEADLINE_EXCEEDED when no reply came within this many milliseconds. */
  timeoutMs: number;
  /** Aborting fails the request at once with ABORTED (or the signal's BatonError reason). */
  signal?: AbortSignal;
  headers?: BusHeaders;
  /**
   * Opaque to the bus; kept with the waiting request so that, after a reconnect, the requester can tell
   * which of its requests may have lost their reply (`NatsBus.waitingRequests()`).
   */
  tag?: unknown;
}

export type BusStatus = 'connected' | 'disconnected' | 'closed';

export type BusTransport = 'in-process' | 'nats';

/**
 * One interface, two transports. Payloads are bytes on both, subjects follow NATS rules (`*` matches one
 * token, `>` the rest), and failures are typed BatonErrors: PAYLOAD_TOO_LARGE, NO_RESPONDERS,
 * DEADLINE_EXCEEDED, ABORTED, BUS_CLOSED, BUS_DISCONNECTED.
 */
export interface Bus {
  readonly transport: BusTransport;
  /** `messaging.system` for spans: `nats`, or `baton_in_process`. */
  readonly system: string;
  /** Largest payload a message may carry, in bytes. */
  readonly maxPayload: number;
  readonly status: BusStatus;
  /**
   * Throws PAYLOAD_TOO_LARGE or BUS_CLOSED; never blocks. The bus owns `data` from here on: do not
   * modify a buffer after publishing it.
   */
  publish(subject: string, data: BusPayload, options?: PublishOptions): void;
  subscribe(subject: string, handler: BusHandler, options?: SubscribeOptions): BusSubscription;
  /** Sends and waits for one reply. Rejects with NO_RESPONDERS at once when nobody listens. */
  request(subject: string, data: BusPayload, options: RequestOptions): Promise<BusMessage>;
  /** A fresh subject nobody else uses, for replies. */
  createInbox(): string;
  /** Resolves when everything published so far reached the server. */
  flush(): Promise<void>;
  /** Called on every status change; returns an unsubscribe function. */
  onStatus(listener: (status: BusStatus) => void): () => void;
  /** Lets in-flight handlers finish their replies, then closes. */
  drain(): Promise<void>;
  close(): Promise<void>;
}
