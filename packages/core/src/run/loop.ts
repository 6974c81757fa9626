import type { Span } from '@opentelemetry/api';
import type { Agent } from '../agent.js';
import { Budget, type BudgetDimension, breachError } from '../budget.js';
import { bundleOf } from '../bundle/bundle.js';
import type { ContextStage } from '../context/types.js';
import { BatonError } from '../errors.js';
import { guardsFor, runGuards } from '../guards/run.js';
import type { JournalSession } from '../journal/session.js';
import { recordRunEnd, recordStepStart } from '../metrics/run.js';
import { costOf } from '../model/pricing.js';
import type { Message, ModelRequest, ToolSpec } from '../model/types.js';
import { addUsage, totalTokens } from '../model/usage.js';
import { planningOf } from '../planning/config.js';
import { runPlanPhase } from '../planning/phase.js';
import { reviewAnswer, reviewsAnswers } from '../planning/review.js';
import { countRun } from '../recovery/metrics.js';
import { inertJson, UNTRUSTED_NOTICE, wrapUntrusted } from '../tools/format.js';
import { BatonAttr, GenAI, GenAIOperation } from '../tracing/attributes.js';
import { activeContext, contextWithSpan, failSpan, startSpan, tracerFor } from '../tracing/spans.js';
import { raceAbort } from '../util/abort.js';
import { randomUuid } from '../util/ids.js';
import { type AbortLike, RunAbort, withLazySignal } from '../util/run-signal.js';
import { type LongTimer, setLongTimeout } from '../util/timers.js';
import {
  type AnswerGuard,
  guardContextOf,
  guardPartialText,
  type RunGuards,
  releaseDeltas,
  releaseRewritten,
  textOf,
} from './answer-guard.js';
import { audit } from './audit.js';
import { contextPipelineOf, prepareContext } from './context-step.js';
import { checkFinalAnswer, responseSchemaFor } from './final-answer.js';
import {
  consumeState,
  openRunJournal,
  recordEnd,
  refuseConsumedState,
  toRecorded,
  toResponse,
} from './journaled.js';
import { memoryScope, recallIntoContext, rememberRun, runMemoryOf } from './memory-step.js';
import { callModel, type ModelDelta, type ModelStepContext } from './model-step.js';
import { buildResult, spentOf } from './result.js';
import { inheritRunScope } from './scope.js';
import { freshState, type LoopState, okToolNames } from './state.js';
import { stateKeyOf } from './state-seal.js';
import { runToolStep, stopOnAbort, type ToolStepContext } from './tool-step.js';
import type { RunOptions, RunResult, RunStatus } from './types.js';

interface Outcome {
  status: RunStatus;
  output?: unknown;
  error?: BatonError;
}

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

/**
 * The steps, then the text a result carries: with output guards, `partial.text` is only ever text the
 * guards passed — a tripped answer leaves none, and the last text of a run that ended otherwise (a limit,
 * an abort, a pause) is checked by the same guards before it leaves.
 */
function loop(
  agent: Agent,
  state: LoopState,
  options: RunOptions,
  lease: Budget | undefined,
  journal: JournalSession | undefined,
  started: number,
  pipeline: readonly ContextStage[] | undefined,
  model: ModelStepContext,
): Promise<Outcome> {
  const guards = guardContextOf(agent, options, state, model.signal, model.events);
  const output = guards && guards.output.length > 0 ? guards : undefined;
  const answer: AnswerGuard = {
    holdDeltas: output !== undefined && (model.events?.listens('model.delta') ?? false),
    passed: undefined,
  };
  const running = steps(agent, state, options, lease, journal, started, pipeline, model, guards, answer);
  // Without output guards nothing runs after the steps, so no async frame waits for them: thousands of
  // runs in flight each kept one (a generator and its registers, about 0.4 KiB).
  if (!output) return running;
  return guardPartialAfter(running, state, output, answer, model.signal);
}

/** The steps' outcome, after the text a run stopped with has been through the output guards. */
async function guardPartialAfter(
  running: Promise<Outcome>,
  state: LoopState,
  output: RunGuards,
  answer: AnswerGuard,
  signal: AbortLike,
): Promise<Outcome> {
  try {
    return await running;
  } finally {
    if (state.lastText !== undefined && state.lastText !== answer.passed)
      await guardPartialText(state, output, signal);
  }
}

