import {
  type AgentLike,
  BatonError,
  Budget,
  type Guardrails,
  type HandoffContract,
  type LongTimer as LongTimerHandle,
  MAX_TIMER_MS,
  type RunEvent,
  type RunEventSink,
  type RunOptions,
  type RunResult,
  setLongTimeout,
} from '@baton/core';
import { type Context, ROOT_CONTEXT, type Span, type Tracer, trace } from '@opentelemetry/api';
import { makeDeadLetter, publishDeadLetter } from '../dead-letter.js';
import {
  decodeEnvelope,
  type Envelope,
  encodeEnvelope,
  SYSTEM_CONTRACTS,
  systemEnvelope,
} from '../envelope.js';
import { type KillFlagWatch, type KillPayload, killedError, watchKillFlags } from '../kill.js';
import { isLedgerSubject } from '../ledger/channel.js';
import { RemoteLease } from '../ledger/lease.js';
import { bundleField, countInvocation } from '../metrics.js';
import { type AgentInfo, heartbeatEnvelope } from '../registry.js';
import { checkBundleId } from '../rollout/bundle-id.js';
import { checkToken, isSubjectToken, resolveNamespace, subjects } from '../subjects.js';
import { busTracer, endSpan, extractTraceContext, HEADER, MessagingSpans } from '../trace-context.js';
import type { Bus, BusHeaders, BusMessage, BusSubscription } from '../transport/types.js';
import { type Admission, type AdmissionRules, admit, callerGuardrails, tenantMismatch } from './admit.js';
import { runInInvocation } from './context.js';
import { checkOutput } from './contract-checks.js';
import { type ControlAck, readCancel, readKill, readRegistryQuery } from './control-messages.js';
import { WorkerGuard } from './guard.js';
import { combineGuardrails } from './guardrails.js';
import { answerStatusQuery } from './invocation-status.js';
import { RecentResults } from './recent-results.js';
import { errorEnvelope, eventEnvelope, oversizedReply, resultEnvelope } from './replies.js';
import { RunControl } from './run-control.js';
import { explainRunResult, localResult, readRunResult } from './run-result.js';
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
  STOPPING,
} from './worker-options.js';

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
  /** Journal, approvals and state key every run gets, when the worker was given them. */
  private readonly durability: Durability | undefined;
  /** The worker's own guards: on every run it serves, with whatever guards the caller sent. */
  private readonly guardrails: Guardrails | undefined;
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
  private readonly subscriptions: BusSubscription[] = [];
  /** Keeps every handler from throwing and turns away what cannot be read, on every subject. */
  private readonly guard = new WorkerGuard(this);
  private readonly stopGraceMs: number;
  private invokeSubscription: BusSubscription | undefined;
  /** The bundle this worker serves (rollout routing), when it declared one. */
  readonly bundle: string | undefined;
  private bundleSubscription: BusSubscription | undefined;
  private readonly watchKill: boolean;
  private killWatch: KillFlagWatch | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private active = 0;
  private killReason: BatonError | undefined;
  private accepting = true;
  private closing: Promise<void> | undefined;
  /** True once runs in flight were told to stop (stop(), or a drain that ran out of time). */
  private stopping = false;
  private drainLimit: LongTimerHandle | undefined;
  private onEscalate: (() => void) | undefined;
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
    this.durability = durabilityOf(options);
    this.guardrails = options.guardrails;
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
  }

  get inFlight(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting.length;
  }

  get killed(): boolean {
    return this.killReason !== undefined;
  }

  /** The kill reason once a kill switch stopped this worker. */
  get killError(): BatonError | undefined {
    return this.killReason;
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
      this.killWatch = await watchKillFlags(this.bus, ns, this.name, {
        kill: (payload) => this.kill(payload),
        resume: () => this.resume(),
      });
      if (this.killWatch?.initial) this.killReason = killedError(this.killWatch.initial);
    }
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
    if (this.recent) {
      this.subscriptions.push(
        this.bus.subscribe(
          subjects.agentStatus(ns, this.name),
          guard.wrap(
            (message) =>
              answerStatusQuery(this, message, (error, envelope) =>
                guard.refuse(message, error, envelope, true),
              ),
            true,
          ),
        ),
      );
    }
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
    this.announce();
    if (heartbeatMs > 0) {
      this.heartbeat = setInterval(() => this.announce(), heartbeatMs);
      this.heartbeat.unref();
    }
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
    this.closing ??= this.shutdown('drain');
    if (options.timeoutMs !== undefined && !this.drainLimit) {
      this.drainLimit = setLongTimeout(() => void this.stop(), options.timeoutMs).unref();
    }
    return this.closing;
  }

  /** Aborts the runs in flight — also when a drain is already under way (a second Ctrl-C). */
  stop(): Promise<void> {
    if (this.closing) this.escalate();
    else this.closing = this.shutdown('stop');
    return this.closing;
  }

  /** From draining to stopping: the runs in flight are aborted and get `stopGraceMs` to reply. */
  private escalate(): void {
    if (this.stopping) return;
    this.stopping = true;
    this.durableEscalate?.();
    const reason = new BatonError('ABORTED', `Worker ${this.instance} is stopping`, {
      // Resumable: the run is not over, its redelivery (or its resumed caller) continues it.
      details: { reason: STOPPING, instance: this.instance, resumable: true },
    });
    for (const control of this.runs.values()) control.abort(reason);
    this.onEscalate?.();
  }

  /** A core invocation: the reply goes to the message's reply subject. */
  private onInvoke(message: BusMessage): void {
    const channel = new CoreReply(this, message.reply);
    if (!this.accepting || this.killReason) {
      const error =
        this.killReason ?? new BatonError('BUS_CLOSED', `${this.name} (${this.instance}) is stopping`);
      const decoded = decodeEnvelope(message.string());
      void channel.send(errorEnvelope(this.name, decoded.ok ? decoded.envelope : undefined, error));
      return;
    }
    const admission = admit(message, this.rules, Date.now());
    if (!admission.ok) {
      this.reject(message, admission, channel);
      return;
    }
    // A rejection here would be unhandled, and Node ends the process on one: refuse the message instead.
    this.execute(admission.envelope, admission.input, message, channel).catch((error) =>
      this.guard.failed(message, error, false),
    );
  }

  /** Replies with a typed error and dead-letters the message: nothing is dropped silently. */
  reject(
    message: Received,
    admission: Extract<Admission, { ok: false }>,
    channel: ReplyChannel,
    deliveries?: number,
  ): void {
    const letter = makeDeadLetter({
      namespace: this.namespace,
      agent: this.name,
      instance: this.instance,
      subject: message.subject,
      error: admission.error,
      message,
      headers: message.headers,
      envelope: admission.envelope,
      ...(deliveries === undefined ? {} : { deliveries }),
    });
    publishDeadLetter(this.bus, letter);
    void channel.send(errorEnvelope(this.name, admission.envelope, admission.error));
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
            this.runOptions(envelope, headers, control, parent, span),
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

  /** The options the agent runs with; signal, budget and trace context are made when first read. */
  private runOptions(
    envelope: Envelope,
    headers: BusHeaders | undefined,
    control: RunControl,
    parent: Context,
    span: Span,
  ): RunOptions {
    // The signal is made on demand (an AbortSignal costs microseconds on Node 20); it is an own
    // property so that spreading the options keeps it.
    const options: RunOptions = {
      runId: envelope.runId,
      get signal() {
        return control.signal;
      },
      budget: Budget.fromRemaining(envelope.budget),
      // Admission refused any other tenant; an envelope from an older peer names none: the namespace's.
      tenantId: envelope.tenant ?? this.namespace,
    };
    if (envelope.user !== undefined) options.userId = envelope.user;
    if (envelope.session !== undefined) options.sessionId = envelope.session;
    const guardrails = combineGuardrails(callerGuardrails(envelope), this.guardrails);
    if (guardrails) options.guardrails = guardrails;
    const durability = this.durability;
    if (durability) Object.assign(options, durability);
    // Without a trace (no SDK, no incoming context) the agent starts its own; nothing to pass down.
    if (parent !== ROOT_CONTEXT || span.isRecording()) options.traceContext = trace.setSpan(parent, span);
    if (headers !== undefined) {
      if (headers[HEADER.EVENTS] !== undefined) options.events = this.eventSink(envelope);
      const parentRun = headers[HEADER.PARENT_RUN];
      if (parentRun !== undefined) options.parentRunId = parentRun;
      const inputFrom = headers[HEADER.INPUT_FROM];
      if (inputFrom !== undefined && isSubjectToken(inputFrom)) options.inputFrom = inputFrom;
      if (headers[HEADER.DRY_RUN] === '1') options.dryRun = true;
      // The caller's ledger, to settle with step by step; only a ledger subject of this namespace.
      const ledger = headers[HEADER.LEDGER];
      if (ledger !== undefined && isLedgerSubject(ledger, this.namespace)) {
        options.budget = new RemoteLease(this.bus, ledger, envelope.budget);
      }
    }
    return options;
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

  private eventSink(envelope: Envelope): RunEventSink {
    const subject = subjects.runEvents(this.namespace, envelope.runId);
    return {
      listens: () => this.bus.status !== 'closed',
      emit: (event: RunEvent) => {
        try {
          this.bus.publish(subject, encodeEnvelope(eventEnvelope(this.name, envelope, event)));
        } catch {
          // An event too large or not serializable must not break the run it describes.
        }
      },
    };
  }

  /** Sends a reply; one too large for the bus becomes a PAYLOAD_TOO_LARGE failure that still arrives. */
  sendReply(reply: string, envelope: Envelope): string {
    let data: string;
    try {
      data = encodeEnvelope(envelope);
      const size = data.length > this.bus.maxPayload / 3 ? Buffer.byteLength(data, 'utf8') : data.length;
      if (size > this.bus.maxPayload) {
        data = encodeEnvelope(oversizedReply(this.name, envelope, size, this.bus.maxPayload));
      }
    } catch (error) {
      data = encodeEnvelope(errorEnvelope(this.name, undefined, BatonError.wrap(error), envelope));
    }
    try {
      this.bus.publish(reply, data);
    } catch (error) {
      console.error(`[baton] ${this.name}: could not reply on ${reply}:`, error);
    }
    // The text as sent, so the reply can be sent again to a caller that lost it.
    return data;
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
        encodeEnvelope(heartbeatEnvelope(this.info())),
      );
    } catch {
      // A heartbeat lost to a disconnect is replaced by the next one.
    }
  }

  private async shutdown(mode: 'drain' | 'stop'): Promise<void> {
    this.accepting = false;
    this.invokeSubscription?.unsubscribe();
    this.bundleSubscription?.unsubscribe();
    this.killWatch?.stop();
    clearInterval(this.heartbeat);
    const durable = this.durableStopper?.(mode, this.stopGraceMs);
    const idle =
      this.runs.size === 0
        ? Promise.resolve()
        : new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    // Once stopping (now, or later during a drain), a run that ignores its signal gets a grace, no more.
    let grace: LongTimerHandle | undefined;
    const graceOver = new Promise<void>((resolve) => {
      this.onEscalate = () => {
        grace = setLongTimeout(resolve, this.stopGraceMs);
      };
    });
    if (mode === 'stop') this.escalate();
    await Promise.race([idle, graceOver]);
    grace?.clear();
    this.drainLimit?.clear();
    await durable;
    for (const sub of this.subscriptions) sub.unsubscribe();
    this.guard.close();
    if (this.bus.status !== 'closed') {
      try {
        await this.bus.flush();
      } catch {
        // Closing anyway.
      }
    }
  }
}

