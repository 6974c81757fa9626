import { randomUUID } from 'node:crypto';
import {
  BatonError,
  type BatonErrorCode,
  Budget,
  inheritRunScope,
  JournalBatch,
  type JournalSession,
  type RunResult,
  withTeam,
} from '@baton/core';
import { type Context, context, type Span, type Tracer, trace } from '@opentelemetry/api';
import { checkOutput, handoffRecord, pendingCalls, rejectedRecord, transcribe } from './handoff-records.js';
import { type HandoffIssue, handoffError } from './member-call.js';
import { recordInvocation } from './member-reports.js';
import { type Invocation, type Member, runMember, settleInFlight } from './member-run.js';
import { recordTeamEnd } from './metrics.js';
import { statusOf } from './status.js';
import { memberRunIdOf } from './team-journal.js';
import { notePreviews, type PreviewEntry, teamResult } from './team-result.js';
import {
  accountForUnvisited,
  recordDone,
  recordEnd,
  recordedPlace,
  recordSent,
  replayHandoff,
  unrecordedEnd,
} from './team-run-journal.js';
import { abortCode, checkConditions, failureReasonOf, pauseReasonOf, watchStops } from './team-stops.js';
import {
  defaultTracer,
  emitEnd,
  emitHandoff,
  emitRound,
  emitStart,
  endHandoffSpan,
  endWorkflowSpan,
  startHandoffSpan,
  startWorkflowSpan,
} from './team-telemetry.js';
import type { TeamProgress } from './termination.js';
import type {
  HandoffRecord,
  MemberReport,
  PendingCall,
  StopReason,
  TeamConfig,
  TeamResult,
  TeamRunOptions,
} from './types.js';

export type { Invocation, Member } from './member-run.js';

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
  /** Stops watching the caller's signal, the ledger, the deadline and the conditions. */
  private readonly stopWatching: () => void;

  readonly options: TeamRunOptions;

  /** The team's journal, when it keeps one: recorded handoffs replay, new ones are recorded. */
  private readonly journal: JournalSession | undefined;
  /** Handoffs made without a key of their own, numbered in dispatch order (the same on every resume). */
  private handoffs = 0;
  /** Calls that members are waiting on, when the team pauses for approval. */
  private readonly pending: PendingCall[] = [];
  /** Dry-run previews of every member, with their handoff's dispatch order (the transcript's order). */
  private readonly previews: PreviewEntry[] = [];
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
    this.signal = this.controller.signal;
    this.tracer = options.tracer ?? defaultTracer;
    const parent = options.traceContext ?? context.active();
    this.bundle = journal?.bundle;
    this.span = startWorkflowSpan(this.tracer, parent, config.name, this.runId, options, this.bundle);
    // Members' runs carry the team on their metrics.
    this.workflowContext = withTeam(trace.setSpan(parent, this.span), config.name);
    this.stopWatching = watchStops(this);
    if (journal?.failure) this.journalFailed(journal.failure);
    emitStart(this, input);
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
    emitRound(this);
    checkConditions(this);
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
    emitHandoff(this, from, member.name);
    // A handoff the journal knows keeps its recorded place; new ones follow everything recorded.
    const sequence = recordedPlace(this.journal, key) ?? this.dispatched++;
    const span = startHandoffSpan(this.tracing, this.config.name, member.name, from, contract);
    const started = performance.now();
    const memberRunId = extra.runId ?? memberRunIdOf(this.runId, key);
    const recorded = this.journal?.handoff(key);
    this.visited.add(key);
    let result: RunResult<O>;
    if (recorded?.done) {
      // Its result is in the journal: the member does not run again, but what it spent still counts.
      result = replayHandoff<O>(recorded.done, this.ledger, span);
    } else {
      const sending = { key, member: member.name, memberRunId, from, input };
      const fresh = extra.runId === undefined;
      const invocationKey = recordSent(this.journal, this.journalBatch, recorded, sending, fresh);
      if (invocationKey === undefined) {
        span.end();
        return undefined;
      }
      const traceContext = trace.setSpan(this.workflowContext, span);
      const running = runMember(this, this.journalBatch, member, input, traceContext, {
        ...extra,
        runId: memberRunId,
        invocationKey,
        from: extra.trustedInput ? 'user' : from,
      });
      this.inFlight.add(running);
      result = await running.finally(() => this.inFlight.delete(running));
      recordDone(this.journal, key, member.name, result);
    }
    notePreviews(this.previews, member.name, result, sequence);
    if (result.status === 'awaiting_approval') {
      this.notePending(member.name, result);
      this.halt(this.pauseReason(), false);
    }
    const checked = checkOutput(member.name, contract, result);
    const { ok, output } = checked;
    endHandoffSpan(span, ok, result);
    const durationMs = performance.now() - started;
    const handoff = { round: this.rounds + 1, from, to: member.name, input, durationMs };
    const record = handoffRecord(handoff, contract, extra.compacted, result, checked);
    transcribe(this.transcript, this.order, record, sequence);
    recordInvocation(this.members, member.name, result);
    if (ok) {
      const text = typeof output === 'string' ? output : JSON.stringify(output);
      this.last = { agent: member.name, text, output };
    }
    checkConditions(this);
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
    await settleInFlight(this.inFlight, this.controller, this.config.name);
    accountForUnvisited(this.journal, this.visited, this, this.order, this.previews);
    this.stopWatching();
    const stopReason = natural ?? this.stopReason ?? fallback;
    const status = statusOf(stopReason);
    const result = teamResult(this, output, stopReason, status, {
      started: this.started,
      spanId: this.span.spanContext().spanId,
      bundle: this.bundle,
      pending: this.pending,
      previews: this.previews,
      extra,
    });
    const unrecorded = await recordEnd(this.journal, this.journalBatch, this.pending, result);
    if (unrecorded) unrecordedEnd(result, unrecorded);
    endWorkflowSpan(this.span, status, stopReason, result);
    recordTeamEnd(result, (this.options as { tenantId?: string }).tenantId, this.bundle);
    emitEnd(this, result);
    return result;
  }

  private journalFailed(error: BatonError): void {
    this.halt({ kind: 'journal_failed', message: `the team's journal cannot be written: ${error.message}` });
  }

  /** Why the team must stop after a member did not complete: the budget, the team's own stop, or the member. */
  failureReason(invocation: Invocation<unknown>): StopReason {
    return failureReasonOf(invocation, this.ledger, this.stopReason, this.pending);
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
    const record = rejectedRecord(this.rounds + 1, from, to, contract, input, error);
    this.order.set(record, this.dispatched++);
    this.transcript.push(record);
    this.halt({ kind: 'handoff_invalid', agent: from, message: error.message }, false);
  }

  /** A member waits for a person: the team pauses (no new work) and resumes when it is decided. */
  pauseReason(): StopReason {
    return pauseReasonOf(this.pending);
  }

  private notePending(member: string, result: RunResult): void {
    this.pending.push(...pendingCalls(member, result));
  }
}
