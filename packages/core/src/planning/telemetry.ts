import { type Context, type Span, SpanStatusCode, type Tracer } from '@opentelemetry/api';
import type { RunEventSink } from '../events/emitter.js';
import { startSpan } from '../tracing/spans.js';
import type { Plan } from './plan.js';
import type { PlanViolation } from './validate.js';

/** A step that did not produce its output, as a re-plan and its event report it. */
export interface PlanStepFailure {
  step: string;
  use: string;
  /** The error code (TOOL_EMPTY_RESULT, REFERENCE_UNRESOLVED, a member's status, ...). */
  code: string;
  message: string;
}

/**
 * The events of planning, reflection, grounding and tool recovery (fields after the common ones). A team
 * emits the plan events too, with its own name as `agent` and its run id.
 */
export type PlanningEventFields =
  /** A planner answered; `attempt` counts answers for this plan (corrections included), `replan` 0 is the first plan. */
  | { type: 'plan.created'; attempt: number; replan: number; plan: Plan | undefined; text?: string }
  | { type: 'plan.validated'; attempt: number; replan: number; valid: boolean; violations: PlanViolation[] }
  | { type: 'plan.replanned'; replan: number; failed: PlanStepFailure[]; done: string[] }
  | {
      type: 'plan.finished';
      outcome: 'completed' | 'failed' | 'invalid' | 'stopped';
      /** Steps that produced their output, over every plan. */
      steps: number;
      replans: number;
    }
  | {
      type: 'reflection.reviewed';
      revision: number;
      verdict: 'approved' | 'revised' | 'rejected' | 'skipped';
      issues: string[];
      reason?: string;
    }
  | { type: 'grounding.checked'; ok: boolean; cited: number; unknown: string[] }
  | {
      type: 'tool.recovered';
      step: number;
      toolCallId: string;
      tool: string;
      strategy: 'modified_retry' | 'fallback';
      attempt: number;
      ok: boolean;
      /** The arguments of a modified retry. */
      args?: unknown;
      /** The fallback that answered (a tool's name, or `<tool>_fallback` for a function). */
      fallback?: string;
    };

/** Span attributes of planning and reflection. */
export const PlanningAttr = {
  PLAN_REPLAN: 'baton.plan.replan',
  PLAN_ATTEMPT: 'baton.plan.attempt',
  PLAN_STEPS: 'baton.plan.steps',
  PLAN_VALID: 'baton.plan.valid',
  PLAN_VIOLATIONS: 'baton.plan.violations',
  PLAN_OUTCOME: 'baton.plan.outcome',
  REFLECTION_REVISION: 'baton.reflection.revision',
  REFLECTION_VERDICT: 'baton.reflection.verdict',
  TOOL_MODIFIED_RETRIES: 'baton.tool.modified_retries',
  TOOL_FALLBACK: 'baton.tool.fallback',
  TOOL_FALLBACK_OK: 'baton.tool.fallback_ok',
} as const;

/** Who emits: a run (agent name, run id) or a team (team name, team run id). */
export interface Emitter {
  events: RunEventSink | undefined;
  runId: string;
  agent: string;
}

export function emitPlanning(emitter: Emitter, fields: PlanningEventFields): void {
  const { events } = emitter;
  if (!events?.listens(fields.type)) return;
  events.emit({ ...fields, runId: emitter.runId, agent: emitter.agent, at: Date.now() });
}

/** Runs `work` inside a span named `name` under `parent`, ending it however the work ends. */
export async function inSpan<T>(
  tracer: Tracer,
  name: string,
  parent: Context,
  work: (span: Span) => Promise<T>,
): Promise<T> {
  const span = startSpan(tracer, name, parent);
  try {
    return await work(span);
  } catch (error) {
    if (span.isRecording()) span.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });
    throw error;
  } finally {
    span.end();
  }
}

/** The validation verdict as its own short span, so a trace shows every refused plan and why. */
export function validationSpan(
  tracer: Tracer,
  name: string,
  parent: Context,
  verdict: { valid: boolean; violations: readonly PlanViolation[]; replan: number; attempt: number },
): void {
  const span = startSpan(tracer, `validate_plan ${name}`, parent);
  if (span.isRecording()) {
    span.setAttributes({
      [PlanningAttr.PLAN_VALID]: verdict.valid,
      [PlanningAttr.PLAN_REPLAN]: verdict.replan,
      [PlanningAttr.PLAN_ATTEMPT]: verdict.attempt,
    });
    if (!verdict.valid) {
      span.setAttribute(
        PlanningAttr.PLAN_VIOLATIONS,
        verdict.violations.map(
          (violation) => `${violation.code}${violation.step ? `@${violation.step}` : ''}`,
        ),
      );
      span.setStatus({ code: SpanStatusCode.ERROR, message: `${verdict.violations.length} violation(s)` });
    }
  }
  span.end();
}
