import { randomUUID } from 'node:crypto';
import {
  type AgentLike,
  addUsage,
  BatonAttr,
  BatonError,
  type BatonErrorCode,
  Budget,
  type BudgetBreach,
  emptyUsage,
  GenAI,
  GenAIOperation,
  type HandoffContract,
  inheritRunScope,
  type LongTimer,
  type RunResult,
  setLongTimeout,
} from '@baton/core';
import {
  type Context,
  context,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import {
  DEFAULT_CANCEL_GRACE_MS,
  failedResult,
  type HandoffIssue,
  handoffError,
  withCancelGrace,
} from './member-call.js';
import { recordInvocation, sumUnpriced } from './member-reports.js';
import { statusOf } from './status.js';
import type { StopSignal, TeamProgress } from './termination.js';
import type {
  HandoffRecord,
  MemberReport,
  StopReason,
  TeamConfig,
  TeamResult,
  TeamRunOptions,
} from './types.js';

const defaultTracer: Tracer = trace.getTracer('@baton/supervisor', '0.1.0');

export interface Member<I = unknown, O = unknown> {
  name: string;
  agent: AgentLike<I, O>;
  contract?: HandoffContract<I, O>;
}

export interface Invocation<O> {
  result: RunResult<O>;
  /** Completed, and its output valid for the contract. */
  ok: boolean;
  record: HandoffRecord;
}

/**
 * The machinery every orchestrator shares for one team run: one budget ledger for all members, one abort
 * controller that conditions and callers fire, the `invoke_workflow` span, handoff validation on both
 * sides, per-member accounting, the transcript, and the final TeamResult.
 */
export class TeamRun {
  readonly runId: string;
  readonly ledger: Budget;
  readonly signal: AbortSignal;
  readonly transcript: HandoffRecord[] = [];
  readonly members = new Map<string, MemberReport>();
  rounds = 0;
  stopReason: StopReason | undefined;
  /** Dispatch order of handoffs, so parallel ones appear in the transcript in the order they were sent. */
  private dispatched = 0;
  private readonly order = new WeakMap<HandoffRecord, number>();
  /** Member invocations not yet settled: a team never returns while work it started still runs. */
  private readonly inFlight = new Set<Promise<unknown>>();
  private last: TeamProgress['last'];
  private readonly controller = new AbortController();
  private readonly started = performance.now();
  private readonly span: Span;
  private readonly workflowContext: Context;
  private readonly tracer: Tracer;
  private readonly callerSignal: AbortSignal | undefined;
  private readonly onCallerAbort = () => {
    const reason = this.callerSignal?.reason;
    const timedOut =
      reason instanceof BatonError && (reason.code === 'TIMEOUT' || reason.code === 'DEADLINE_EXCEEDED');
    this.halt(
      timedOut
        ? { kind: 'timeout', message: `the team run's caller timed out: ${reason.message}` }
        : { kind: 'aborted', message: 'the team run was aborted' },
    );
  };
  private readonly stopWatchingLedger: () => void;
  private deadlineTimer: LongTimer | undefined;

  readonly options: TeamRunOptions;

  constructor(
    readonly config: TeamConfig,
    options: TeamRunOptions,
    input: unknown,
  ) {
    // A team started from inside a running member's tool draws from that member's lease and stops with it.
    this.options = inheritRunScope(options);
    options = this.options;
    this.runId = options.runId ?? randomUUID();
    this.ledger = options.budget
      ? options.budget.lease(config.budget ?? {})
      : new Budget(config.budget ?? {});
    this.callerSignal = options.signal;
    this.signal = this.controller.signal;
    this.tracer = options.tracer ?? defaultTracer;
    const parent = options.traceContext ?? context.active();
    this.span = this.tracer.startSpan(`invoke_workflow ${config.name}`, { kind: SpanKind.INTERNAL }, parent);
    this.span.setAttributes({
      [GenAI.OPERATION_NAME]: GenAIOperation.INVOKE_WORKFLOW,
      [BatonAttr.TEAM]: config.name,
      [BatonAttr.RUN_ID]: this.runId,
    });
    this.workflowContext = trace.setSpan(parent, this.span);
    if (options.signal?.aborted) this.onCallerAbort();
    else options.signal?.addEventListener('abort', this.onCallerAbort, { once: true });
    // An exhausted ledger stops members mid-run too, not only the next handoff.
    this.stopWatchingLedger = this.ledger.onBreach((found) => this.budgetSpent(found));
    const deadline = this.ledger.deadline();
    if (deadline !== undefined) {
      this.deadlineTimer = setLongTimeout(
        () => this.halt({ kind: 'timeout', message: 'the team reached the deadline it was given' }),
        deadline - Date.now(),
      );
    }
    config.termination?.start?.((signal) => this.conditionFired(signal));
    options.events?.emit({
      type: 'team.start',
      team: config.name,
      runId: this.runId,
      traceId: this.traceId,
      at: Date.now(),
      input,
    });
  }

  get traceId(): string {
    return this.span.spanContext().traceId;
  }

  /** True once the team must not start new work. */
  get stopped(): boolean {
    return this.stopReason !== undefined || this.signal.aborted;
  }

  /** True when the team ledger is nearly spent: time to ask for a final answer rather than start new work. */
  get budgetLow(): boolean {
    const threshold = this.config.finalAnswerAt ?? 0.8;
    if (this.ledger.pressure().fraction >= threshold) return true;
    const deadline = this.ledger.deadline();
    return deadline !== undefined && Date.now() >= deadline;
  }

  progress(): TeamProgress {
    const used = this.ledger.used;
    const progress: TeamProgress = {
      rounds: this.rounds,
      messages: this.transcript.length,
      tokens: used.tokens,
      costUsd: used.costUsd,
      elapsedMs: performance.now() - this.started,
    };
    if (this.last) progress.last = this.last;
    return progress;
  }

  /** Ends a round and checks the conditions and the hard round cap; returns true when the team must stop. */
  endRound(): boolean {
    this.rounds++;
    this.options.events?.emit({
      type: 'team.round',
      team: this.config.name,
      runId: this.runId,
      at: Date.now(),
      round: this.rounds,
    });
    this.checkConditions();
    const cap = this.config.maxRounds;
    if (!this.stopReason && cap !== undefined && this.rounds >= cap) {
      this.halt({ kind: 'max_rounds', message: `the team reached its cap of ${cap} rounds` }, false);
    }
    return this.stopped;
  }

  /**
   * Stops the team; `cancel` (the default) also aborts every in-flight member — local runs, remote runs,
   * their tools and model calls. A soft stop (no new work) is overridden by a later cancelling one: a
   * halted team whose members keep running still times out, and then says so.
   */
  halt(reason: StopReason, cancel = true, code: BatonErrorCode = abortCode(reason)): void {
    if (!cancel) {
      this.stopReason ??= reason;
      return;
    }
    if (this.signal.aborted) return;
    this.stopReason = reason;
    this.controller.abort(new BatonError(code, `Team "${this.config.name}" stopped: ${reason.message}`));
  }

  /**
   * Hands `input` to a member and waits for its result. Validates the input against the member's contract
   * before sending (a bad handoff is the sender's fault) and the output after (a bad answer is the
   * member's fault). Returns undefined when the team has already stopped: no new work is started.
   */
  async invoke<I, O>(
    member: Member<I, O>,
    input: I,
    from: string,
    extra: { signal?: AbortSignal; runId?: string; compacted?: boolean } = {},
  ): Promise<Invocation<O> | undefined> {
    if (this.stopped) return undefined;
    const breach = this.ledger.breach();
    if (breach) {
      this.halt({ kind: 'budget', message: `${breach.message}: no new work started` }, false);
      return undefined;
    }
    const contract = member.contract;
    if (contract) {
      const parsed = contract.input.safeParse(input);
      if (!parsed.success) {
        this.rejectHandoff(member.name, from, contract.id, input, parsed.error.issues, 'input');
        return undefined;
      }
      input = parsed.data;
    }
    this.options.events?.emit({
      type: 'team.handoff',
      team: this.config.name,
      runId: this.runId,
      at: Date.now(),
      round: this.rounds + 1,
      from,
      to: member.name,
    });
    const sequence = this.dispatched++;
    const span = this.tracer.startSpan(
      `handoff ${member.name}`,
      { kind: SpanKind.PRODUCER },
      this.workflowContext,
    );
    span.setAttributes({
      'messaging.system.name': 'baton',
      'messaging.operation.type': 'send',
      'messaging.destination.name': member.name,
      [BatonAttr.TEAM]: this.config.name,
      'baton.handoff.from': from,
      ...(contract ? { 'baton.handoff.contract': contract.id } : {}),
    });
    const started = performance.now();
    const running = this.runMember(member, input, trace.setSpan(this.workflowContext, span), extra);
    this.inFlight.add(running);
    const result = await running.finally(() => this.inFlight.delete(running));
    let ok = result.status === 'completed';
    let output: unknown = result.output;
    if (ok && contract) {
      const parsed = contract.output.safeParse(result.output);
      if (parsed.success) output = parsed.data;
      else {
        ok = false;
        result.status = 'failed';
        result.error = handoffError(member.name, contract.id, 'output', parsed.error.issues).toJSON();
      }
    }
    if (!ok) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: result.error?.message ?? result.status });
      if (result.error) span.setAttribute('error.type', result.error.code);
    }
    span.end();
    const record: HandoffRecord = {
      round: this.rounds + 1,
      from,
      to: member.name,
      input,
      status: result.status,
      runId: result.runId,
      spanId: result.spanId,
      durationMs: performance.now() - started,
    };
    if (contract) record.contract = contract.id;
    if (extra.compacted) record.compacted = true;
    if (ok) record.output = output;
    if (result.error) record.error = result.error;
    this.order.set(record, sequence);
    this.transcript.push(record);
    this.transcript.sort((a, b) => (this.order.get(a) ?? -1) - (this.order.get(b) ?? -1));
    recordInvocation(this.members, member.name, result);
    if (ok) {
      const text = typeof output === 'string' ? output : JSON.stringify(output);
      this.last = { agent: member.name, text, output };
    }
    this.checkConditions();
    return { result: { ...result, output: output as O }, ok, record };
  }

  /**
   * Builds the final result, ends the span, and resets the conditions for the next run. `natural` is the
   * orchestrator's own end (all stages done, approved, converged) when it was reached: work that really
   * finished is reported as finished even if a stop came at the same moment. The status is always the
   * one `stopReason` implies.
   */
  async finish<O>(
    output: O | undefined,
    natural: StopReason | undefined,
    fallback: StopReason,
  ): Promise<TeamResult<O>> {
    await this.settleInFlight();
    this.options.signal?.removeEventListener('abort', this.onCallerAbort);
    this.stopWatchingLedger();
    this.deadlineTimer?.clear();
    this.config.termination?.reset();
    const stopReason = natural ?? this.stopReason ?? fallback;
    const status = statusOf(stopReason);
    const usage = emptyUsage();
    let costUsd = 0;
    for (const report of this.members.values()) {
      addUsage(usage, report.usage);
      costUsd += report.costUsd;
    }
    const unpriced = sumUnpriced(this.members.values());
    const result: TeamResult<O> = {
      team: this.config.name,
      status,
      output,
      stopReason,
      rounds: this.rounds,
      transcript: this.transcript,
      members: Object.fromEntries(this.members),
      usage,
      costUsd,
      durationMs: performance.now() - this.started,
      runId: this.runId,
      traceId: this.traceId,
      spanId: this.span.spanContext().spanId,
      budget: { limits: { ...this.ledger.limits }, used: { ...this.ledger.used } },
    };
    if (unpriced) result.unpriced = unpriced;
    this.span.setAttributes({
      [BatonAttr.RUN_STATUS]: status,
      [BatonAttr.STOP_REASON]: stopReason.kind,
      [BatonAttr.ROUNDS]: this.rounds,
      [BatonAttr.COST_USD]: costUsd,
      [GenAI.USAGE_INPUT_TOKENS]: usage.inputTokens,
      [GenAI.USAGE_OUTPUT_TOKENS]: usage.outputTokens,
    });
    if (status !== 'completed')
      this.span.setStatus({ code: SpanStatusCode.ERROR, message: stopReason.message });
    this.span.end();
    this.options.events?.emit({
      type: 'team.end',
      team: this.config.name,
      runId: this.runId,
      at: Date.now(),
      result,
    });
    return result;
  }

  /**
   * Work still running when the team ends (a delegation whose manager was cut short, a member of a
   * cancelled team) is cancelled, and its partial result waited for — within the cancel grace — so the
   * transcript and the member table say what it did, and nothing the team started outlives it.
   */
  private async settleInFlight(): Promise<void> {
    if (this.inFlight.size === 0) return;
    if (!this.signal.aborted) {
      this.controller.abort(
        new BatonError('ABORTED', `Team "${this.config.name}" finished: work still running was cancelled`),
      );
    }
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Why the team must stop after a member did not complete: the budget, the team's own stop, or the member. */
  failureReason(invocation: Invocation<unknown>): StopReason {
    const { result } = invocation;
    const breach = this.ledger.breach();
    if (breach) return { kind: 'budget', agent: result.agent, message: breach.message };
    if (this.stopReason) return this.stopReason;
    const message = result.error ? `${result.error.code}: ${result.error.message}` : result.status;
    return {
      kind: 'member_failed',
      agent: invocation.record.to,
      message: `${invocation.record.to} ended ${result.status} (${message})`,
    };
  }

  private async runMember<I, O>(
    member: Member<I, O>,
    input: I,
    traceContext: Context,
    extra: { signal?: AbortSignal; runId?: string },
  ): Promise<RunResult<O>> {
    const { options } = this;
    const signal = extra.signal ?? this.signal;
    const grace = this.config.cancelGraceMs ?? DEFAULT_CANCEL_GRACE_MS;
    const running = member.agent.run(input, {
      signal,
      ...(extra.runId ? { runId: extra.runId } : {}),
      budget: this.ledger,
      parentRunId: this.runId,
      tracer: this.tracer,
      traceContext,
      ...(options.events ? { events: options.events } : {}),
      ...(options.userId ? { userId: options.userId } : {}),
      ...(options.sessionId ? { sessionId: options.sessionId } : {}),
      ...(options.captureContent ? { captureContent: true } : {}),
      ...(options.approve ? { approve: options.approve } : {}),
    });
    try {
      return await withCancelGrace(running, signal, member.name, grace);
    } catch (caught) {
      return failedResult<O>(member.name, BatonError.wrap(caught), this.traceId);
    }
  }

  private rejectHandoff(
    to: string,
    from: string,
    contract: string,
    input: unknown,
    issues: HandoffIssue[],
    side: 'input',
  ): void {
    const error = handoffError(from, contract, side, issues);
    const record: HandoffRecord = {
      round: this.rounds + 1,
      from,
      to,
      contract,
      input,
      status: 'failed',
      runId: '',
      spanId: '',
      durationMs: 0,
      error: error.toJSON(),
    };
    this.order.set(record, this.dispatched++);
    this.transcript.push(record);
    this.halt({ kind: 'handoff_invalid', agent: from, message: error.message }, false);
  }

  private checkConditions(): void {
    const fired = this.config.termination?.check(this.progress());
    if (fired) this.conditionFired(fired);
  }

  /**
   * A timer or an outside signal stops in-flight work, even after an earlier soft stop; a condition met
   * after a handoff just ends the team (no new work).
   */
  private conditionFired(signal: StopSignal): void {
    const reason: StopReason = {
      kind: signal.timedOut ? 'timeout' : 'condition',
      condition: signal.condition,
      message: signal.message,
    };
    if (signal.interrupt === true) this.halt(reason);
    else this.halt(reason, false);
  }

  /** Members cancelled for the team's budget end `budget_exceeded`, like a member that hit it itself. */
  private budgetSpent(found: BudgetBreach): void {
    const reason: StopReason = {
      kind: 'budget',
      message: `${found.message}: in-flight members were cancelled`,
    };
    if (found.code === 'PRICE_UNKNOWN') reason.message = found.message;
    this.halt(reason, true, found.code);
  }
}

function abortCode(reason: StopReason): BatonErrorCode {
  if (reason.kind === 'timeout') return 'TIMEOUT';
  if (reason.kind === 'budget') return 'BUDGET_TOKENS';
  return 'ABORTED';
}
