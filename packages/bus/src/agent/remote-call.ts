import {
  BatonError,
  type Budget,
  type BudgetRemaining,
  type HandoffContract,
  inheritRunScope,
  type RunEvent,
  type RunOptions,
  type RunResult,
  timerDelay,
  totalTokens,
} from '@baton/core';
import { context, type Tracer } from '@opentelemetry/api';
import { decodeEnvelope, type Envelope, encodeEnvelope, SYSTEM_CONTRACTS } from '../envelope.js';
import { nextId } from '../ids.js';
import { type LedgerChannel, openLedgerChannel } from '../ledger/channel.js';
import { subjects } from '../subjects.js';
import { endSpan, HEADER, injectTraceContext, MessagingSpans } from '../trace-context.js';
import type { Bus, BusHeaders, BusMessage, BusSubscription, RequestOptions } from '../transport/types.js';
import { currentInvocation } from './context.js';
import { abortReasonOf, guardRecipes, hasTrace, precheck, reserveFor, resultIds } from './remote-checks.js';
import { readReply } from './remote-reply.js';
import type { Delivery, RemoteDurableOptions, Sender } from './remote-types.js';
import { recoverRepliesOn } from './reply-recovery.js';
import { localResult } from './run-result.js';

/** What a remote agent's calls are made with, from its options. */
export interface CallSettings {
  name: string;
  contract: HandoffContract;
  namespace: string;
  subject: string;
  timeoutMs: number;
  cancelGraceMs: number;
  maxHops: number;
  from: string;
  tracer: Tracer;
  durable: RemoteDurableOptions | undefined;
}

/** The calls of one remote agent: each sends an invocation, waits for the reply and reads it. */
export class RemoteCall {
  private sender: Sender | undefined;
  private readonly spans: MessagingSpans;

  constructor(
    private readonly bus: Bus,
    private readonly settings: CallSettings,
  ) {
    this.spans = new MessagingSpans('send', bus.system, settings.subject);
  }

  async run(input: unknown, given: RunOptions): Promise<RunResult> {
    const started = performance.now();
    const { settings, bus } = this;
    // Called from inside a running member (a tool that calls another agent): charge that member's lease
    // and stop when it stops, in whatever process it runs.
    const options = inheritRunScope(given);
    const runId = options.runId ?? nextId();
    const parentContext = options.traceContext ?? context.active();
    const invocation = currentInvocation();
    const hop = invocation ? invocation.hop + 1 : 0;
    const checked = precheck(bus, settings, input, options, runId, hop);
    if ('stop' in checked) {
      return localResult({
        ...checked.stop,
        ...resultIds(undefined),
        durationMs: performance.now() - started,
      });
    }
    const recipes = guardRecipes(settings.name, options);
    if ('error' in recipes) {
      return localResult({
        ...this.base(runId),
        ...resultIds(undefined),
        error: recipes.error,
        durationMs: performance.now() - started,
      });
    }

    const now = Date.now();
    let deadline = now + settings.timeoutMs;
    const budgetDeadline = options.budget?.deadline();
    if (budgetDeadline !== undefined && budgetDeadline < deadline) deadline = budgetDeadline;
    deadline = Math.floor(deadline);
    const workerDeadline = Math.floor(deadline - reserveFor(deadline - now));
    const remaining: BudgetRemaining = options.budget ? options.budget.remaining() : {};
    remaining.deadline = workerDeadline;

    const id = options.invocationKey ?? nextId();
    const envelope: Envelope = {
      v: 1,
      id,
      kind: 'invoke',
      contract: settings.contract.id,
      from: invocation?.agent ?? settings.from,
      to: settings.name,
      runId,
      correlationId: id,
      causationId: invocation?.envelopeId ?? null,
      deadline: workerDeadline,
      budget: remaining,
      attempt: 1,
      hop,
      // The tenant defaults to the namespace: the worker serves exactly that tenant and refuses others.
      tenant: options.tenantId ?? settings.namespace,
      payload: checked.input,
    };
    if (options.userId !== undefined) envelope.user = options.userId;
    if (options.sessionId !== undefined) envelope.session = options.sessionId;
    if (recipes.guards !== undefined) envelope.guards = recipes.guards;
    let data: string;
    try {
      data = encodeEnvelope(envelope);
    } catch (error) {
      return localResult({
        ...this.base(runId),
        ...resultIds(undefined),
        error: BatonError.wrap(error),
        durationMs: 0,
      });
    }

    const span = this.spans.start(settings.tracer, parentContext, envelope, { size: data.length });
    let headers: BusHeaders | undefined;
    if (hasTrace(span)) {
      headers = {};
      injectTraceContext(parentContext, span, headers);
    }
    let events: BusSubscription | undefined;
    if (options.events) {
      headers ??= {};
      headers[HEADER.EVENTS] = '1';
      events = this.forwardEvents(runId, id, options.events);
    }
    if (options.parentRunId !== undefined) {
      headers ??= {};
      headers[HEADER.PARENT_RUN] = options.parentRunId;
    }
    if (options.inputFrom !== undefined) {
      headers ??= {};
      headers[HEADER.INPUT_FROM] = options.inputFrom;
    }
    if (options.dryRun) {
      headers ??= {};
      headers[HEADER.DRY_RUN] = '1';
    }
    let ledger: LedgerChannel | undefined;
    if (options.budget) {
      ledger = openLedgerChannel(bus, settings.namespace, options.budget);
      headers ??= {};
      headers[HEADER.LEDGER] = ledger.subject;
    }

    let result: RunResult;
    try {
      const reply = await this.deliver({ envelope, data, headers, deadline, signal: options.signal }, runId);
      result = readReply(settings, reply, envelope, span, started);
    } catch (caught) {
      const error = BatonError.wrap(caught);
      if (error.code === 'DEADLINE_EXCEEDED' || error.code === 'BUS_DISCONNECTED')
        this.cancel(runId, id, error, envelope.tenant);
      result = localResult({
        ...this.base(runId),
        ...resultIds(span),
        error,
        durationMs: performance.now() - started,
      });
    } finally {
      events?.unsubscribe();
      ledger?.close();
    }
    if (options.budget) settleRest(options.budget, result, ledger);
    endSpan(span, result.error?.code, result.error?.message);
    return result;
  }