async function steps(
  agent: Agent,
  state: LoopState,
  options: RunOptions,
  lease: Budget | undefined,
  journal: JournalSession | undefined,
  started: number,
  pipeline: readonly ContextStage[] | undefined,
  model: ModelStepContext,
  guards: ReturnType<typeof guardContextOf>,
  answer: AnswerGuard,
): Promise<Outcome> {
  const { signal, events } = model;
  const limits = agent.limits;
  const elapsedMs = () => state.elapsedBeforeMs + (performance.now() - started);
  const toolContext: ToolStepContext = {
    agent,
    state,
    options,
    tracer: model.tracer,
    parent: model.parent,
    events,
    signal,
    budget: lease,
    journal,
    elapsedMs,
    guards: undefined,
  };
  const tools = toolSpecsOf(agent);
  const responseSchema = responseSchemaFor(agent);

  if (guards) {
    toolContext.guards = {
      toolInput: guardsFor('toolInput', options.guardrails, agent.config.guardrails),
      toolOutput: guardsFor('toolOutput', options.guardrails, agent.config.guardrails),
      context: guards.context,
    };
  }
  if (guards && state.step === 0 && !state.pending) {
    const checked = await runGuards(guards.input, 'input', state.input, guards.context);
    if (checked.tripped) return { status: 'guardrail_tripped', error: checked.error };
    if (checked.rewrittenBy.length > 0) replaceInput(state, checked.value);
  }
  if (state.pending) {
    const outcome = await runToolStep(state.pending.toolCalls, toolContext);
    if (outcome.stop) return outcome;
  }
  // A plan-execute agent plans, validates and runs its plan first; the loop then writes the answer.
  const planning = planningOf(agent);
  if (planning) {
    const side = { agent, state, options, lease, journal, model, elapsedMs };
    const planned = await runPlanPhase({ ...side, tools: toolContext, planning });
    if (planned.stop) return planned;
  }
  for (;;) {
    if (journal?.failed) return { status: 'failed', error: journal.failed };
    // A step the journal recorded happened: it is replayed, not checked against limits again.
    const recorded = journal?.response(state.step + 1);
    if (!recorded) {
      // A remote member's lease settles each step with its caller first: the check must see what siblings spent.
      const settling = lease?.settled();
      if (settling) {
        try {
          await raceAbort(settling, signal);
        } catch {
          // Aborted while settling: the check below says why.
        }
      }
      if (signal.aborted) return stopOnAbort(signal);
      const breach = lease?.breach();
      if (breach) return { status: statusOfBreach(breach.code), error: breachError(breach) };
      if (state.step >= limits.maxSteps) {
        return {
          status: 'max_steps',
          error: new BatonError('MAX_STEPS', `The run reached its limit of ${limits.maxSteps} steps`),
        };
      }
    }

    const step = ++state.step;
    model.step = step;
    recordStepStart(agent, state, options);
    if (events?.listens('step.start')) {
      events.emit({ type: 'step.start', runId: state.runId, agent: agent.name, at: Date.now(), step });
    }
    // What the model is sent: the context pipeline's view of the transcript (which itself keeps everything).
    let context: Awaited<ReturnType<typeof prepareContext>> | undefined;
    if (pipeline) {
      try {
        context = await prepareContext(pipeline, { state, lease, journal, model, elapsedMs });
      } catch (caught) {
        return signal.aborted ? stopOnAbort(signal) : { status: 'failed', error: BatonError.wrap(caught) };
      }
    }
    // The signal is made when the model adapter reads it: a model that answers at once never needs one.
    const request: ModelRequest = withLazySignal(
      {
        messages: context?.messages ?? state.messages.slice(),
        role: step === 1 ? ('planning' as const) : ('tool-selection' as const),
      },
      signal,
    );
    if (tools.length > 0) request.tools = tools;
    if (agent.config.toolChoice !== undefined && tools.length > 0)
      request.toolChoice = agent.config.toolChoice;
    if (responseSchema) request.responseSchema = responseSchema;
    if (agent.config.maxOutputTokens !== undefined) request.maxOutputTokens = agent.config.maxOutputTokens;
    if (agent.config.temperature !== undefined) request.temperature = agent.config.temperature;

    let response: Awaited<ReturnType<typeof callModel>>;
    const held: ModelDelta[] | undefined = answer.holdDeltas ? [] : undefined;
    if (recorded) {
      response = toResponse(recorded);
    } else {
      try {
        response = await callModel(request, model, context?.attributes, held);
      } catch (caught) {
        return signal.aborted ? stopOnAbort(signal) : { status: 'failed', error: BatonError.wrap(caught) };
      }
      // Recorded before its tools run: a resume must see the same tool calls, not ask the model anew.
      journal?.append({
        type: 'model.step',
        at: Date.now(),
        elapsedMs: elapsedMs(),
        step,
        response: toRecorded(response),
      });
    }
    const cost = response.costUsd ?? costOf(response.model, response.usage);
    addUsage(state.usage, response.usage);
    if (cost !== undefined) state.costUsd += cost;
    else notePriceUnknown(state, response.model);
    if (lease) {
      const charge: Parameters<Budget['charge']>[0] = { steps: 1 };
      if (response.usage) charge.usage = response.usage;
      if (cost === undefined) charge.unpricedSteps = 1;
      else charge.costUsd = cost;
      lease.charge(charge);
      // A cost limit that cannot be enforced is a configuration error, said at the first unpriced call.
      if (cost === undefined && lease.limitsCost) {
        const unknown = lease.breach();
        if (unknown?.code === 'PRICE_UNKNOWN') return { status: 'failed', error: breachError(unknown) };
      }
    }
    if (response.text) state.lastText = response.text;
    const assistant: Message = { role: 'assistant', content: response.text };
    if (response.toolCalls.length > 0) assistant.toolCalls = response.toolCalls;
    if (response.reasoningParts?.length) assistant.reasoning = response.reasoningParts;
    state.messages.push(assistant);
    if (events?.listens('step.end')) {
      const event = {
        type: 'step.end' as const,
        runId: state.runId,
        agent: agent.name,
        at: Date.now(),
        step,
        costUsd: cost,
        toolCalls: response.toolCalls.length,
      };
      events.emit(response.usage ? { ...event, usage: response.usage } : event);
    }
    if (events?.listens('limit.warning')) warnNearLimits(agent, state, options);

    if (response.toolCalls.length === 0) {
      // Held deltas of an answer that is refused or corrected are never shown: no guard passed them.
      if (response.finishReason === 'content-filter') {
        return {
          status: 'failed',
          error: new BatonError(
            'MODEL_REFUSED',
            `The model refused to answer (${response.finishReasonRaw ?? 'content filter'})`,
          ),
        };
      }
      let check = checkFinalAnswer(agent, response.text, okToolNames(state));
      // Grounding and reflection, when the agent has them: a review may send it back or correct it.
      if (check.ok && reviewsAnswers(agent)) {
        const side = { agent, state, options, lease, journal, model, elapsedMs };
        const reviewed = await reviewAnswer(side, check);
        if ('stop' in reviewed) return reviewed.stop;
        check = reviewed.check;
      }
      if (check.ok && guards && guards.output.length > 0) {
        const checked = await runGuards(guards.output, 'output', check.output, guards.context);
        if (checked.tripped) {
          // The tripped answer leaves nothing behind: not in `partial.text`, not as deltas.
          state.lastText = undefined;
          return { status: 'guardrail_tripped', error: checked.error };
        }
        // The answer's text in the result (`partial.text`) is the rewritten one too: a redaction that
        // held for `output` only would leave the card number one field away.
        if (checked.rewrittenBy.length > 0) {
          state.lastText = textOf(checked.value);
          releaseRewritten(held, state.lastText, events);
          answer.passed = state.lastText;
        } else {
          releaseDeltas(held, events);
          // An empty answer leaves an earlier step's text in `lastText`: that one was not checked here.
          if (response.text) answer.passed = state.lastText;
        }
        return { status: 'completed', output: checked.value };
      }
      if (check.ok) return { status: 'completed', output: check.output };
      if (state.outputRetries >= limits.outputRetries) return { status: 'failed', error: check.error };
      state.outputRetries++;
      state.messages.push({ role: 'user', content: check.correction });
      continue;
    }
    // Text beside tool calls is not the answer: it is shown once the step's response is complete.
    releaseDeltas(held, events);
    const outcome = await runToolStep(response.toolCalls, toolContext);
    if (outcome.stop) return outcome;
  }
}

