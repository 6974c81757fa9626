import { BatonError } from '../errors.js';
import type { AssistantMessage, Message, ToolCall } from '../model/types.js';
import { runToolStep, type ToolStepContext } from '../run/tool-step.js';
import { countTokens } from '../tokens.js';
import { contextWithSpan, tracerFor } from '../tracing/spans.js';
import { canonicalJson } from '../util/canonical.js';
import {
  capabilitiesOf,
  catalogOf,
  type PlanProgress,
  planMessage,
  progressOf,
  type ResolvedPlanning,
  stepCallId,
} from './agent-plan.js';
import { extractPlanJson } from './parse.js';
import { dependenciesOf, type Plan, planJsonSchema, resolveRefs } from './plan.js';
import { correctionPrompt, planDoneNote, planningPrompt, replanPrompt } from './prompts.js';
import { failedStep, type SideStepContext, type StopOutcome, sideStep, stepBlocked } from './side-step.js';
import { emitPlanning, inSpan, PlanningAttr, type PlanStepFailure, validationSpan } from './telemetry.js';
import { type PlanBounds, type PlanVerdict, validatePlan } from './validate.js';

export interface PlanPhaseContext extends SideStepContext {
  /** The loop's tool step context: plan steps run through the same tool step as the model's calls. */
  tools: ToolStepContext;
  planning: ResolvedPlanning;
}

export type PhaseOutcome = { stop: false } | ({ stop: true } & StopOutcome);

/**
 * The plan phase of a `plan-execute` agent, before the loop's first answer: one planning call makes a
 * typed plan, which is validated before anything runs (refused plans go back with their violations, a
 * bounded number of times); then the steps run — those whose dependencies are done together, through the
 * loop's own tool step (validation, guards, approvals, journal, audit, spans, loop detection); a failed
 * step triggers a re-plan with what was done and what failed, at most `maxReplans` times, after which
 * the run fails with the partial results. When every step is done, the loop asks the model for the
 * answer from their results. The phase reads its progress from the run's state, so a run paused in the
 * middle of a plan (or resumed from its journal) continues the same plan.
 */
export async function runPlanPhase(ctx: PlanPhaseContext): Promise<PhaseOutcome> {
  const progress = progressOf(ctx.state);
  if (progress.finished) return { stop: false };
  const emitter = { events: ctx.model.events, runId: ctx.state.runId, agent: ctx.agent.name };
  let current = progress.plans.at(-1);
  let replans = current ? current.number - 1 : 0;
  /** The plan's message, put in the conversation with its first calls. */
  let announce: AssistantMessage | undefined;
  if (!current) {
    const made = await makePlan(ctx, progress, 0, []);
    if (!('plan' in made)) return made;
    current = { number: 1, plan: made.plan };
    announce = planMessage(1, made.plan);
  }
  for (;;) {
    const failures: PlanStepFailure[] = [...progress.failed].map(([step, failure]) => ({ step, ...failure }));
    if (failures.length === 0) {
      const wave = nextWave(current.number, current.plan, progress, ctx);
      if (wave.calls.length === 0 && wave.unresolved.length === 0) break;
      if (wave.calls.length > 0) {
        const message: Message = announce
          ? { ...announce, toolCalls: wave.calls }
          : { role: 'assistant', content: '', toolCalls: wave.calls };
        ctx.state.messages.push(message);
      } else if (announce) {
        // No step could start: the plan still goes in the conversation, with why, so it is read back on resume.
        ctx.state.messages.push(announce, { role: 'user', content: unresolvedNote(wave.unresolved) });
      }
      announce = undefined;
      if (wave.calls.length > 0) {
        const outcome = await runToolStep(wave.calls, ctx.tools);
        refresh(progress, ctx);
        if (outcome.stop) {
          // A pause is not an end: the resumed run continues this plan.
          if (outcome.status !== 'awaiting_approval') finished(emitter, 'stopped', progress, replans);
          return { stop: true, status: outcome.status, ...(outcome.error ? { error: outcome.error } : {}) };
        }
      }
      failures.push(...wave.unresolved);
      for (const [step, failure] of progress.failed) {
        if (!failures.some((entry) => entry.step === step)) failures.push({ step, ...failure });
      }
      if (failures.length === 0) continue;
    }
    if (replans >= ctx.planning.maxReplans) {
      finished(emitter, 'failed', progress, replans);
      return { stop: true, status: 'failed', error: planFailed(failures, progress, replans) };
    }
    replans++;
    emitPlanning(emitter, {
      type: 'plan.replanned',
      replan: replans,
      failed: failures,
      done: [...progress.done.keys()],
    });
    const made = await makePlan(ctx, progress, replans, failures);
    if (!('plan' in made)) return made;
    current = { number: replans + 1, plan: made.plan };
    announce = planMessage(current.number, made.plan);
    progress.failed.clear();
  }
  ctx.state.messages.push({ role: 'user', content: planDoneNote(progress.done.size, replans) });
  finished(emitter, 'completed', progress, replans);
  return { stop: false };
}

