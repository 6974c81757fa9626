import type { Agent } from '../agent.js';
import { BatonError } from '../errors.js';
import type { JournalSession } from '../journal/session.js';
import { recordRunEnd } from '../metrics/run.js';
import { totalTokens } from '../model/usage.js';
import { countRun } from '../recovery/metrics.js';
import { BatonAttr, GenAI } from '../tracing/attributes.js';
import { budgetAttributes } from '../tracing/budget-attributes.js';
import { activeContext, contextWithSpan, failSpan, startSpan, tracerFor } from '../tracing/spans.js';
import { randomUuid } from '../util/ids.js';
import { type AbortLike, RunAbort } from '../util/run-signal.js';
import { type LongTimer, setLongTimeout } from '../util/timers.js';
import { contextPipelineOf } from './context-step.js';
import { consumeState, openRunJournal, recordEnd, refuseConsumedState } from './journaled.js';
import { addSpent, leaseFor } from './limits.js';
import { memoryScope, recallIntoContext, rememberRun, runMemoryOf } from './memory-step.js';
import { prepareMessages } from './messages.js';
import { buildResult, spentOf } from './result.js';
import { annotateRunSpan, auditEnd } from './run-report.js';
import { inheritRunScope } from './scope.js';
import { freshState, type LoopState } from './state.js';
import { stateKeyOf } from './state-seal.js';
import { loop, type Outcome } from './steps.js';
import { stopOnAbort } from './tool-step.js';
import type { RunOptions, RunResult } from './types.js';

/**
 * The loop: perceive → think (model) → act (tools) → observe (tool results) → check limits → repeat or
 * stop. Every limit ends the run with its own status and what was gathered; only invalid configuration
 * throws. A real timer aborts the in-flight model and tool calls at the deadline.
 */