/**
 * The run's own lease: the agent's token and dollar limits, drawn from the ledger it was given. Nested
 * runs started by its tools draw from it too, so the agent's limits hold for everything it sets off.
 * A run with no ledger and no such limit has nothing to enforce and skips the allocation.
 */
function leaseFor(agent: Agent, state: LoopState, parent: Budget | undefined): Budget | undefined {
  const { maxTokens, maxCostUsd } = agent.limits;
  if (!parent && maxTokens === undefined && maxCostUsd === undefined) return undefined;
  const limits: { maxTokens?: number; maxCostUsd?: number } = {};
  // A resumed run has spent part of its own limits already.
  if (maxTokens !== undefined) limits.maxTokens = Math.max(0, maxTokens - totalTokens(state.usage));
  if (maxCostUsd !== undefined) limits.maxCostUsd = Math.max(0, maxCostUsd - state.costUsd);
  return new Budget(limits, parent);
}

/** The task as the model sees it, after an input guard rewrote it (redacted, shortened). */
function replaceInput(state: LoopState, value: unknown): void {
  state.input = value;
  const last = state.messages.findLastIndex((message) => message.role === 'user');
  if (last >= 0) {
    state.messages[last] = {
      role: 'user',
      content: typeof value === 'string' ? value : JSON.stringify(value),
    };
  }
}

