import { type AgentLike, BatonError, type HandoffContract, MAX_TIMER_MS, type RunResult } from '@baton/core';
import type { Span, Tracer } from '@opentelemetry/api';
import { decodeEnvelope, type Envelope } from '../envelope.js';
import { bundleField, countInvocation } from '../metrics.js';
import type { AgentInfo } from '../registry.js';
import { checkBundleId } from '../rollout/bundle-id.js';
import { checkToken, resolveNamespace, subjects } from '../subjects.js';
import { busTracer, endSpan, extractTraceContext, MessagingSpans } from '../trace-context.js';
import type { Bus, BusMessage, BusSubscription } from '../transport/types.js';
import { type AdmissionRules, admit } from './admit.js';
import { runInInvocation } from './context.js';
import { checkOutput } from './contract-checks.js';
import { WorkerGuard } from './guard.js';
import { RecentResults } from './recent-results.js';
import { errorEnvelope, resultEnvelope } from './replies.js';
import { RunControl } from './run-control.js';
import { ServedRunOptions } from './run-options.js';
import { explainRunResult, localResult, readRunResult } from './run-result.js';
import { WorkerControl } from './worker-control.js';
import {
  type AgentWorker,
  DEFAULT_CONCURRENCY,
  DEFAULT_MAX_HOPS,
  type DrainOptions,
  defaultInstanceId,
  positiveInteger,
  type Received,
  type ReplyChannel,
  type ServeAgentOptions,
} from './worker-options.js';
import { CoreReply, rejectInvocation, sendReply } from './worker-replies.js';
import { WorkerShutdown } from './worker-shutdown.js';

/**
 * Serves one agent on the bus: a queue-group subscription on `baton.<ns>.agent.<name>.invoke` (N workers
 * share the load), cancellation, the kill switch, and registry heartbeats. Every invocation is checked
 * (envelope, contract, hops, deadline, input) before it runs; every rejection gets a typed error reply and
 * a dead letter. The run gets the caller's remaining budget, a signal that fires at the deadline, and the
 * caller's trace context, so its `invoke_agent` span joins the caller's trace.
 */
export class Worker implements AgentWorker {
  readonly name: string;
  readonly namespace: string;
  readonly instance: string;
  readonly contract: string;
  readonly durable: boolean;
  readonly startedAt = Date.now();
  readonly concurrency: number;
  readonly tracer: Tracer;
  readonly queueGroup: string;
  /** What every invocation is checked against. */
  readonly rules: AdmissionRules;
  /** Makes the options of every run it serves. */
  private readonly served: ServedRunOptions;
  /**
   * Core replies published lately, for callers that lost theirs to a reconnect. Only on a bus that can
   * disconnect: in process there is nothing to recover.
   */
  readonly recent: RecentResults | undefined;
  /** Set by durable mode: stops pulling and hands unfinished work back. */
  durableStopper: ((mode: 'drain' | 'stop', graceMs: number) => Promise<void>) | undefined;
  private readonly runs = new Map<string, RunControl>();
  private readonly spanTemplates = new Map<string, MessagingSpans>();
  private readonly idleWaiters: Array<() => void> = [];
  private readonly waiting: Array<() => void> = [];
  /** Keeps every handler from throwing and turns away what cannot be read, on every subject. */
  private readonly guard = new WorkerGuard(this);
  /** Cancels, kills, registry and status queries, the kill flags and the heartbeat. */
  private readonly control: WorkerControl;
  private readonly stopGraceMs: number;
  private invokeSubscription: BusSubscription | undefined;
  /** The bundle this worker serves (rollout routing), when it declared one. */
  readonly bundle: string | undefined;
  private bundleSubscription: BusSubscription | undefined;
  private readonly watchKill: boolean;
  private active = 0;
  private accepting = true;
  /** Drains and stops. */
  private readonly shutdown: WorkerShutdown;
  /** Set by durable mode: hands runs aborted by a stop back to the queue instead of recording them. */
  durableEscalate: (() => void) | undefined;

