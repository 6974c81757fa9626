import { z } from 'zod';
import { BatonError } from '../errors.js';
import type { RunEventSink } from '../events/emitter.js';
import { setLongTimeout } from '../util/timers.js';
import type { Guard, GuardContext, GuardFinding, Guardrails, GuardStage, GuardVerdict } from './types.js';

const DEFAULT_GUARD_TIMEOUT_MS = 5_000;

export interface GuardRunContext {
  runId: string;
  agent: string;
  tool?: string;
  tenantId?: string;
  userId?: string;
  signal: AbortSignal;
  events: RunEventSink | undefined;
}

export type GuardOutcome =
  | { tripped: false; value: unknown; rewrittenBy: string[] }
  | { tripped: true; error: BatonError };

/** The guards of a stage: the team's (outer) first, then the agent's own. */
export function guardsFor(stage: GuardStage, ...layers: (Guardrails | undefined)[]): Guard[] {
  const guards: Guard[] = [];
  for (const layer of layers) {
    for (const guard of layer?.[stage] ?? []) {
      if (!guard.stages || guard.stages.includes(stage)) guards.push(guard);
    }
  }
  return guards;
}

/**
 * Runs a stage's guards in order, each on what the previous one let through. The first trip ends it; a
 * guard that throws or outlives its time fails closed (a trip naming the failure) unless it is
 * `onError: 'open'`. Nothing here runs beside a side effect: callers await the outcome first.
 */
export async function runGuards(
  guards: readonly Guard[],
  stage: GuardStage,
  value: unknown,
  context: GuardRunContext,
): Promise<GuardOutcome> {
  let current = value;
  const rewrittenBy: string[] = [];
  for (const guard of guards) {
    const verdict = await checkOne(guard, stage, current, context);
    emit(context, stage, guard.name, verdict);
    if (verdict.action === 'trip')
      return { tripped: true, error: tripError(guard.name, stage, verdict, context) };
    if (verdict.action === 'rewrite') {
      current = verdict.value;
      rewrittenBy.push(guard.name);
    }
  }
  return { tripped: false, value: current, rewrittenBy };
}

async function checkOne(
  guard: Guard,
  stage: GuardStage,
  value: unknown,
  context: GuardRunContext,
): Promise<GuardVerdict> {
  const controller = new AbortController();
  const onRunAbort = () => controller.abort(context.signal.reason);
  if (context.signal.aborted) onRunAbort();
  else context.signal.addEventListener('abort', onRunAbort, { once: true });
  const timeoutMs = guard.timeoutMs ?? DEFAULT_GUARD_TIMEOUT_MS;
  let timer: ReturnType<typeof setLongTimeout> | undefined;
  const guardContext: GuardContext = {
    stage,
    runId: context.runId,
    agent: context.agent,
    signal: controller.signal,
  };
  if (context.tool !== undefined) guardContext.tool = context.tool;
  if (context.tenantId !== undefined) guardContext.tenantId = context.tenantId;
  if (context.userId !== undefined) guardContext.userId = context.userId;
  try {
    const timedOut = new Promise<never>((_, reject) => {
      timer = setLongTimeout(() => {
        const error = new BatonError(
          'TIMEOUT',
          `guard "${guard.name}" did not decide within ${timeoutMs} ms`,
        );
        controller.abort(error);
        reject(error);
      }, timeoutMs);
    });
    const verdict = await Promise.race([
      Promise.resolve().then(() => guard.check(value, guardContext)),
      timedOut,
    ]);
    return checkVerdict(verdict);
  } catch (error) {
    if (context.signal.aborted) throw context.signal.reason;
    const reason = `guard "${guard.name}" failed: ${(error as Error)?.message ?? String(error)}`;
    if (guard.onError === 'open')
      return { action: 'pass', findings: [{ kind: 'guard_error', note: reason.slice(0, 200) }] };
    return { action: 'trip', reason: `${reason} (failing closed)` };
  } finally {
    timer?.clear();
    context.signal.removeEventListener('abort', onRunAbort);
  }
}

const findingSchema = z.object({
  kind: z.string(),
  start: z.number().optional(),
  end: z.number().optional(),
  score: z.number().optional(),
  note: z.string().optional(),
});
const verdictSchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('pass'), findings: z.array(findingSchema).optional() }),
  z.object({
    action: z.literal('rewrite'),
    value: z.unknown(),
    reason: z.string(),
    findings: z.array(findingSchema).optional(),
  }),
  z.object({ action: z.literal('trip'), reason: z.string(), findings: z.array(findingSchema).optional() }),
]);

/** A guard's answer is data like any other: a malformed one is the guard failing, and fails closed. */
function checkVerdict(verdict: unknown): GuardVerdict {
  const parsed = verdictSchema.safeParse(verdict);
  if (parsed.success) return parsed.data as GuardVerdict;
  throw new Error(`returned ${JSON.stringify(verdict)?.slice(0, 80) ?? String(verdict)}, not a verdict`);
}

function tripError(
  guard: string,
  stage: GuardStage,
  verdict: { reason: string; findings?: GuardFinding[] },
  context: GuardRunContext,
): BatonError {
  const where = context.tool ? ` on ${context.tool}` : '';
  return new BatonError(
    'GUARDRAIL_TRIPPED',
    `Guard "${guard}" stopped the run at ${stage}${where}: ${verdict.reason}`,
    {
      details: {
        guard,
        stage,
        reason: verdict.reason,
        ...(context.tool ? { tool: context.tool } : {}),
        findings: (verdict.findings ?? []).map((finding) => finding.kind),
      },
    },
  );
}

function emit(context: GuardRunContext, stage: GuardStage, guard: string, verdict: GuardVerdict): void {
  const events = context.events;
  if (!events?.listens('guard.checked')) return;
  const event = {
    type: 'guard.checked' as const,
    runId: context.runId,
    agent: context.agent,
    at: Date.now(),
    stage,
    guard,
    action: verdict.action,
    findings: (verdict.findings ?? []).map((finding) => finding.kind),
  };
  events.emit(
    verdict.action === 'pass'
      ? event
      : { ...event, reason: verdict.reason, ...(context.tool ? { tool: context.tool } : {}) },
  );
}