/** The run's end in the audit trail, and the guard that stopped it when one did. */
async function auditEnd(options: RunOptions, result: RunResult): Promise<void> {
  const base = { at: Date.now(), agent: result.agent, runId: result.runId };
  if (result.status === 'guardrail_tripped') {
    const details = result.error?.details ?? {};
    await audit(options, {
      ...base,
      kind: 'guard.trip',
      guard: String(details.guard ?? 'unknown').slice(0, 256),
      reason: String(details.reason ?? result.error?.message ?? '').slice(0, 4_096),
      ...(typeof details.tool === 'string' ? { tool: details.tool } : {}),
    });
  }
  await audit(options, { ...base, kind: 'run.end', status: result.status });
}

/** A run whose journal failed cannot record its end either. */
function journalFailed(outcome: Outcome | undefined): boolean {
  const code = outcome?.error?.code;
  return code === 'JOURNAL_CONFLICT' || code === 'JOURNAL_UNAVAILABLE';
}

function statusOfBreach(code: string): RunStatus {
  if (code === 'DEADLINE_EXCEEDED') return 'timeout';
  if (code === 'PRICE_UNKNOWN') return 'failed';
  return 'budget_exceeded';
}

function notePriceUnknown(state: LoopState, model: string): void {
  state.unpricedSteps = (state.unpricedSteps ?? 0) + 1;
  state.unpricedModels ??= [];
  if (!state.unpricedModels.includes(model)) state.unpricedModels.push(model);
}

/** What the lease spent beyond the run's own steps: runs its tools started, charged here. */
function addSpent(result: RunResult, lease: Budget): void {
  const used = lease.used;
  if (used.steps === result.steps && used.tokens === totalTokens(result.usage)) return;
  result.spent = { steps: used.steps, tokens: used.tokens, costUsd: used.costUsd };
  if (used.unpricedSteps) result.spent.unpricedSteps = used.unpricedSteps;
}

function prepareMessages(
  agent: Agent,
  input: unknown,
  options: RunOptions,
  runId: string,
): { messages: Message[]; error?: BatonError } {
  const messages: Message[] = [];
  const schema = agent.config.input;
  let value = input;
  let error: BatonError | undefined;
  if (schema) {
    const parsed = schema.safeParse(input);
    if (parsed.success) value = parsed.data;
    else {
      const problems = parsed.error.issues.map(
        (issue) => `${issue.path.join('.') || '(input)'}: ${issue.message}`,
      );
      error = new BatonError(
        'INPUT_INVALID',
        `Invalid input for agent "${agent.name}": ${problems.join('; ')}`,
        {
          details: { issues: problems },
        },
      );
    }
  }
  messages.push({ role: 'system', content: systemPrompt(agent, value, options, runId) });
  if (options.history) messages.push(...options.history.filter((message) => message.role !== 'system'));
  messages.push({ role: 'user', content: inputContent(value, options.inputFrom) });
  return error ? { messages, error } : { messages };
}