  constructor(
    readonly bus: Bus,
    readonly agent: AgentLike,
    readonly handoff: HandoffContract,
    options: ServeAgentOptions,
  ) {
    const where = `serveAgent(${JSON.stringify(agent?.name)})`;
    checkToken(where, 'agent.name', agent?.name);
    if (typeof agent.run !== 'function') {
      throw new BatonError('CONFIG_INVALID', `${where}: "agent" must have a run(input, options) method`);
    }
    if (handoff?.kind !== 'handoff') {
      throw new BatonError('CONFIG_INVALID', `${where}: "contract" must be made with defineHandoff()`);
    }
    this.name = agent.name;
    this.namespace = resolveNamespace(where, options.namespace);
    this.instance = options.instanceId ?? defaultInstanceId();
    this.contract = handoff.id;
    this.durable = options.durable !== undefined && options.durable !== false;
    this.concurrency = positiveInteger(where, 'concurrency', options.concurrency, DEFAULT_CONCURRENCY);
    this.stopGraceMs = options.stopGraceMs ?? 5_000;
    this.served = new ServedRunOptions(bus, this.name, this.namespace, options);
    this.bundle = options.bundle === undefined ? undefined : checkBundleId(where, options.bundle);
    this.watchKill = options.persistentKill !== false;
    for (const [field, value] of [
      ['stopGraceMs', this.stopGraceMs],
      ['heartbeatMs', options.heartbeatMs ?? 0],
    ] as const) {
      if (!(Number.isFinite(value) && value >= 0 && value <= MAX_TIMER_MS)) {
        throw new BatonError(
          'CONFIG_INVALID',
          `${where}: "${field}" must be 0–${MAX_TIMER_MS} milliseconds`,
          {
            details: { field },
          },
        );
      }
    }
    this.tracer = busTracer(options.tracer);
    this.queueGroup = subjects.queueGroup(this.namespace, this.name);
    this.recent = bus.transport === 'nats' ? new RecentResults() : undefined;
    this.rules = {
      agent: this.name,
      tenant: this.namespace,
      contract: handoff,
      maxPayload: positiveInteger(where, 'maxPayload', options.maxPayload, bus.maxPayload),
      maxHops: positiveInteger(where, 'maxHops', options.maxHops, DEFAULT_MAX_HOPS),
    };
    this.control = new WorkerControl(this, this.guard, this.runs);
    this.shutdown = new WorkerShutdown(this, this.stopGraceMs, this.runs, this.idleWaiters);
  }

  get inFlight(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting.length;
  }

  get killed(): boolean {
    return this.killError !== undefined;
  }

  /** The kill reason once a kill switch stopped this worker. */
  get killError(): BatonError | undefined {
    return this.control.killError;
  }

  /** True while run `runId` is admitted here and has not replied yet (waiting for a slot counts). */
  isRunning(runId: string): boolean {
    return this.runs.has(runId);
  }

  /** Stops one run (durable mode: its claim was taken over, so its result would never be used). */
  abortRun(runId: string, reason: BatonError): void {
    this.runs.get(runId)?.abort(reason);
  }

  /** Subscribes and announces; resolves when the server has the subscriptions. */
  async start(heartbeatMs: number): Promise<void> {
    const ns = this.namespace;
    const guard = this.guard;
    if (this.watchKill) {
      // First, before any subscription: a worker started after a kill never takes anything, and one
      // that cannot read the flags fails to start instead of running unguarded.
      await this.control.watchKillFlags();
    }
    this.control.subscribe();
    this.invokeSubscription = this.bus.subscribe(
      subjects.invoke(ns, this.name),
      guard.wrap((message) => this.onInvoke(message), false),
      { queue: this.queueGroup },
    );
    if (this.bundle !== undefined) {
      this.bundleSubscription = this.bus.subscribe(
        subjects.bundleInvoke(ns, this.name, this.bundle),
        guard.wrap((message) => this.onInvoke(message), false),
        { queue: subjects.bundleQueueGroup(ns, this.name, this.bundle) },
      );
    }
    await this.bus.flush();
    this.control.startHeartbeat(heartbeatMs);
  }

  info(): AgentInfo {
    return {
      name: this.name,
      description: this.agent.description ?? '',
      namespace: this.namespace,
      contract: this.contract,
      contractName: this.handoff.name,
      version: this.handoff.version,
      instance: this.instance,
      load: this.active / this.concurrency,
      inFlight: this.active,
      queued: this.waiting.length,
      concurrency: this.concurrency,
      durable: this.durable,
      killed: this.killed,
      startedAt: this.startedAt,
      at: Date.now(),
      ...bundleField(this.agent),
    };
  }

  drain(options: DrainOptions = {}): Promise<void> {
    return this.shutdown.drain(options);
  }

  /** Aborts the runs in flight — also when a drain is already under way (a second Ctrl-C). */
  stop(): Promise<void> {
    return this.shutdown.stop();
  }

  /** Stops taking work: the first step of a drain or a stop. */
  stopTaking(): void {
    this.accepting = false;
    this.invokeSubscription?.unsubscribe();
    this.bundleSubscription?.unsubscribe();
    this.control.stopWatching();
  }

