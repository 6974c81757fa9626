import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import {
  type ApprovalStore,
  type AuditLog,
  BatonError,
  type Guardrails,
  type HandoffContract,
  type RunCacheOptions,
  type RunJournal,
} from '@baton/core';
import type { Tracer } from '@opentelemetry/api';
import type { Envelope } from '../envelope.js';
import type { AgentInfo } from '../registry.js';
import type { BusHeaders } from '../transport/types.js';

export interface DurableServeOptions {
  /**
   * How long a delivery may go without a progress report before JetStream gives it to another worker
   * (default 3 s). A live worker reports progress and refreshes its claim four times per ack wait, so
   * this is roughly how long the invocations of a worker that died wait before another worker takes them
   * over. Raise it if a worker's event loop can stall that long: a stalled run is taken over, and the
   * stalled worker then stops it (its result would not be used).
   */
  ackWaitMs?: number;
  /** Deliveries before the invocation is dead-lettered (default 5). */
  maxDeliveries?: number;
  /** How long completed results stay in KV for idempotent redelivery (default 24 h). */
  resultTtlMs?: number;
}

export interface ServeAgentOptions<I = unknown, O = unknown> {
  contract: HandoffContract<I, O>;
  namespace?: string;
  /** Runs at once; further invocations wait in arrival order (their deadline still runs). Default 16. */
  concurrency?: number;
  /** Also take invocations from a JetStream work queue (NatsBus only). */
  durable?: boolean | DurableServeOptions;
  /** Names this worker in the registry and in durable claims (default host:pid:random). */
  instanceId?: string;
  /** Largest invocation accepted, in bytes (default: the bus limit). */
  maxPayload?: number;
  /** Largest hop count accepted (default 8). */
  maxHops?: number;
  /** Heartbeat period on `baton.<ns>.registry` (default 5 s; 0 = announce once). */
  heartbeatMs?: number;
  /** On `stop()`, how long aborted runs get to return their partial result (default 5 s). */
  stopGraceMs?: number;
  tracer?: Tracer;
  /**
   * Journal every run this worker serves (under the run id of its invocation): a run invoked again — a
   * redelivery after a crash, a resumed team — replays its recorded steps and never repeats a recorded
   * tool call.
   */
  journal?: RunJournal;
  /** Where calls that need a person wait; the run pauses and its caller (the team) with it. */
  approvals?: ApprovalStore;
  approvalTimeoutMs?: number;
  /** Signs the RunStates of paused runs (default BATON_STATE_KEY). */
  stateKey?: string;
  /**
   * Audit every run this worker serves: its records carry the tenant and user of the invocation's
   * envelope (see RunOptions.audit).
   */
  audit?: AuditLog;
  /** Redacts tool arguments before they are audited (see RunOptions.auditRedact). */
  auditRedact?: (args: unknown) => unknown;
  /**
   * Guards on every run this worker serves, whoever calls: they always apply, after the guards a caller
   * (a team) sent with the invocation and before the agent's own.
   */
  guardrails?: Guardrails;
  /**
   * The caches of every run this worker serves (see RunOptions.cache): with a `natsCacheStore`, a tool
   * result one worker fetched is a hit for every other worker of the tenant.
   */
  cache?: RunCacheOptions;
  /**
   * The bundle this worker serves (rollout/): besides the agent's own subject, it takes the invocations a
   * rollout router sends to this bundle (`baton.<ns>.agent.<name>.invoke.<bundle>`), and no other bundle's.
   */
  bundle?: string;
  /**
   * Honour the namespace's persistent kill flags (default true on a NatsBus with JetStream): read before
   * the first invocation is taken, and watched — a flag set stops the worker taking work, its clearing
   * (`unkill`) resumes it.
   */
  persistentKill?: boolean;
}

export interface AgentWorker {
  readonly name: string;
  readonly namespace: string;
  readonly instance: string;
  /** `name@version` of the accepted contract. */
  readonly contract: string;
  readonly durable: boolean;
  readonly inFlight: number;
  readonly queued: number;
  readonly killed: boolean;
  info(): AgentInfo;
  /**
   * Stops taking work and waits for the runs in flight to finish and reply; with `timeoutMs`, what is
   * still running then is stopped as by `stop()`.
   */
  drain(options?: DrainOptions): Promise<void>;
  /**
   * Stops taking work and aborts the runs in flight (their partial results are still replied) — also
   * when called during a drain.
   */
  stop(): Promise<void>;
}

export interface DrainOptions {
  /** Longest the drain may wait for runs in flight before aborting them. */
  timeoutMs?: number;
}

/** How a finished run's reply leaves the worker: a core reply subject or the durable path. */
export interface ReplyChannel {
  send(envelope: Envelope): Promise<void> | void;
}

/** What a worker needs of a received message. */
export interface Received {
  readonly subject: string;
  readonly size: number;
  readonly headers: BusHeaders | undefined;
  string(): string;
}

export const DEFAULT_MAX_HOPS = 8;
/** `details.reason` of the ABORTED error a stopping worker gives its runs. */
export const STOPPING = 'worker-stopping';
export const DEFAULT_CONCURRENCY = 16;

export function defaultInstanceId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

export function positiveInteger(
  where: string,
  field: string,
  value: number | undefined,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) {
    throw new BatonError('CONFIG_INVALID', `${where}: "${field}" must be an integer ≥ 1`, {
      details: { field },
    });
  }
  return value;
}
