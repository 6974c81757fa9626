import type { Agent } from '../agent.js';
import { type Budget, breachError } from '../budget.js';
import type { ContextStage } from '../context/types.js';
import { BatonError } from '../errors.js';
import { guardsFor, runGuards } from '../guards/run.js';
import type { JournalSession } from '../journal/session.js';
import { recordStepStart } from '../metrics/run.js';
import type { Message, ModelRequest } from '../model/types.js';
import { planningOf } from '../planning/config.js';
import { runPlanPhase } from '../planning/phase.js';
import { reviewAnswer, reviewsAnswers } from '../planning/review.js';
import { raceAbort } from '../util/abort.js';
import { type AbortLike, withLazySignal } from '../util/run-signal.js';
import {
  type AnswerGuard,
  guardContextOf,
  guardPartialText,
  type RunGuards,
  releaseDeltas,
  releaseRewritten,
  textOf,
} from './answer-guard.js';
import { prepareContext } from './context-step.js';
import { checkFinalAnswer, responseSchemaFor } from './final-answer.js';
import { toRecorded, toResponse } from './journaled.js';
import {
  chargeModelStep,
  emitStepEnd,
  statusOfBreach,
  unpricedUnderCostLimit,
  warnNearLimits,
} from './limits.js';
import { replaceInput, toolSpecsOf } from './messages.js';
import { callModel, type ModelDelta, type ModelStepContext } from './model-step.js';
import { type LoopState, okToolNames } from './state.js';
import { runToolStep, stopOnAbort, type ToolStepContext } from './tool-step.js';
import type { RunOptions, RunStatus } from './types.js';

export interface Outcome {
  status: RunStatus;
  output?: unknown;
  error?: BatonError;
}

/**
 * The steps, then the text a result carries: with output guards, `partial.text` is only ever text the
 * guards passed — a tripped answer leaves none, and the last text of a run that ended otherwise (a limit,
 * an abort, a pause) is checked by the same guards before it leaves.
 */
export function loop(
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
    const cost = chargeModelStep(state, lease, response);
    const unpriced = unpricedUnderCostLimit(lease, cost);
    if (unpriced) return { status: 'failed', error: unpriced };
    if (response.text) state.lastText = response.text;
    const assistant: Message = { role: 'assistant', content: response.text };
    if (response.toolCalls.length > 0) assistant.toolCalls = response.toolCalls;
    if (response.reasoningParts?.length) assistant.reasoning = response.reasoningParts;
    state.messages.push(assistant);
    emitStepEnd(events, state, agent.name, step, response, cost, response.toolCalls.length);
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