interface Wave {
  calls: ToolCall[];
  /** Ready steps whose references cannot be resolved: they fail without running. */
  unresolved: PlanStepFailure[];
}

/** The steps of the plan not yet done whose dependencies are all done, with their references resolved. */
function nextWave(number: number, plan: Plan, progress: PlanProgress, ctx: PlanPhaseContext): Wave {
  const outputs = new Map([...progress.done].map(([id, entry]) => [id, entry.output]));
  const wave: Wave = { calls: [], unresolved: [] };
  const made = madeCalls(ctx);
  const inWave = new Map<string, string>();
  for (const step of plan.steps) {
    if (progress.done.has(step.id)) continue;
    if (!dependenciesOf(step).every((dependency) => progress.done.has(dependency))) continue;
    const resolved = resolveRefs(step.input ?? {}, outputs);
    if (!resolved.ok) {
      wave.unresolved.push({
        step: step.id,
        use: step.use,
        code: 'REFERENCE_UNRESOLVED',
        message: resolved.problem,
      });
      continue;
    }
    // References can resolve two steps to the same call (two searches whose best hit is one document):
    // that would be a repeated action and stop the run, so it is a failed step the re-plan can fix.
    const key = callKey(ctx, step.use, resolved.value);
    const twin = inWave.get(key);
    if (twin !== undefined || made.has(key)) {
      wave.unresolved.push({
        step: step.id,
        use: step.use,
        code: 'DUPLICATE_CALL',
        message: `resolves to ${twin !== undefined ? `the same call as ${twin}` : 'a call this run already made'} (${key.slice(0, 200)})`,
      });
      continue;
    }
    inWave.set(key, step.id);
    wave.calls.push({ id: stepCallId(number, step.id), name: step.use, arguments: resolved.value });
  }
  return wave;
}

/** The loop's key of a call (tool and canonical parsed arguments), as its repeated-action check sees it. */
function callKey(ctx: PlanPhaseContext, tool: string, args: unknown): string {
  const parsed = ctx.agent.tools.get(tool)?.input.safeParse(args);
  return `${tool}:${canonicalJson(parsed?.success ? parsed.data : args)}`;
}

/** Calls the run may not make again: those made as often as `maxRepeats` allows. */
function madeCalls(ctx: PlanPhaseContext): Set<string> {
  const limit = ctx.agent.limits.maxRepeats;
  // A call whose last try failed with a retryable error may be tried again (as the loop allows).
  const retryable = new Set(ctx.state.retryable ?? []);
  return new Set(
    Object.entries(ctx.state.actionCounts ?? {})
      .filter(([key, count]) => count >= limit && !retryable.has(key))
      .map(([key]) => key),
  );
}

function refresh(progress: PlanProgress, ctx: PlanPhaseContext): void {
  const fresh = progressOf(ctx.state);
  progress.done = fresh.done;
  progress.failed = fresh.failed;
  progress.failedCalls = fresh.failedCalls;
}

type Made = { plan: Plan } | ({ stop: true } & StopOutcome);

/**
 * Asks for a plan (the first, or a re-plan) and validates it; a refused plan goes back with its
 * violations until one is valid or the attempts run out. Each answer is a model step of the run, inside
 * a `plan` (or `replan`) span with its `validate_plan` span, and an event each.
 */