/** The reply of a core (non-durable) invocation: published to the message's reply subject, if any. */
class CoreReply implements ReplyChannel {
  constructor(
    private readonly worker: Worker,
    private readonly reply: string | undefined,
  ) {}

  send(envelope: Envelope): void {
    if (this.reply === undefined) return;
    const data = this.worker.sendReply(this.reply, envelope);
    this.worker.recent?.remember(envelope.correlationId, this.reply, data);
  }
}

/** What a worker adds to every run it serves, when it was given it. */
type Durability = Pick<
  RunOptions,
  'journal' | 'approvals' | 'approvalTimeoutMs' | 'stateKey' | 'audit' | 'auditRedact' | 'cache'
>;

function durabilityOf(options: ServeAgentOptions): Durability | undefined {
  const { journal, approvals, approvalTimeoutMs, stateKey, audit, auditRedact, cache } = options;
  if (!journal && !approvals && stateKey === undefined && !audit && !cache) return undefined;
  const durability: Durability = {};
  if (cache) durability.cache = cache;
  if (audit) durability.audit = audit;
  if (auditRedact) durability.auditRedact = auditRedact;
  if (journal) durability.journal = journal;
  if (approvals) durability.approvals = approvals;
  if (approvalTimeoutMs !== undefined) durability.approvalTimeoutMs = approvalTimeoutMs;
  if (stateKey !== undefined) durability.stateKey = stateKey;
  return durability;
}
