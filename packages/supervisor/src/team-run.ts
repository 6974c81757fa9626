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
  type GuardRunContext,
  type Guardrails,
  guardsFor,
  type HandoffContract,
  inheritRunScope,
  JournalBatch,
  type JournalRecord,
  type JournalSession,
  type LongTimer,
  packageVersion,
  type RunResult,
  runGuards,
  setLongTimeout,
  spentOf,
  withoutToolResults,
  withTeam,
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
import { recordTeamEnd } from './metrics.js';
import { memberPreviews } from './previews.js';
import { statusOf } from './status.js';
import { isFinal, memberRunIdOf, recordedMemberResult } from './team-journal.js';
import type { StopSignal, TeamProgress } from './termination.js';
import type {
  HandoffRecord,
  MemberReport,
  PendingCall,
  StopReason,
  TeamCallPreview,
  TeamConfig,
  TeamResult,
  TeamRunOptions,
} from './types.js';

const defaultTracer: Tracer = trace.getTracer(
  '@baton/supervisor',
  packageVersion(import.meta.url, '../package.json'),
);

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

  /** The team's journal, when it keeps one: recorded handoffs replay, new ones are recorded. */
  private readonly journal: JournalSession | undefined;
  /** Handoffs made without a key of their own, numbered in dispatch order (the same on every resume). */
  private handoffs = 0;
  /** Calls that members are waiting on, when the team pauses for approval. */
  private readonly pending: PendingCall[] = [];
  /** Dry-run previews of every member, with their handoff's dispatch order (the transcript's order). */
  private readonly previews: { sequence: number; preview: TeamCallPreview }[] = [];
  /** Handoff keys this run reached, so recorded ones it did not reach are still accounted for. */
  private readonly visited = new Set<string>();
  /** Local members' journal sessions, made durable with the team's own end. */
  private readonly journalBatch = new JournalBatch();
  /** The team's bundle hash: on its span, its result and its metrics. */
  private readonly bundle: string | undefined;

  constructor(
    readonly config: TeamConfig,
    options: TeamRunOptions,
    input: unknown,
    journal?: { runId: string; session: JournalSession | undefined; failure?: BatonError; bundle?: string },
  ) {
    // A team started from inside a running member's tool draws from that member's lease and stops with it.
    this.options = inheritRunScope(options);
    options = this.options;
    this.runId = journal?.runId ?? options.runId ?? randomUUID();
    this.journal = journal?.session;
    this.journalBatch.upstream = this.journal;
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
      ...(options.sessionId ? { [GenAI.CONVERSATION_ID]: options.sessionId } : {}),
    });
    this.bundle = journal?.bundle;
    if (this.bundle !== undefined) this.span.setAttribute(BatonAttr.BUNDLE, this.bundle);
    // Members' runs carry the team on their metrics.
    this.workflowContext = withTeam(trace.setSpan(parent, this.span), config.name);
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
    if (journal?.failure) this.journalFailed(journal.failure);
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

  /** The tracer and the `invoke_workflow` context: an orchestrator's own spans (a plan) nest under it. */
  get tracing(): { tracer: Tracer; context: Context } {
    return { tracer: this.tracer, context: this.workflowContext };
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
    extra: {
      signal?: AbortSignal;
      runId?: string;
      compacted?: boolean;
      /** Identifies the handoff across a resume (default: its place in dispatch order). */
      key?: string;
      /**
       * The input is the orchestrator's own prompt (not another member's output), so it is not wrapped
       * as untrusted data; what it quotes from members must be wrapped by the orchestrator.
       */
      trustedInput?: boolean;
    } = {},
  ): Promise<Invocation<O> | undefined> {
    const key = extra.key ?? `h${this.handoffs++}`;
    const broken = this.journal?.failed;
    if (broken) this.journalFailed(broken);
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
    // A handoff the journal knows keeps its recorded place; new ones follow everything recorded.
    const known = this.journal?.handoff(key);
    const sequence =
      known && known.order !== Number.MAX_SAFE_INTEGER
        ? known.order - Number.MAX_SAFE_INTEGER
        : this.dispatched++;
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
    const memberRunId = extra.runId ?? memberRunIdOf(this.runId, key);
    const recorded = this.journal?.handoff(key);
    this.visited.add(key);
    let result: RunResult<O>;
    if (recorded?.done) {
      // Its result is in the journal: the member does not run again, but what it spent still counts.
      result = recordedMemberResult(recorded.done.result) as RunResult<O>;
      this.ledger.charge(spentOf(result));
      span.setAttribute('baton.replayed', true);
    } else {
      const sent = this.record({
        type: 'handoff.sent',
        at: Date.now(),
        key,
        member: member.name,
        memberRunId,
        from,
        input,
      });
      if (!sent) {
        span.end();
        return undefined;
      }
      const attempt = recorded?.sent ?? 0;
      // A member of a team run that just started has no records: its journal need not be read first.
      if (this.journal && !this.journal.resuming && extra.runId === undefined) {
        this.journalBatch.markFresh(memberRunId);
      }
      const running = this.runMember(member, input, trace.setSpan(this.workflowContext, span), {
        ...extra,
        runId: memberRunId,
        invocationKey: `${memberRunId}-a${attempt}`,
        from: extra.trustedInput ? 'user' : from,
      });
      this.inFlight.add(running);
      result = await running.finally(() => this.inFlight.delete(running));
      if (this.journal && isFinal(result)) {
        // Without its tool results: the member's own journal (or its process) keeps those.
        this.record({
          type: 'handoff.done',
          at: Date.now(),
          key,
          member: member.name,
          result: withoutToolResults(result),
        });
      }
    }
    this.notePreviews(member.name, result, sequence);
    if (result.status === 'awaiting_approval') {
      this.notePending(member.name, result);
      this.halt(this.pauseReason(), false);
    }
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
    /** What an orchestrator adds to its result (a plan-execute team's plans). */
    extra?: Pick<TeamResult<O>, 'plan'>,
  ): Promise<TeamResult<O>> {
    await this.settleInFlight();
    this.accountForUnvisited();
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
    if (this.bundle !== undefined) result.bundle = this.bundle;
    if (extra?.plan) result.plan = extra.plan;
    if (status === 'awaiting_approval') result.pending = [...this.pending];
    if (this.previews.length > 0) {
      result.previews = this.previews.sort((a, b) => a.sequence - b.sequence).map((entry) => entry.preview);
    }
    const unrecorded = await this.recordEnd(result);
    if (unrecorded) {
      // The work may be done, but the run is not durable: a resume would run part of it again. Said so.
      result.status = 'failed';
      result.stopReason = {
        kind: 'journal_failed',
        message: `the team's journal cannot be written: ${unrecorded.message}`,
      };
      delete result.pending;
    }
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
    recordTeamEnd(result, (this.options as { tenantId?: string }).tenantId, this.bundle);
    this.options.events?.emit({
      type: 'team.end',
      team: this.config.name,
      runId: this.runId,
      at: Date.now(),
      result,
    });
    return result;
  }

  /** Queues a record in the team's journal (written in order; flushed when the team pauses or ends). */
  private record(record: JournalRecord): boolean {
    this.journal?.append(record);
    return true;
  }

  private journalFailed(error: BatonError): void {
    this.halt({ kind: 'journal_failed', message: `the team's journal cannot be written: ${error.message}` });
  }

  /**
   * A resumed orchestrator does not always reach every recorded handoff again: a supervisor whose
   * manager's own result was recorded replays the manager's result without its delegations. Those
   * handoffs happened; the transcript, the member table and the ledger say so, in the order they were sent.
   */
  private accountForUnvisited(): void {
    if (!this.journal) return;
    for (const handoff of this.journal.completedHandoffs()) {
      if (this.visited.has(handoff.key)) continue;
      const result = recordedMemberResult(handoff.done.result);
      this.ledger.charge(spentOf(result));
      const record: HandoffRecord = {
        round: this.rounds,
        from: handoff.first?.from ?? 'unknown',
        to: handoff.done.member,
        input: handoff.first?.input,
        status: result.status,
        runId: result.runId,
        spanId: result.spanId,
        durationMs: result.durationMs,
      };
      if (result.status === 'completed') record.output = result.output;
      if (result.error) record.error = result.error;
      // Before what this run dispatched itself: everything recorded happened earlier.
      this.order.set(record, handoff.order - Number.MAX_SAFE_INTEGER);
      this.transcript.push(record);
      recordInvocation(this.members, handoff.done.member, result);
      this.notePreviews(handoff.done.member, result, handoff.order - Number.MAX_SAFE_INTEGER);
    }
    this.transcript.sort((a, b) => (this.order.get(a) ?? -1) - (this.order.get(b) ?? -1));
  }

  /**
   * The team's end in its journal: paused with the calls it waits for, or finished with its result.
   * Returns why it could not be recorded (the journal, or a member's, failed during the run or now).
   */
  private async recordEnd(result: TeamResult): Promise<BatonError | undefined> {
    const journal = this.journal;
    if (!journal) return undefined;
    try {
      if (result.status === 'awaiting_approval') {
        // The members' pauses first: a resume that finds the team paused finds each member paused too.
        await this.journalBatch.flush();
        await journal.appendNow({
          type: 'run.paused',
          at: Date.now(),
          elapsedMs: result.durationMs,
          status: 'awaiting_approval',
          pending: this.pending.map(({ runId, toolCallId, tool }) => ({ runId, toolCallId, tool })),
        });
      } else {
        // Written together with the members' last records: once the team's result is recorded, a
        // resume returns it and no member's journal is read again.
        journal.append({
          type: 'run.finished',
          at: Date.now(),
          elapsedMs: result.durationMs,
          status: result.status,
          result,
        });
        await Promise.all([this.journalBatch.flush(), journal.flush()]);
      }
    } catch (error) {
      // Another process resumed the team, or the journal is down: a resume replays and records the end.
      return BatonError.wrap(error);
    }
    return undefined;
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
    if (result.status === 'awaiting_approval') return this.pauseReason();
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
    extra: { signal?: AbortSignal; runId: string; invocationKey: string; from: string },
  ): Promise<RunResult<O>> {
    const { options } = this;
    const signal = extra.signal ?? this.signal;
    const grace = this.config.cancelGraceMs ?? DEFAULT_CANCEL_GRACE_MS;
    const guardrails = this.guardrails;
    const remote = (member.agent as { kind?: unknown }).kind === 'remote';
    // The team's input and output guards stand at the handoff, here, so they hold for every member
    // whatever process it runs in; its tool and memory guards travel to a remote member's process as
    // recipes (the remote proxy refuses the handoff when one cannot), since only that process sees them.
    if (remote && guardrails?.input?.length) {
      const checked = await runGuards(
        guardsFor('input', guardrails),
        'input',
        input,
        this.guardContext(member.name, signal),
      );
      if (checked.tripped)
        return failedResult<O>(member.name, checked.error, this.traceId, 'guardrail_tripped');
      input = checked.value as I;
    }
    const running = member.agent.run(input, {
      signal,
      runId: extra.runId,
      invocationKey: extra.invocationKey,
      // What another member produced is data for this one, not instructions.
      ...(extra.from !== 'user' ? { inputFrom: extra.from } : {}),
      budget: this.ledger,
      parentRunId: this.runId,
      // A caller's tracer goes down to the members; otherwise each package's own (its instrumentation scope).
      ...(options.tracer ? { tracer: options.tracer } : {}),
      traceContext,
      ...(options.events ? { events: options.events } : {}),
      ...(options.userId ? { userId: options.userId } : {}),
      ...(options.sessionId ? { sessionId: options.sessionId } : {}),
      ...(options.captureContent ? { captureContent: true } : {}),
      ...(options.approve ? { approve: options.approve } : {}),
      ...(options.approvals ? { approvals: options.approvals } : {}),
      ...(options.approvalTimeoutMs !== undefined ? { approvalTimeoutMs: options.approvalTimeoutMs } : {}),
      ...(options.journal ? { journal: options.journal, journalBatch: this.journalBatch } : {}),
      ...(options.stateKey !== undefined ? { stateKey: options.stateKey } : {}),
      ...(options.migrate ? { migrate: true } : {}),
      ...(options.dryRun ? { dryRun: true } : {}),
      ...(options.credentials ? { credentials: options.credentials } : {}),
      ...(options.cache && !remote ? { cache: options.cache } : {}),
      ...(guardrails ? { guardrails: remote ? remoteStages(guardrails) : guardrails } : {}),
    });
    let result: RunResult<O>;
    try {
      result = await withCancelGrace(running, signal, member.name, grace);
    } catch (caught) {
      return failedResult<O>(member.name, BatonError.wrap(caught), this.traceId);
    }
    if (remote && result.status === 'completed' && guardrails?.output?.length) {
      const checked = await runGuards(
        guardsFor('output', guardrails),
        'output',
        result.output,
        this.guardContext(member.name, signal),
      );
      if (checked.tripped) {
        return { ...result, status: 'guardrail_tripped', output: undefined, error: checked.error.toJSON() };
      }
      result = { ...result, output: checked.value as O };
    }
    return result;
  }

  /** The team's guardrails over the enclosing team's (outer first), or undefined when there are none. */
  private get guardrails(): Guardrails | undefined {
    const outer = this.options.guardrails;
    const own = this.config.guardrails;
    if (!outer) return own;
    if (!own) return outer;
    const stages = ['input', 'output', 'toolInput', 'toolOutput', 'memoryWrite'] as const;
    return Object.fromEntries(
      stages.map((stage) => [stage, [...(outer[stage] ?? []), ...(own[stage] ?? [])]]),
    );
  }

  private guardContext(agent: string, signal: AbortSignal): GuardRunContext {
    const context: GuardRunContext = { runId: this.runId, agent, signal, events: this.options.events };
    if (this.options.userId !== undefined) context.userId = this.options.userId;
    return context;
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
  /** A member waits for a person: the team pauses (no new work) and resumes when it is decided. */
  pauseReason(): StopReason {
    const calls = this.pending.map((call) => `${call.tool} (${call.member})`).join(', ');
    return {
      kind: 'awaiting_approval',
      agent: this.pending[0]?.member,
      message: `waiting for a person to decide on ${this.pending.length} call(s): ${calls}`,
    };
  }

  /** A member's dry-run previews, kept for the team's result (a replayed handoff's come from its record). */
  private notePreviews(member: string, result: RunResult, sequence: number): void {
    for (const preview of memberPreviews(member, result)) this.previews.push({ sequence, preview });
  }

  private notePending(member: string, result: RunResult): void {
    const state = result.state;
    for (const toolCallId of state?.pending?.awaiting ?? []) {
      const call = state?.pending?.toolCalls.find((candidate) => toolCallId.startsWith(candidate.id));
      this.pending.push({
        member,
        runId: result.runId,
        toolCallId,
        tool: call?.name ?? 'unknown',
        args: call?.arguments,
      });
    }
  }

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

/** The guard stages a remote member's own process must run: what happens inside its run. */
function remoteStages(guardrails: Guardrails): Guardrails {
  const inside: Guardrails = {};
  if (guardrails.toolInput?.length) inside.toolInput = guardrails.toolInput;
  if (guardrails.toolOutput?.length) inside.toolOutput = guardrails.toolOutput;
  if (guardrails.memoryWrite?.length) inside.memoryWrite = guardrails.memoryWrite;
  return inside;
}