  /** Leaves the control subjects and publishes what the guard still holds back: the last step. */
  closeControl(): void {
    this.control.unsubscribe();
    this.guard.close();
  }

  /** A core invocation: the reply goes to the message's reply subject. */
  private onInvoke(message: BusMessage): void {
    const channel = new CoreReply(this, message.reply);
    if (!this.accepting || this.killError) {
      const error =
        this.killError ?? new BatonError('BUS_CLOSED', `${this.name} (${this.instance}) is stopping`);
      const decoded = decodeEnvelope(message.string());
      void channel.send(errorEnvelope(this.name, decoded.ok ? decoded.envelope : undefined, error));
      return;
    }
    const admission = admit(message, this.rules, Date.now());
    if (!admission.ok) {
      rejectInvocation(this, message, admission, channel);
      return;
    }
    // A rejection here would be unhandled, and Node ends the process on one: refuse the message instead.
    this.execute(admission.envelope, admission.input, message, channel).catch((error) =>
      this.guard.failed(message, error, false),
    );
  }

  /**
   * Runs one admitted invocation under the concurrency limit and sends its result. The deadline counts
   * from the caller's clock, so time spent waiting for a slot counts too. (One async frame on purpose:
   * every extra promise costs on the hot path.)
   */
  async execute(envelope: Envelope, input: unknown, message: Received, channel: ReplyChannel): Promise<void> {
    const runId = envelope.runId;
    if (this.runs.has(runId)) {
      const error = new BatonError('DUPLICATE', `Run ${runId} is already running on ${this.instance}`, {
        details: { runId },
      });
      await channel.send(errorEnvelope(this.name, envelope, error));
      return;
    }
    const control = new RunControl(envelope.deadline);
    this.runs.set(runId, control);
    const started = performance.now();
    const headers = message.headers;
    const parent = extractTraceContext(headers);
    const span = this.spansFor(message.subject).start(this.tracer, parent, envelope, message);
    let result: RunResult | undefined;
    try {
      if (this.active >= this.concurrency) await new Promise<void>((resolve) => this.waiting.push(resolve));
      this.active++;
      try {
        const stopped = control.reason;
        if (stopped) result = this.failed(envelope, span, stopped, started);
        else {
          const produced = await runInInvocation(
            { envelopeId: envelope.id, runId, hop: envelope.hop, agent: this.name },
            this.agent,
            input,
            this.served.runOptions(envelope, headers, control, parent, span),
          );
          result = this.checkResult(produced, envelope, span, started);
        }
      } catch (error) {
        result = this.failed(envelope, span, control.reason ?? BatonError.wrap(error), started);
      } finally {
        this.active--;
        this.waiting.shift()?.();
      }
      endSpan(span, result.error?.code, result.error?.message);
      countInvocation(this.name, result.status, result.bundle);
      const sent = channel.send(resultEnvelope(this.name, envelope, result));
      if (sent) await sent;
    } finally {
      control.dispose();
      this.runs.delete(runId);
      if (this.runs.size === 0 && this.idleWaiters.length > 0)
        for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }

  /** Span templates per subject (the core invoke subject and the durable one). */
  private spansFor(subject: string): MessagingSpans {
    let spans = this.spanTemplates.get(subject);
    if (!spans) {
      spans = new MessagingSpans('process', this.bus.system, subject, this.queueGroup);
      this.spanTemplates.set(subject, spans);
    }
    return spans;
  }

  private failed(envelope: Envelope, span: Span, error: BatonError, started: number): RunResult {
    const ids = span.spanContext();
    return localResult({
      agent: this.name,
      runId: envelope.runId,
      traceId: ids.traceId,
      spanId: ids.spanId,
      error,
      durationMs: performance.now() - started,
    });
  }

  /** The agent's result as it will cross the bus: the right shape, and an output that keeps the contract. */
  private checkResult(produced: unknown, envelope: Envelope, span: Span, started: number): RunResult {
    const result = readRunResult(produced);
    if (!result) {
      const error = new BatonError(
        'INTERNAL',
        `${this.name} returned something that is not a RunResult: ${explainRunResult(produced)}`,
      );
      return this.failed(envelope, span, error, started);
    }
    return checkOutput(result, this.handoff, this.name);
  }

  /** Sends a reply; one too large for the bus becomes a PAYLOAD_TOO_LARGE failure that still arrives. */
  sendReply(reply: string, envelope: Envelope): string {
    return sendReply(this, reply, envelope);
  }
}
