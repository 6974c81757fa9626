import type { BatonError } from '@baton/core';
import { type Envelope, encodeEnvelope, SYSTEM_CONTRACTS, systemEnvelope } from '../envelope.js';
import { type KillFlagWatch, type KillPayload, killedError, watchKillFlags } from '../kill.js';
import { type AgentInfo, heartbeatEnvelope } from '../registry.js';
import { subjects } from '../subjects.js';
import type { Bus, BusMessage, BusSubscription } from '../transport/types.js';
import { tenantMismatch } from './admit.js';
import { type ControlAck, readCancel, readKill, readRegistryQuery } from './control-messages.js';
import type { WorkerGuard } from './guard.js';
import { answerStatusQuery, type StatusSource } from './invocation-status.js';
import type { RunControl } from './run-control.js';

/** What the control side needs of its worker. */
export interface ControlledWorker extends StatusSource {
  readonly namespace: string;
  info(): AgentInfo;
}

/**
 * A worker's control side: the subjects every instance listens on besides its work — cancels, kills,
 * registry queries, status queries — the persistent kill flags, and the registry heartbeat. It holds
 * the kill state: a published kill or a kill flag set stops the worker taking work and aborts the runs
 * in flight; `unkill` resumes it.
 */
export class WorkerControl {
  private readonly bus: Bus;
  private readonly name: string;
  private readonly namespace: string;
  private readonly instance: string;
  private readonly subscriptions: BusSubscription[] = [];
  private killWatch: KillFlagWatch | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private killReason: BatonError | undefined;

  constructor(
    private readonly worker: ControlledWorker,
    private readonly guard: WorkerGuard,
    /** The worker's runs in flight, by run id: what cancels and kills abort. */
    private readonly runs: ReadonlyMap<string, RunControl>,
  ) {
    this.bus = worker.bus;
    this.name = worker.name;
    this.namespace = worker.namespace;
    this.instance = worker.instance;
  }

  /** The kill reason once a kill switch stopped this worker. */
  get killError(): BatonError | undefined {
    return this.killReason;
  }

  /** Reads the kill flags that apply (a worker started after a kill takes nothing), then watches them. */
  async watchKillFlags(): Promise<void> {
    this.killWatch = await watchKillFlags(this.bus, this.namespace, this.name, {
      kill: (payload) => this.kill(payload),
      resume: () => this.resume(),
    });
    if (this.killWatch?.initial) this.killReason = killedError(this.killWatch.initial);
  }

  /** Subscribes to the control subjects (the server has them at the worker's next flush). */
  subscribe(): void {
    const ns = this.namespace;
    const guard = this.guard;
    this.subscriptions.push(
      this.bus.subscribe(
        subjects.allRunCancels(ns),
        guard.wrap((message) => this.onCancel(message), true),
      ),
    );
    this.subscriptions.push(
      this.bus.subscribe(
        subjects.kill(ns),
        guard.wrap((message) => this.onKill(message), true),
      ),
    );
    this.subscriptions.push(
      this.bus.subscribe(
        subjects.registryQuery(ns),
        guard.wrap((message) => this.onRegistryQuery(message), true),
      ),
    );
    if (this.worker.recent) {
      this.subscriptions.push(
        this.bus.subscribe(
          subjects.agentStatus(ns, this.name),
          guard.wrap(
            (message) =>
              answerStatusQuery(this.worker, message, (error, envelope) =>
                guard.refuse(message, error, envelope, true),
              ),
            true,
          ),
        ),
      );
    }
  }

  /** Announces the worker in the registry now and, with `heartbeatMs` > 0, every `heartbeatMs`. */
  startHeartbeat(heartbeatMs: number): void {
    this.announce();
    if (heartbeatMs > 0) {
      this.heartbeat = setInterval(() => this.announce(), heartbeatMs);
      this.heartbeat.unref();
    }
  }

  /** Stops watching the kill flags and announcing: the worker is shutting down. */
  stopWatching(): void {
    this.killWatch?.stop();
    clearInterval(this.heartbeat);
  }

  /** Leaves the control subjects. */
  unsubscribe(): void {
    for (const sub of this.subscriptions) sub.unsubscribe();
  }

  /** A cancel that cannot be read cancels nothing: it is answered and dead-lettered instead. */
  private onCancel(message: BusMessage): void {
    const cancel = readCancel(message, this.bus.maxPayload);
    if (!cancel.ok) {
      this.guard.refuse(message, cancel.error, cancel.envelope, true);
      return;
    }
    if (this.foreignTenant(message, cancel.envelope)) return;
    const control = this.runs.get(cancel.value.runId);
    control?.abort(cancel.value.reason);
    this.acknowledge(message, cancel.envelope, 'cancel', control !== undefined);
  }

  /** A kill that cannot be read kills nothing: it is answered and dead-lettered instead. */
  private onKill(message: BusMessage): void {
    const kill = readKill(message, this.bus.maxPayload);
    if (!kill.ok) {
      this.guard.refuse(message, kill.error, kill.envelope, true);
      return;
    }
    if (this.foreignTenant(message, kill.envelope)) return;
    if (kill.value.agent !== undefined && kill.value.agent !== this.name) {
      this.acknowledge(message, kill.envelope, 'kill', false);
      return;
    }
    this.kill(kill.value);
    this.acknowledge(message, kill.envelope, 'kill', true);
  }

  /** Stops taking work and aborts the runs in flight (a published kill, or a kill flag set). */
  private kill(payload: KillPayload): void {
    const reason = killedError(payload);
    this.killReason = reason;
    for (const control of this.runs.values()) control.abort(reason);
    this.announce();
  }

  /** The kill flags that applied were cleared (`unkill`): take work again. */
  private resume(): void {
    if (this.killReason === undefined) return;
    this.killReason = undefined;
    this.announce();
  }

  /** True (and the message refused) when a control envelope names another tenant than this worker's. */
  private foreignTenant(message: BusMessage, envelope: Envelope): boolean {
    if (envelope.tenant === undefined || envelope.tenant === this.namespace) return false;
    this.guard.refuse(message, tenantMismatch(envelope.tenant, this.namespace), envelope, true);
    return true;
  }

  /** Every message gets an answer when it asks for one: a cancel or kill that was read says so. */
  private acknowledge(message: BusMessage, envelope: Envelope, of: ControlAck['of'], applied: boolean): void {
    if (!message.reply) return;
    const ack: ControlAck = { action: 'ack', of, applied };
    const reply = systemEnvelope({
      kind: 'control',
      contract: SYSTEM_CONTRACTS.control,
      from: this.instance,
      to: envelope.from,
      payload: ack,
      replyTo: envelope.id,
    });
    try {
      this.bus.publish(message.reply, encodeEnvelope(reply));
    } catch {
      // The asker is gone; the cancel or kill itself was applied.
    }
  }

  private onRegistryQuery(message: BusMessage): void {
    const query = readRegistryQuery(message, this.bus.maxPayload);
    if (!query.ok) {
      this.guard.refuse(message, query.error, query.envelope, true);
      return;
    }
    if (message.reply) this.announce(message.reply);
  }

  private announce(reply?: string): void {
    if (this.bus.status === 'closed') return;
    try {
      this.bus.publish(
        reply ?? subjects.registry(this.namespace),
        encodeEnvelope(heartbeatEnvelope(this.worker.info())),
      );
    } catch {
      // A heartbeat lost to a disconnect is replaced by the next one.
    }
  }
}