/**
 * The task as the model reads it. Input another agent handed over is that agent's output: data, wrapped
 * and made inert like a tool result, never instructions.
 */
function inputContent(value: unknown, from: string | undefined): string {
  if (from === undefined) return typeof value === 'string' ? value : JSON.stringify(value);
  return `Input handed over by ${from}:\n${wrapUntrusted(`agent:${from}`, inertJson(value))}`;
}

const staticPrompts = new WeakMap<Agent, string>();

function systemPrompt(agent: Agent, input: unknown, options: RunOptions, runId: string): string {
  const { instructions } = agent.config;
  if (typeof instructions === 'string') {
    let prompt = staticPrompts.get(agent);
    if (prompt === undefined) {
      prompt = withFormat(agent, instructions);
      staticPrompts.set(agent, prompt);
    }
    return prompt;
  }
  const context = options.userId === undefined ? { input, runId } : { input, runId, userId: options.userId };
  return withFormat(agent, instructions(context));
}

function withFormat(agent: Agent, instructions: string): string {
  const schema = responseSchemaFor(agent);
  // Said once, up front: what the wrapper around every tool result (and handed-over input) means.
  const notice = `${instructions}\n\n${UNTRUSTED_NOTICE}`;
  if (!schema) return notice;
  return `${notice}\n\nGive your final answer as a single JSON value matching this JSON Schema, with no other text:\n${JSON.stringify(schema.schema)}`;
}

const specs = new WeakMap<Agent, ToolSpec[]>();

function toolSpecsOf(agent: Agent): ToolSpec[] {
  let list = specs.get(agent);
  if (!list) {
    list = [...agent.tools.values()].map((tool) => tool.spec);
    specs.set(agent, list);
  }
  return list;
}

function warnNearLimits(agent: Agent, state: LoopState, options: RunOptions): void {
  const { limits } = agent;
  const checks: [BudgetDimension, number, number | undefined][] = [
    ['steps', state.step, limits.maxSteps],
    ['tokens', totalTokens(state.usage), limits.maxTokens],
    ['cost', state.costUsd, limits.maxCostUsd],
    ['time', state.elapsedBeforeMs + Date.now() - state.startedAt, limits.timeoutMs],
  ];
  const shared = options.budget?.pressure();
  if (shared && shared.fraction > 0) checks.push([shared.dimension, shared.used, shared.limit]);
  for (const [limit, used, max] of checks) {
    if (max === undefined || used < max * limits.warnAt || state.warned?.includes(limit)) continue;
    state.warned ??= [];
    state.warned.push(limit);
    options.events?.emit({
      type: 'limit.warning',
      runId: state.runId,
      agent: agent.name,
      at: Date.now(),
      limit,
      used,
      max,
    });
  }
}

function annotateRunSpan(span: Span, agent: Agent, state: LoopState, options: RunOptions): void {
  span.setAttributes({
    [GenAI.OPERATION_NAME]: GenAIOperation.INVOKE_AGENT,
    [GenAI.AGENT_NAME]: agent.name,
    [GenAI.AGENT_DESCRIPTION]: agent.description,
    [GenAI.PROVIDER_NAME]: agent.config.model.provider,
    [GenAI.REQUEST_MODEL]: agent.config.model.id,
    [BatonAttr.RUN_ID]: state.runId,
    [BatonAttr.BUNDLE]: bundleOf(agent).hash,
  });
  if (options.parentRunId) span.setAttribute(BatonAttr.PARENT_RUN_ID, options.parentRunId);
  if (options.sessionId) span.setAttribute(GenAI.CONVERSATION_ID, options.sessionId);
  if (options.userId) span.setAttribute(BatonAttr.USER_ID, options.userId);
  if (options.tenantId) span.setAttribute(BatonAttr.TENANT_ID, options.tenantId);
}
