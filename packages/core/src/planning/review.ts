import type { Agent } from '../agent.js';
import { checkFinalAnswer, type FinalAnswerCheck } from '../run/final-answer.js';
import { okToolNames } from '../run/state.js';
import { contextWithSpan, tracerFor } from '../tracing/spans.js';
import { type GroundingCheck, groundAnswer } from './grounding.js';
import { parseReview, type ResolvedReflect, reviewRequest } from './reflect.js';
import { type SideStepContext, type StopOutcome, sideStep, stepBlocked } from './side-step.js';
import { emitPlanning, inSpan, PlanningAttr } from './telemetry.js';

/** Per agent, its resolved answer checks (set by defineAgent): the loop looks them up once per answer. */
const checks = new WeakMap<Agent, { reflect?: ResolvedReflect; grounding?: GroundingCheck }>();

export function registerAnswerChecks(
  agent: Agent,
  reflect: ResolvedReflect | undefined,
  grounding: GroundingCheck | undefined,
): void {
  if (!reflect && !grounding) return;
  checks.set(agent, { ...(reflect ? { reflect } : {}), ...(grounding ? { grounding } : {}) });
}

/** True when a final answer gets a grounding check or a review before the run may complete. */
export function reviewsAnswers(agent: Agent): boolean {
  return checks.has(agent);
}

type Reviewed = { check: FinalAnswerCheck } | { stop: StopOutcome };

/**
 * What happens to a final answer that passed its schema before it completes the run: the grounding check
 * (citations must point at tool results of this run; otherwise the model gets a correction, like a schema
 * miss), then reflection (a review call that approves it or returns a corrected answer, which must pass
 * the same checks; up to `maxRevisions` revisions). Review calls are model steps charged to the run and
 * its ledger; one that cannot run (no steps or budget left, the reviewer down) leaves the answer as it
 * was and says so in an event. An abort stops the run.
 */
export async function reviewAnswer(
  ctx: SideStepContext,
  first: FinalAnswerCheck & { ok: true },
): Promise<Reviewed> {
  const config = checks.get(ctx.agent);
  if (!config) return { check: first };
  const emitter = { events: ctx.model.events, runId: ctx.state.runId, agent: ctx.agent.name };
  if (config.grounding) {
    const grounded = groundAnswer(first.output, ctx.state, config.grounding);
    emitPlanning(emitter, {
      type: 'grounding.checked',
      ok: grounded.ok,
      cited: grounded.cited,
      unknown: grounded.ok ? [] : grounded.unknown,
    });
    if (!grounded.ok) return { check: grounded.check };
  }
  const reflect = config.reflect;
  if (!reflect) return { check: first };
  let current: FinalAnswerCheck & { ok: true } = first;
  let text = ctx.state.lastText ?? '';
  const tracer = tracerFor(ctx.options.tracer);
  for (let revision = 1; revision <= reflect.maxRevisions; revision++) {
    const blocked = stepBlocked(ctx);
    if (blocked) {
      if (ctx.model.signal.aborted) return { stop: blocked };
      emitPlanning(emitter, {
        type: 'reflection.reviewed',
        revision,
        verdict: 'skipped',
        issues: [],
        reason: blocked.error?.message ?? blocked.status,
      });
      break;
    }
    let reviewText: string;
    try {
      reviewText = await inSpan(tracer, `reflect ${ctx.agent.name}`, ctx.model.parent, async (span) => {
        if (span.isRecording()) span.setAttribute(PlanningAttr.REFLECTION_REVISION, revision);
        const request = await reviewRequest(ctx.agent, ctx.state, text, reflect);
        const parent = contextWithSpan(ctx.model.parent, span);
        const response = await sideStep(
          ctx,
          { ...request, role: 'synthesis' },
          reflect.model ? { model: reflect.model, parent } : { parent },
        );
        const parsed = parseReview(response.text);
        if (span.isRecording()) {
          span.setAttribute(
            PlanningAttr.REFLECTION_VERDICT,
            parsed.ok ? parsed.review.verdict.toLowerCase() : 'unreadable',
          );
        }
        return response.text;
      });
    } catch (caught) {
      if (ctx.model.signal.aborted) return { stop: stepBlocked(ctx) as StopOutcome };
      // The answer passed every check it had; a reviewer that is down does not take it away.
      emitPlanning(emitter, {
        type: 'reflection.reviewed',
        revision,
        verdict: 'skipped',
        issues: [],
        reason: String((caught as Error)?.message ?? caught),
      });
      break;
    }
    const parsed = parseReview(reviewText);
    if (!parsed.ok) {
      emitPlanning(emitter, {
        type: 'reflection.reviewed',
        revision,
        verdict: 'rejected',
        issues: [],
        reason: parsed.reason,
      });
      break;
    }
    const issues = parsed.review.issues ?? [];
    if (parsed.review.verdict === 'APPROVED') {
      emitPlanning(emitter, { type: 'reflection.reviewed', revision, verdict: 'approved', issues });
      break;
    }
    const revised = parsed.review.answer as string;
    const rechecked = accept(ctx, revised, config.grounding);
    if (!rechecked.ok) {
      // A correction that breaks the answer's schema or cites what nothing returned is not taken.
      emitPlanning(emitter, {
        type: 'reflection.reviewed',
        revision,
        verdict: 'rejected',
        issues,
        reason: rechecked.reason,
      });
      break;
    }
    ctx.state.messages.push(
      {
        role: 'user',
        content: `A review of your answer found: ${issues.join('; ') || 'issues'}. The corrected answer follows.`,
      },
      { role: 'assistant', content: revised },
    );
    ctx.state.lastText = revised;
    text = revised;
    current = rechecked.check;
    emitPlanning(emitter, { type: 'reflection.reviewed', revision, verdict: 'revised', issues });
  }
  return { check: current };
}

function accept(
  ctx: SideStepContext,
  text: string,
  grounding: GroundingCheck | undefined,
): { ok: true; check: FinalAnswerCheck & { ok: true } } | { ok: false; reason: string } {
  const check = checkFinalAnswer(ctx.agent, text, okToolNames(ctx.state));
  if (!check.ok) return { ok: false, reason: check.error.message };
  if (grounding) {
    const grounded = groundAnswer(check.output, ctx.state, grounding);
    if (!grounded.ok) return { ok: false, reason: grounded.check.ok ? '' : grounded.check.error.message };
  }
  return { ok: true, check };
}