export async function executeRun<I, O>(
  agent: Agent<I, O>,
  input: I,
  given: RunOptions = {},
  resumed?: LoopState,
): Promise<RunResult<O>> {
  const started = performance.now();
  // A bad pipeline is a programmer's error: thrown before anything starts, like any invalid configuration.
  const pipeline = contextPipelineOf(agent, given);
  const options = inheritRunScope(given);
  const memory = runMemoryOf(agent, options);
  const tracer = tracerFor(options.tracer);
  const parent = options.traceContext ?? activeContext();
  const span = startSpan(tracer, `invoke_agent ${agent.name}`, parent);
  // Children only need the run span in their context when it records; skipping the copy saves heap per run.
  const runContext = span.isRecording() ? contextWithSpan(parent, span, options.sessionId) : parent;
  const runId = resumed?.runId ?? options.runId ?? randomUuid();
  const traceId = span.spanContext().traceId;
  const events = options.events;
  const limits = agent.limits;

  let session: JournalSession | undefined;
  let outcome: Outcome | undefined;
  if (options.journal) {
    try {
      // A paused state takes the run over only if nobody resumed it (or took the run over) first.
      const open = resumed?.stateId
        ? await refuseConsumedState(options.journal, runId, resumed.stateId)
        : resumed === undefined && options.runId === undefined
          ? { fresh: true } // an id minted here has no records to read
          : undefined;
      const opened = await openRunJournal(agent, runId, input, options, traceId, open);
      session = opened.session;
      if (opened.finished) {
        // Nothing runs again, but what the run spent still counts on the ledger this process holds.
        options.budget?.charge(spentOf(opened.finished));
        span.end();
        return opened.finished as RunResult<O>;
      }
      input = opened.input as I;
      if (resumed?.stateId) await consumeState(resumed.stateId, session);
    } catch (error) {
      if (
        BatonError.is(error) &&
        (error.code === 'JOURNAL_CONFIG_MISMATCH' ||
          error.code === 'STATE_CONSUMED' ||
          // A state whose run another process took over first: refused, like a consumed one.
          (error.code === 'JOURNAL_CONFLICT' && resumed?.stateId !== undefined))
      ) {
        span.end();
        throw error;
      }
      outcome = { status: 'failed', error: BatonError.wrap(error) };
    }
  } else if (resumed?.stateId) {
    await consumeState(resumed.stateId, undefined);
  }

  let state: LoopState;
  if (resumed) {
    state = resumed;
  } else {
    const prepared = prepareMessages(agent, input, options, runId);
    state = freshState(runId, traceId, input, prepared.messages);
    if (session) state.elapsedBeforeMs = session.elapsedMs;
    if (options.inputFrom !== undefined) state.tainted = true;
    if (prepared.error) outcome ??= { status: 'failed', error: prepared.error };
  }
  if (span.isRecording()) annotateRunSpan(span, agent, state, options);
  if (events?.listens('run.start')) {
    const event = { type: 'run.start' as const, runId, agent: agent.name, at: Date.now(), input, traceId };
    events.emit(options.parentRunId ? { ...event, parentRunId: options.parentRunId } : event);
  }

  if (memory && !resumed && !outcome) await recallIntoContext(memory, agent.name, state, options, span);
  const controller = new RunAbort();
  const signal: AbortLike = controller;
  const onCallerAbort = () => controller.abort(options.signal?.reason);
  const lease = leaseFor(agent, state, options.budget);
  let timer: LongTimer | undefined;
  if (!outcome) {
    const now = Date.now();
    let deadline = now + limits.timeoutMs - state.elapsedBeforeMs;
    const teamDeadline = options.budget?.deadline();
    const teamFirst = teamDeadline !== undefined && teamDeadline < deadline;
    if (teamFirst) deadline = teamDeadline;
    // The error is built only when the timer fires: an Error captures a stack, too heavy for every run.
    const expired = () =>
      teamFirst
        ? new BatonError('DEADLINE_EXCEEDED', 'The run reached the deadline it was given')
        : new BatonError('TIMEOUT', `The run exceeded its ${limits.timeoutMs} ms timeout`);
    // A run whose time was spent before it paused or crashed ends here, before anything runs again.
    if (deadline <= now) outcome = { status: 'timeout', error: expired() };
    else timer = setLongTimeout(() => controller.abort(expired()), deadline - now);
  }
  if (!outcome) {
    if (options.signal?.aborted) controller.abort(options.signal.reason);
    else options.signal?.addEventListener('abort', onCallerAbort, { once: true });
    try {
      const inScope = memoryScope(memory, runId, events);
      outcome = await inScope(loop, agent, state, options, lease, session, started, pipeline, {
        model: agent.config.model,
        tracer,
        parent: runContext,
        events,
        runId,
        agent: agent.name,
        step: 0,
        signal,
        captureContent: options.captureContent ?? false,
      });
    } catch (caught) {
      outcome = signal.aborted ? stopOnAbort(signal) : { status: 'failed', error: BatonError.wrap(caught) };
    } finally {
      timer?.clear();
      options.signal?.removeEventListener('abort', onCallerAbort);
    }
  }

  const ended = outcome as Outcome;
  // One literal of one shape, not a spread of the outcome: a spread clone grew a new hidden class (in old
  // space) for every run.
  const result = buildResult<O>(agent, state, {
    status: ended.status,
    output: ended.output,
    error: ended.error,
    spanId: span.spanContext().spanId,
    durationMs: state.elapsedBeforeMs + (performance.now() - started),
    // Read (from the environment, which is slow) only for a state that leaves the run to be signed.
    stateKey: ended.status === 'awaiting_approval' ? stateKeyOf(options.stateKey) : undefined,
  });
  if (memory) await rememberRun(memory, agent.name, state, result as RunResult, options, lease, span);
  if (lease) addSpent(result, lease);
  if (options.audit) {
    try {
      await auditEnd(options, result as RunResult);
    } catch (error) {
      result.error ??= BatonError.wrap(error).toJSON();
    }
  }
  if (session && !journalFailed(outcome)) {
    try {
      await recordEnd(session, result as RunResult, result.durationMs, options.journalBatch);
    } catch (error) {
      // The work may be done, but the run is not durable (a resume would run part of it again): said so.
      // A pause keeps its status: its RunState still resumes it.
      const unrecorded = BatonError.wrap(error).toJSON();
      if (result.status !== 'awaiting_approval') {
        result.status = 'failed';
        result.error = unrecorded;
      } else result.error ??= unrecorded;
    }
  }
  if (span.isRecording()) {
    span.setAttributes({
      [BatonAttr.RUN_STATUS]: result.status,
      [BatonAttr.STEPS]: result.steps,
      [BatonAttr.COST_USD]: result.costUsd,
      [GenAI.USAGE_INPUT_TOKENS]: result.usage.inputTokens,
      [GenAI.USAGE_OUTPUT_TOKENS]: result.usage.outputTokens,
    });
    // The run's own limits against what its lease spent (its tools' nested runs included).
    const budget = budgetAttributes(
      agent.limits,
      result.spent ?? { steps: result.steps, tokens: totalTokens(result.usage), costUsd: result.costUsd },
    );
    if (budget) span.setAttributes(budget);
    if (outcome?.error && result.status !== 'awaiting_approval') failSpan(span, outcome.error);
  }
  span.end();
  countRun(agent.name, result.status);
  recordRunEnd(agent, state, options, result as RunResult);
  if (events?.listens('run.end')) {
    events.emit({ type: 'run.end', runId, agent: agent.name, at: Date.now(), result: result as RunResult });
  }
  return result;
}

/** A run whose journal failed cannot record its end either. */
function journalFailed(outcome: Outcome | undefined): boolean {
  const code = outcome?.error?.code;
  return code === 'JOURNAL_CONFLICT' || code === 'JOURNAL_UNAVAILABLE';
}