async function makePlan(
  ctx: PlanPhaseContext,
  progress: PlanProgress,
  replan: number,
  failures: readonly PlanStepFailure[],
): Promise<Made> {
  const { agent, state } = ctx;
  const emitter = { events: ctx.model.events, runId: state.runId, agent: agent.name };
  const tracer = tracerFor(ctx.options.tracer);
  const prompt = planningPrompt({ kind: 'tool', catalog: catalogOf(agent), maxSteps: ctx.planning.maxSteps });
  const done = [...progress.done].map(([step, entry]) => ({
    step,
    use: entry.use,
    produces: entry.produces,
  }));
  const ask =
    replan === 0 ? prompt : `${prompt}\n\n${replanPrompt(done, failures, ctx.planning.maxReplans - replan)}`;
  let messages: Message[] = [...state.messages, { role: 'user', content: ask }];
  let violations: PlanVerdict & { valid: false } = { valid: false, violations: [] };
  for (let attempt = 1; attempt <= ctx.planning.maxAttempts; attempt++) {
    const blocked = stepBlocked(ctx);
    if (blocked) return { stop: true, ...blocked };
    const name = `${replan === 0 ? 'plan' : 'replan'} ${agent.name}`;
    let outcome: { text: string; verdict: PlanVerdict; raw: unknown };
    try {
      outcome = await inSpan(tracer, name, ctx.model.parent, async (span) => {
        const parent = contextWithSpan(ctx.model.parent, span);
        const response = await sideStep(
          ctx,
          { messages, responseSchema: { name: 'plan', schema: planJsonSchema() }, role: 'planning' },
          ctx.planning.model ? { model: ctx.planning.model, parent } : { parent },
        );
        const raw = extractPlanJson(response.text);
        const verdict: PlanVerdict = raw.ok
          ? validatePlan(raw.value, await boundsOf(ctx, progress))
          : { valid: false, violations: [raw.violation] };
        if (span.isRecording()) {
          span.setAttributes({
            [PlanningAttr.PLAN_REPLAN]: replan,
            [PlanningAttr.PLAN_ATTEMPT]: attempt,
            [PlanningAttr.PLAN_VALID]: verdict.valid,
          });
          if (verdict.valid) span.setAttribute(PlanningAttr.PLAN_STEPS, verdict.plan.steps.length);
        }
        validationSpan(tracer, agent.name, parent, {
          valid: verdict.valid,
          violations: verdict.valid ? [] : verdict.violations,
          replan,
          attempt,
        });
        return { text: response.text, verdict, raw: raw.ok ? raw.value : undefined };
      });
    } catch (caught) {
      return { stop: true, ...failedStep(ctx, caught) };
    }
    const { verdict } = outcome;
    emitPlanning(emitter, {
      type: 'plan.created',
      attempt,
      replan,
      plan: verdict.valid ? verdict.plan : undefined,
      ...(verdict.valid ? {} : { text: outcome.text.slice(0, 4_000) }),
    });
    emitPlanning(emitter, {
      type: 'plan.validated',
      attempt,
      replan,
      valid: verdict.valid,
      violations: verdict.valid ? [] : verdict.violations,
    });
    if (verdict.valid) return { plan: verdict.plan };
    violations = verdict;
    messages = [
      ...messages,
      { role: 'assistant', content: outcome.text },
      { role: 'user', content: correctionPrompt(verdict.violations) },
    ];
  }
  finished(emitter, 'invalid', progress, replan);
  return {
    stop: true,
    status: 'failed',
    error: new BatonError(
      'PLAN_INVALID',
      `The planner gave no valid plan in ${ctx.planning.maxAttempts} attempt(s): ${violations.violations
        .slice(0, 5)
        .map((violation) => `${violation.step ? `${violation.step}: ` : ''}${violation.message}`)
        .join('; ')}`,
      { details: { violations: violations.violations, replan } },
    ),
  };
}

async function boundsOf(ctx: PlanPhaseContext, progress: PlanProgress): Promise<PlanBounds> {
  const bounds: PlanBounds = {
    kind: 'tool',
    capabilities: capabilitiesOf(ctx.agent, ctx.state, ctx.options),
    maxSteps: ctx.planning.maxSteps,
    done: new Map([...progress.done].map(([id, entry]) => [id, entry.use])),
    failedCalls: progress.failedCalls,
    madeCalls: madeCalls(ctx),
  };
  const tokensLeft = ctx.lease?.remaining().tokens;
  if (tokensLeft !== undefined) {
    bounds.tokensLeft = tokensLeft;
    // The answer is written from the whole conversation and every step's result: that is what must fit.
    bounds.baseTokens = await countTokens(ctx.state.messages.map((message) => message.content).join('\n'));
  }
  return bounds;
}

function planFailed(
  failures: readonly PlanStepFailure[],
  progress: PlanProgress,
  replans: number,
): BatonError {
  const what = failures.map((failure) => `${failure.step} (${failure.use}): ${failure.code}`).join(', ');
  return new BatonError(
    'PLAN_FAILED',
    `A plan step failed after ${replans} re-plan(s): ${what}; ${progress.done.size} step(s) were done`,
    { details: { failed: failures, done: [...progress.done.keys()], replans } },
  );
}

function unresolvedNote(failures: readonly PlanStepFailure[]): string {
  return `No step of this plan could start:\n${failures.map((failure) => `- ${failure.step}: ${failure.message}`).join('\n')}`;
}

function finished(
  emitter: Parameters<typeof emitPlanning>[0],
  outcome: 'completed' | 'failed' | 'invalid' | 'stopped',
  progress: PlanProgress,
  replans: number,
): void {
  emitPlanning(emitter, { type: 'plan.finished', outcome, steps: progress.done.size, replans });
}
