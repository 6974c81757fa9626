import type { AgentLike, HandoffContract } from '@baton/core';
import type { Tracer } from '@opentelemetry/api';
import type { Envelope } from '../envelope.js';
import type { BusHeaders, BusMessage } from '../transport/types.js';

export interface RemoteDurableOptions {
  /** How often a waiting caller also looks for its result in KV (default 1 s), e.g. after a reconnect. */
  pollMs?: number;
}

export interface RemoteAgentOptions<I = unknown, O = unknown> {
  name: string;
  contract: HandoffContract<I, O>;
  namespace?: string;
  description?: string;
  /** Longest a call may take when the caller's budget has no earlier deadline (default 120 s). */
  timeoutMs?: number;
  /** After an abort, how long to wait for the remote partial result (default 2 s). */
  cancelGraceMs?: number;
  /** Largest hop count this proxy sends (default 8). */
  maxHops?: number;
  /** Send through the JetStream work queue: survives worker crashes (NatsBus only). */
  durable?: boolean | RemoteDurableOptions;
  /** Who is calling, when not inside a served agent (default `client`). */
  from?: string;
  tracer?: Tracer;
  /**
   * Send to the workers serving this bundle only (`baton.<ns>.agent.<name>.invoke.<bundle>`), as a
   * rollout router does. Core invocations only.
   */
  bundle?: string;
}

export interface RemoteAgent<I = unknown, O = unknown> extends AgentLike<I, O> {
  readonly kind: 'remote';
  readonly contract: HandoffContract<I, O>;
  readonly namespace: string;
  readonly subject: string;
  readonly durable: boolean;
}

/** What a transport-specific sender needs to deliver one invocation and wait for its reply. */
export interface Delivery {
  envelope: Envelope;
  /** The envelope's JSON text. */
  data: string;
  headers: BusHeaders | undefined;
  /** The caller's deadline: the reply must come before it. */
  deadline: number;
  signal: AbortSignal | undefined;
}

/** Sends an invocation and resolves with the reply message; rejects with a typed BatonError. */
export type Sender = (delivery: Delivery) => Promise<BusMessage>;