  private base(runId: string): { agent: string; runId: string } {
    return { agent: this.settings.name, runId };
  }

  /**
   * Delivers and waits. An abort sends a cancel and keeps waiting a grace period for the remote partial
   * result; after that the call ends with the abort reason.
   */
  private deliver(delivery: Delivery, runId: string): Promise<BusMessage> {
    const sender = this.sender;
    if (!sender) return this.makeSender().then(() => this.deliver(delivery, runId));
    const callerSignal = delivery.signal;
    if (!callerSignal) return sender(delivery);
    return this.deliverCancellable(sender, delivery, callerSignal, runId);
  }

  private async deliverCancellable(
    sender: Sender,
    delivery: Delivery,
    callerSignal: AbortSignal,
    runId: string,
  ): Promise<BusMessage> {
    const internal = new AbortController();
    let grace: NodeJS.Timeout | undefined;
    const onAbort = () => {
      const reason = abortReasonOf(callerSignal);
      this.cancel(runId, delivery.envelope.id, reason, delivery.envelope.tenant);
      const wait = Math.max(0, Math.min(this.settings.cancelGraceMs, delivery.deadline - Date.now()));
      grace = setTimeout(() => internal.abort(reason), timerDelay(wait));
    };
    callerSignal.addEventListener('abort', onAbort, { once: true });
    try {
      return await sender({ ...delivery, signal: internal.signal });
    } finally {
      clearTimeout(grace);
      callerSignal.removeEventListener('abort', onAbort);
    }
  }

  private async makeSender(): Promise<Sender> {
    if (this.settings.durable) {
      const { durableSender } = await import('../durable/caller.js');
      const sender = this.sender ?? durableSender(this.bus, this.settings.namespace, this.settings.durable);
      this.sender = sender;
      return sender;
    }
    const bus = this.bus;
    const subject = this.settings.subject;
    recoverRepliesOn(bus);
    this.sender = (delivery) => {
      const options: RequestOptions = {
        timeoutMs: delivery.deadline - Date.now(),
        // Lets a reply lost to a reconnect be asked for (reply-recovery.ts); the envelope exists anyway.
        tag: delivery.envelope,
      };
      if (delivery.signal) options.signal = delivery.signal;
      if (delivery.headers) options.headers = delivery.headers;
      return bus.request(subject, delivery.data, options);
    };
    return this.sender;
  }

  /** Tells the worker to stop the run; best effort (the worker may already be done). */
  private cancel(runId: string, invocationId: string, reason: BatonError, tenant: string | undefined): void {
    const id = nextId();
    const envelope: Envelope<{ reason: ReturnType<BatonError['toJSON']> }> = {
      v: 1,
      id,
      kind: 'cancel',
      contract: SYSTEM_CONTRACTS.cancel,
      from: this.settings.from,
      to: this.settings.name,
      runId,
      correlationId: invocationId,
      causationId: invocationId,
      deadline: null,
      budget: {},
      attempt: 1,
      hop: 0,
      payload: { reason: reason.toJSON() },
    };
    if (tenant !== undefined) envelope.tenant = tenant;
    try {
      this.bus.publish(subjects.runCancel(this.settings.namespace, runId), encodeEnvelope(envelope));
    } catch {
      // The bus is down: the worker's own deadline stops the run.
    }
  }

  /** Re-emits the remote run's events (including nested members') into the caller's sink. */
  private forwardEvents(runId: string, invocationId: string, sink: NonNullable<RunOptions['events']>) {
    return this.bus.subscribe(subjects.runEvents(this.settings.namespace, runId), (message) => {
      const decoded = decodeEnvelope(message.string());
      if (!decoded.ok || decoded.envelope.kind !== 'event') return;
      if (decoded.envelope.correlationId !== invocationId) return;
      const event = decoded.envelope.payload as RunEvent | undefined;
      if (!event || typeof event.type !== 'string' || typeof event.runId !== 'string') return;
      try {
        sink.emit(event);
      } catch {
        // A failing listener must not break the call.
      }
    });
  }
}

/**
 * Charges what the remote run spent that its settlements did not already bring in: its own steps and
 * every run its tools started (`result.spent`), minus what arrived step by step over the ledger channel.
 */
function settleRest(budget: Budget, result: RunResult, ledger: LedgerChannel | undefined): void {
  const reported = result.spent ?? {
    steps: result.steps,
    tokens: totalTokens(result.usage),
    costUsd: result.costUsd,
    ...(result.unpriced ? { unpricedSteps: result.unpriced.steps } : {}),
  };
  const settled = ledger?.settled;
  const steps = Math.max(0, reported.steps - (settled?.steps ?? 0));
  const tokens = Math.max(0, reported.tokens - (settled?.tokens ?? 0));
  const costUsd = Math.max(0, reported.costUsd - (settled?.costUsd ?? 0));
  const unpricedSteps = Math.max(0, (reported.unpricedSteps ?? 0) - (settled?.unpricedSteps ?? 0));
  if (steps === 0 && tokens === 0 && costUsd === 0 && unpricedSteps === 0) return;
  budget.charge(unpricedSteps > 0 ? { steps, tokens, costUsd, unpricedSteps } : { steps, tokens, costUsd });
}
