import { Budget, type Guardrails, type RunEvent, type RunEventSink, type RunOptions } from '@baton/core';
import { type Context, ROOT_CONTEXT, type Span, trace } from '@opentelemetry/api';
import { type Envelope, encodeEnvelope } from '../envelope.js';
import { isLedgerSubject } from '../ledger/channel.js';
import { RemoteLease } from '../ledger/lease.js';
import { isSubjectToken, subjects } from '../subjects.js';
import { HEADER } from '../trace-context.js';
import type { Bus, BusHeaders } from '../transport/types.js';
import { callerGuardrails } from './admit.js';
import { combineGuardrails } from './guardrails.js';
import { eventEnvelope } from './replies.js';
import type { RunControl } from './run-control.js';
import type { ServeAgentOptions } from './worker-options.js';

/**
 * The RunOptions every run a worker serves gets: what the invocation carries (budget, deadline signal,
 * tenant, user, caller's guards, trace context, event and ledger channels) and what the worker adds.
 */
export class ServedRunOptions {
  /** Journal, approvals and state key every run gets, when the worker was given them. */
  private readonly durability: Durability | undefined;
  /** The worker's own guards: on every run it serves, with whatever guards the caller sent. */
  private readonly guardrails: Guardrails | undefined;

  constructor(
    private readonly bus: Bus,
    private readonly name: string,
    private readonly namespace: string,
    options: ServeAgentOptions,
  ) {
    this.durability = durabilityOf(options);
    this.guardrails = options.guardrails;
  }

  /** The options the agent runs with; signal, budget and trace context are made when first read. */
  runOptions(
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
