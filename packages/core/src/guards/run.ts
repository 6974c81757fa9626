import { z } from 'zod';
import { BatonError } from '../errors.js';
import type { RunEventSink } from '../events/emitter.js';
import type { AbortLike } from '../util/run-signal.js';
import { setLongTimeout } from '../util/timers.js';
import {
  type Guard,
  type GuardContext,
  type GuardFinding,
  type Guardrails,
  type GuardStage,
  type GuardVerdict,
  PASS,
} from './types.js';

const DEFAULT_GUARD_TIMEOUT_MS = 5_000;

export interface GuardRunContext {
  runId: string;
  agent: string;
  tool?: string;
  tenantId?: string;
  userId?: string;
  signal: AbortLike;
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
export function runGuards(
  guards: readonly Guard[],
  stage: GuardStage,
  value: unknown,
  context: GuardRunContext,
): Promise<GuardOutcome> {
  // Not an async function: with every built-in guard on every stage, the frame an async function keeps
  // per call and an iterator per loop were a measurable share of a step (see bench/README.md,
  // `security.guardOverheadUs`). Guards that answer at once are run in one synchronous pass.
  try {
    return Promise.resolve(runFrom(guards, 0, stage, value, context, undefined));
  } catch (error) {
    return Promise.reject(error);
  }
}

/** The guards from `start` on: the outcome, or a promise of it once a guard answers with one. */
function runFrom(
  guards: readonly Guard[],
  start: number,
  stage: GuardStage,
  value: unknown,
  context: GuardRunContext,
  rewrittenBy: string[] | undefined,
): GuardOutcome | Promise<GuardOutcome> {
  let current = value;
  let rewrites = rewrittenBy;
  for (let index = start; index < guards.length; index++) {
    const guard = guards[index] as Guard;
    const checked = checkOne(guard, stage, current, context);
    // A guard that answered at once is not awaited: a tick per guard was a measurable share of a step.
    if (isThenable(checked)) return runAfter(checked, guards, index, stage, current, context, rewrites);
    emit(context, stage, guard.name, checked);
    if (checked.action === 'trip')
      return { tripped: true, error: tripError(guard.name, stage, checked, context) };
    if (checked.action === 'rewrite') {
      current = checked.value;
      rewrites ??= [];
      rewrites.push(guard.name);
    }
  }
  return { tripped: false, value: current, rewrittenBy: rewrites ?? [] };
}

/** The rest of the stage once the guard at `index` has answered with a promise. */
async function runAfter(
  pending: Promise<GuardVerdict>,
  guards: readonly Guard[],
  index: number,
  stage: GuardStage,
  value: unknown,
  context: GuardRunContext,
  rewrittenBy: string[] | undefined,
): Promise<GuardOutcome> {
  const guard = guards[index] as Guard;
  const verdict = await pending;
  emit(context, stage, guard.name, verdict);
  if (verdict.action === 'trip')
    return { tripped: true, error: tripError(guard.name, stage, verdict, context) };
  let current = value;
  let rewrites = rewrittenBy;
  if (verdict.action === 'rewrite') {
    current = verdict.value;
    rewrites ??= [];
    rewrites.push(guard.name);
  }
  return runFrom(guards, index + 1, stage, current, context, rewrites);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * What a guard is handed. Its signal aborts when the run stops or the guard's time is up, and it is made
 * on first use only: most guards decide synchronously and never look at it, and an AbortController with
 * a listener on the run's signal cost about 5 µs per check, more than most built-in guards. A class, so
 * the getter sits on the prototype: an object literal with its own getter cost another microsecond.
 * (The signal is an accessor: a guard that copies its context with a spread must copy `signal` too.)
 */
class CheckContext implements GuardContext {
  declare tool?: string;
  declare tenantId?: string;
  declare userId?: string;
  readonly #run: AbortLike;
  /** Made when the signal is first asked for, or the guard's time is up: most checks never need it. */
  #abort: CheckAbort | undefined;

  constructor(
    readonly stage: GuardStage,
    readonly runId: string,
    readonly agent: string,
    run: AbortLike,
  ) {
    this.#run = run;
  }

  get signal(): AbortSignal {
    this.#abort ??= {};
    const abort = this.#abort;
    if (!abort.controller) {
      const controller = new AbortController();
      const run = this.#run;
      abort.controller = controller;
      if (abort.timedOut) controller.abort(abort.timedOut);
      else if (run.aborted) controller.abort(run.reason);
      else {
        abort.onRunAbort = () => controller.abort(run.reason);
        run.addEventListener('abort', abort.onRunAbort, { once: true });
      }
    }
    return abort.controller.signal;
  }

  timeout(error: BatonError): void {
    this.#abort ??= {};
    this.#abort.timedOut = error;
    this.#abort.controller?.abort(error);
  }

  release(): void {
    const onRunAbort = this.#abort?.onRunAbort;
    if (onRunAbort) this.#run.removeEventListener('abort', onRunAbort);
  }
}

interface CheckAbort {
  controller?: AbortController;
  timedOut?: BatonError;
  onRunAbort?: () => void;
}

/** One guard's verdict: synchronous when the guard answered synchronously, else a promise with a deadline. */
function checkOne(
  guard: Guard,
  stage: GuardStage,
  value: unknown,
  context: GuardRunContext,
): GuardVerdict | Promise<GuardVerdict> {
  const scope = new CheckContext(stage, context.runId, context.agent, context.signal);
  if (context.tool !== undefined) scope.tool = context.tool;
  if (context.tenantId !== undefined) scope.tenantId = context.tenantId;
  if (context.userId !== undefined) scope.userId = context.userId;
  let returned: unknown;
  try {
    returned = guard.check(value, scope);
  } catch (error) {
    scope.release();
    return failed(guard, error, context);
  }
  if (!isThenable(returned)) {
    scope.release();
    try {
      return checkVerdict(returned);
    } catch (error) {
      return failed(guard, error, context);
    }
  }
  return settle(guard, returned, scope, context);
}

/** Waits for a guard that answered with a promise, at most its time limit. */
async function settle(
  guard: Guard,
  pending: PromiseLike<unknown>,
  scope: CheckContext,
  context: GuardRunContext,
): Promise<GuardVerdict> {
  const timeoutMs = guard.timeoutMs ?? DEFAULT_GUARD_TIMEOUT_MS;
  let timer: ReturnType<typeof setLongTimeout> | undefined;
  try {
    const timedOut = new Promise<never>((_, reject) => {
      timer = setLongTimeout(() => {
        const error = new BatonError(
          'TIMEOUT',
          `guard "${guard.name}" did not decide within ${timeoutMs} ms`,
        );
        scope.timeout(error);
        reject(error);
      }, timeoutMs);
    });
    return checkVerdict(await Promise.race([pending, timedOut]));
  } catch (error) {
    return failed(guard, error, context);
  } finally {
    timer?.clear();
    scope.release();
  }
}

/** A guard that threw, timed out or answered nonsense: it trips (fails closed) unless it is `onError: 'open'`. */
function failed(guard: Guard, error: unknown, context: GuardRunContext): GuardVerdict {
  if (context.signal.aborted) throw context.signal.reason;
  const reason = `guard "${guard.name}" failed: ${(error as Error)?.message ?? String(error)}`;
  if (guard.onError === 'open')
    return { action: 'pass', findings: [{ kind: 'guard_error', note: reason.slice(0, 200) }] };
  return { action: 'trip', reason: `${reason} (failing closed)` };
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

/**
 * A guard's answer is data like any other: a malformed one is the guard failing, and fails closed. The
 * schema decides; the shapes every built-in guard returns are recognised first without it, since a zod
 * parse per guard per stage cost more than many of the guards themselves.
 */
function checkVerdict(verdict: unknown): GuardVerdict {
  // PASS itself (frozen), what most checks of the built-in guards answer.
  if (verdict === PASS || isPlainVerdict(verdict)) return verdict as GuardVerdict;
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
  // The tool is named at every verdict of its stages, so a pass on `query` can be told from one on `send`.
  const about = context.tool === undefined ? event : { ...event, tool: context.tool };
  events.emit(verdict.action === 'pass' ? about : { ...about, reason: verdict.reason });
}

const ACTIONS = new Set(['pass', 'rewrite', 'trip']);
const optionalNumber = (value: unknown) => value === undefined || Number.isFinite(value);

/** Only values the schema accepts too (it stays the judge of everything else). */
function isPlainVerdict(verdict: unknown): verdict is GuardVerdict {
  if (typeof verdict !== 'object' || verdict === null || Array.isArray(verdict)) return false;
  const { action, reason, findings } = verdict as { action?: unknown; reason?: unknown; findings?: unknown };
  if (typeof action !== 'string' || !ACTIONS.has(action)) return false;
  if (action !== 'pass' && typeof reason !== 'string') return false;
  if (findings === undefined) return true;
  if (!Array.isArray(findings)) return false;
  for (const finding of findings) {
    if (typeof finding !== 'object' || finding === null || Array.isArray(finding)) return false;
    const { kind, start, end, score, note } = finding as Record<string, unknown>;
    if (typeof kind !== 'string' || (note !== undefined && typeof note !== 'string')) return false;
    if (!optionalNumber(start) || !optionalNumber(end) || !optionalNumber(score)) return false;
  }
  return true;
}
