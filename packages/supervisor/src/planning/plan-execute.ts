import {
  type AgentLike,
  BatonError,
  correctionPrompt,
  DEFAULT_PLANNING,
  dependenciesOf,
  emitPlanning,
  inertJson,
  type Model,
  type Plan,
  type PlanBounds,
  PlanningAttr,
  type PlanStepFailure,
  type PlanVerdict,
  planningPrompt,
  resolveRefs,
  validatePlan,
  validationSpan,
  wrapUntrusted,
} from '@baton/core';
import { trace } from '@opentelemetry/api';
import { cachedTeamBundle } from '../bundle.js';
import { fitToTokens } from '../fit.js';
import { memberShape, openTeamJournal, teamShape } from '../team-journal.js';
import { type Member, TeamRun } from '../team-run.js';
import type { StopReason, Team, TeamConfig, TeamPlanReport, TeamResult, TeamRunOptions } from '../types.js';
import { type PlanMember, plannerAgent, type ResolvedMember, resolveMembers } from './members.js';

export interface PlanOutputContext<I> {
  input: I;
  /** The plan that finished (the last re-plan, when there were some). */
  plan: Plan;
  /** Every step's output, over every plan, by step id. */
  outputs: Record<string, unknown>;
}

export interface PlanExecuteConfig<I, O> extends TeamConfig {
  description?: string;
  /** Makes the plans: a model (a planner agent is built around it) or an agent whose output is a plan. */
  planner: Model | AgentLike<string, Plan>;
  /** What a step may use: agents (local or remote), or teams with limits of their own (hierarchical). */
  members: readonly PlanMember[];
  /** Re-plans after a failed step; then the team fails with what the steps found. Default 2. */
  maxReplans?: number;
  /** Planner answers to reach a valid plan, the first included; default 3. */
  maxAttempts?: number;
  /** Most steps in one plan; default 15. */
  maxSteps?: number;
  /** The task as the planner reads it; default the input (as JSON when it is not text). */
  task?: (input: I) => string;
  /** The team's answer; default the output of the plan's last step. */
  output?: (context: PlanOutputContext<I>) => O;
  /** Most tokens of earlier outputs a re-plan is shown; default 6,000. */
  replanTokens?: number;
}

interface Progress {
  plans: Plan[];
  outputs: Map<string, unknown>;
  /** Step id → the member it used, for the steps that finished. */
  done: Map<string, string>;
  failed: PlanStepFailure[];
  replans: number;
}

/**
 * Plan-and-execute as a team: a planner member writes a typed plan over the members (which member each
 * step uses, its input, its dependencies by step id, what it must produce); the plan is validated before
 * any member runs — members exist, dependencies form a DAG with no forward references, references read
 * outputs that exist, inputs match the members' contracts, the plan fits its step cap and the team
 * budget — and a refused plan goes back to the planner with its violations (bounded). Each step starts
 * as soon as the steps it depends on are done, so independent steps run at once, all on the team's one
 * ledger. A failed step triggers a re-plan with what was done and what failed, at most `maxReplans`
 * times; then the team fails with the partial results (`TeamResult.plan`). A member may be a whole team
 * with limits of its own, drawn from this team's ledger.
 */
export function planExecute<I = string, O = unknown>(config: PlanExecuteConfig<I, O>): Team<I, O> {
  const members = resolveMembers(config.name, config.members);
  const byName = new Map(members.map((member) => [member.name, member]));
  const planner: Member<string, Plan> = { name: 'planner', agent: plannerAgent(config.name, config.planner) };
  if (byName.has('planner')) {
    throw new BatonError(
      'CONFIG_INVALID',
      `planExecute(${JSON.stringify(config.name)}): the name "planner" is the planner's`,
      {
        details: { field: 'members' },
      },
    );
  }
  const maxReplans = config.maxReplans ?? DEFAULT_PLANNING.maxReplans;
  const maxAttempts = config.maxAttempts ?? DEFAULT_PLANNING.maxAttempts;
  const maxSteps = config.maxSteps ?? DEFAULT_PLANNING.maxSteps;
  const shape = () => ({
    kind: 'plan-execute',
    ...teamShape(config),
    planner: memberShape(planner.agent),
    members: members.map((member) => ({
      name: member.name,
      shape: member.shape,
      member: memberShape(member.agent),
    })),
    maxReplans,
    maxAttempts,
    maxSteps,
  });

  const bundle = cachedTeamBundle(config.name, shape, () => [
    planner.agent,
    ...members.map((member) => member.agent),
  ]);
  return {
    kind: 'team',
    name: config.name,
    description:
      config.description ?? `Plan-and-execute over ${members.map((member) => member.name).join(', ')}`,
    members: ['planner', ...members.map((member) => member.name)],
    bundle,
    async run(given: I, options: TeamRunOptions = {}): Promise<TeamResult<O>> {
      const opened = await openTeamJournal(config, options, given, shape, bundle);
      if (opened.finished) return opened.finished as TeamResult<O>;
      const input = opened.input as I;
      const team = new TeamRun(config, options, input, opened);
      const task = config.task
        ? config.task(input)
        : typeof input === 'string'
          ? input
          : JSON.stringify(input);
      const progress: Progress = { plans: [], outputs: new Map(), done: new Map(), failed: [], replans: 0 };
      const emitter = { events: options.events, runId: team.runId, agent: config.name };
      const settings = { maxAttempts, maxSteps, replanTokens: config.replanTokens ?? 6_000 };
      const report = (): { plan: TeamPlanReport } => ({
        plan: {
          plans: progress.plans,
          outputs: Object.fromEntries(progress.outputs),
          failed: progress.failed,
          replans: progress.replans,
        },
      });
      const stopped = (fallback: StopReason, outcome: 'stopped' | 'invalid' = 'stopped') => {
        emitPlanning(emitter, {
          type: 'plan.finished',
          outcome,
          steps: progress.done.size,
          replans: progress.replans,
        });
        return team.finish<O>(undefined, undefined, fallback, report());
      };

      let made = await makePlan(team, planner, byName, task, progress, settings, emitter);
      for (;;) {
        if (!('plan' in made)) {
          return stopped(
            { kind: 'aborted', message: 'the team stopped before it had a valid plan' },
            made.outcome,
          );
        }
        const plan = made.plan;
        progress.plans.push(plan);
        const failures = await executePlan(team, plan, progress.plans.length, byName, progress);
        team.endRound();
        if (team.stopped && failures.length === 0 && !allDone(plan, progress)) {
          return stopped({ kind: 'aborted', message: 'the team stopped before the plan was done' });
        }
        if (failures.length === 0) break;
        progress.failed = failures;
        if (team.stopped) return stopped({ kind: 'aborted', message: 'the team stopped during the plan' });
        if (progress.replans >= maxReplans) {
          emitPlanning(emitter, {
            type: 'plan.finished',
            outcome: 'failed',
            steps: progress.done.size,
            replans: progress.replans,
          });
          const first = failures[0] as PlanStepFailure;
          const reason: StopReason = {
            kind: 'member_failed',
            agent: first.use,
            message: `plan step ${first.step} (${first.use}) failed after ${progress.replans} re-plan(s): ${first.code} — ${first.message}; ${progress.done.size} step(s) were done`,
          };
          team.halt(reason, false);
          return team.finish<O>(undefined, undefined, reason, report());
        }
        progress.replans++;
        emitPlanning(emitter, {
          type: 'plan.replanned',
          replan: progress.replans,
          failed: failures,
          done: [...progress.done.keys()],
        });
        made = await makePlan(team, planner, byName, task, progress, settings, emitter);
      }
      const plan = progress.plans.at(-1) as Plan;
      progress.failed = [];
      emitPlanning(emitter, {
        type: 'plan.finished',
        outcome: 'completed',
        steps: progress.done.size,
        replans: progress.replans,
      });
      const outputs = Object.fromEntries(progress.outputs);
      const output = config.output
        ? config.output({ input, plan, outputs })
        : (outputs[(plan.steps.at(-1) as Plan['steps'][number]).id] as O);
      const again = progress.replans > 0 ? ` after ${progress.replans} re-plan(s)` : '';
      const natural: StopReason = {
        kind: 'completed',
        message: `all ${plan.steps.length} plan steps completed${again}`,
      };
      return team.finish(output, natural, natural, report());
    },
  };
}

function allDone(plan: Plan, progress: Progress): boolean {
  return plan.steps.every((step) => progress.done.has(step.id));
}

/**
 * Runs a plan's steps, each as soon as its dependencies are done, through the team (contracts, ledger,
 * spans, journal). Stops starting steps once one fails or the team stops; returns the failures.
 */
async function executePlan(
  team: TeamRun,
  plan: Plan,
  number: number,
  members: ReadonlyMap<string, ResolvedMember>,
  progress: Progress,
): Promise<PlanStepFailure[]> {
  const failures: PlanStepFailure[] = [];
  const waiting = new Map(
    plan.steps.filter((step) => !progress.done.has(step.id)).map((step) => [step.id, step]),
  );
  const running = new Map<string, Promise<void>>();
  const start = () => {
    if (failures.length > 0 || team.stopped) return;
    for (const step of [...waiting.values()]) {
      if (!dependenciesOf(step).every((dependency) => progress.done.has(dependency))) continue;
      waiting.delete(step.id);
      const member = members.get(step.use) as ResolvedMember;
      const resolved = resolveRefs(step.input ?? {}, progress.outputs);
      const fail = (code: string, message: string) =>
        failures.push({ step: step.id, use: step.use, code, message });
      if (!resolved.ok) {
        fail('REFERENCE_UNRESOLVED', resolved.problem);
        continue;
      }
      // Checked here, not at the handoff: a bad input is the plan's fault, and a re-plan can fix it.
      const checked = member.capability.input?.safeParse(resolved.value);
      if (checked && !checked.success) {
        const problems = checked.error.issues.map(
          (issue) => `${issue.path.join('.') || '(input)'}: ${issue.message}`,
        );
        fail('INPUT_INVALID', `the resolved input does not fit ${step.use}: ${problems.join('; ')}`);
        continue;
      }
      const work = team
        .invoke(member, checked ? checked.data : resolved.value, 'planner', { key: `p${number}-${step.id}` })
        .then((invocation) => {
          if (!invocation) return;
          if (invocation.ok) {
            progress.outputs.set(step.id, invocation.result.output);
            progress.done.set(step.id, step.use);
          } else {
            const error = invocation.result.error;
            fail(
              error?.code ?? invocation.result.status,
              error?.message ?? `${step.use} ended ${invocation.result.status}`,
            );
          }
        });
      running.set(
        step.id,
        work.finally(() => running.delete(step.id)),
      );
    }
  };
  start();
  while (running.size > 0) {
    await Promise.race(running.values());
    start();
  }
  return failures;
}

type Emitter = Parameters<typeof emitPlanning>[0];

/**
 * Asks the planner member for a plan and validates it against the members and the team ledger; a refused
 * plan goes back with its violations. Each answer is a handoff to the planner (journaled, charged to the
 * ledger), inside a `plan`/`replan` span with a `validate_plan` span, and an event each.
 */
async function makePlan(
  team: TeamRun,
  planner: Member<string, Plan>,
  members: ReadonlyMap<string, ResolvedMember>,
  task: string,
  progress: Progress,
  settings: { maxAttempts: number; maxSteps: number; replanTokens: number },
  emitter: Emitter,
): Promise<{ plan: Plan } | { outcome: 'invalid' | 'stopped' }> {
  const replan = progress.replans;
  const { tracer, context } = team.tracing;
  const base = [
    `Task:\n${task}`,
    planningPrompt({
      kind: 'member',
      catalog: [...members.values()].map((member) => member.catalog),
      maxSteps: settings.maxSteps,
    }),
    replan > 0 ? await replanNote(progress, settings.replanTokens) : '',
  ]
    .filter((part) => part !== '')
    .join('\n\n');
  let prompt = base;
  for (let attempt = 1; attempt <= settings.maxAttempts; attempt++) {
    const span = tracer.startSpan(`${replan === 0 ? 'plan' : 'replan'} ${team.config.name}`, {}, context);
    span.setAttributes({ [PlanningAttr.PLAN_REPLAN]: replan, [PlanningAttr.PLAN_ATTEMPT]: attempt });
    const invocation = await team.invoke(planner, prompt, 'team', {
      key: `plan${replan}-a${attempt}`,
      trustedInput: true,
    });
    if (!invocation?.ok) {
      span.setAttribute(PlanningAttr.PLAN_VALID, false);
      span.end();
      if (invocation && !team.stopReason) team.halt(team.failureReason(invocation), false);
      return { outcome: 'stopped' };
    }
    const verdict: PlanVerdict = validatePlan(
      invocation.result.output,
      boundsOf(team, members, progress, settings.maxSteps),
    );
    span.setAttribute(PlanningAttr.PLAN_VALID, verdict.valid);
    if (verdict.valid) span.setAttribute(PlanningAttr.PLAN_STEPS, verdict.plan.steps.length);
    validationSpan(tracer, team.config.name, trace.setSpan(context, span), {
      valid: verdict.valid,
      violations: verdict.valid ? [] : verdict.violations,
      replan,
      attempt,
    });
    span.end();
    emitPlanning(emitter, {
      type: 'plan.created',
      attempt,
      replan,
      plan: verdict.valid ? verdict.plan : undefined,
    });
    emitPlanning(emitter, {
      type: 'plan.validated',
      attempt,
      replan,
      valid: verdict.valid,
      violations: verdict.valid ? [] : verdict.violations,
    });
    if (verdict.valid) return { plan: verdict.plan };
    prompt = `${base}\n\nYour previous plan:\n${JSON.stringify(invocation.result.output)}\n\n${correctionPrompt(verdict.violations)}`;
  }
  team.halt(
    {
      kind: 'member_failed',
      agent: 'planner',
      message: `the planner gave no valid plan in ${settings.maxAttempts} attempt(s)`,
    },
    false,
  );
  return { outcome: 'invalid' };
}

function boundsOf(
  team: TeamRun,
  members: ReadonlyMap<string, ResolvedMember>,
  progress: Progress,
  maxSteps: number,
): PlanBounds {
  const bounds: PlanBounds = {
    kind: 'member',
    capabilities: new Map([...members].map(([name, member]) => [name, member.capability])),
    maxSteps,
    done: progress.done,
  };
  const left = team.ledger.remaining();
  if (left.tokens !== undefined) bounds.tokensLeft = left.tokens;
  if (left.steps !== undefined) bounds.stepsLeft = left.steps;
  return bounds;
}

/** What a re-plan is told: the failures, and the outputs so far as data (fitted to a token budget). */
async function replanNote(progress: Progress, maxTokens: number): Promise<string> {
  const done = [...progress.done].map(([step, use]) => ({ step, use, output: progress.outputs.get(step) }));
  const fitted = await fitToTokens(done, maxTokens);
  return [
    `Part of the plan failed. Make a new plan for what is still missing (this is re-plan ${progress.replans}).`,
    `Failed:\n${progress.failed.map((entry) => `- ${entry.step} (${entry.use}): ${entry.code} — ${entry.message}`).join('\n')}`,
    done.length > 0
      ? `Done (read their outputs with {"$ref": "<stepId>..."}; do not reuse these ids):\n${wrapUntrusted('agent:members', inertJson(fitted.value))}`
      : 'Nothing was done yet.',
    'Do not repeat a failed step with the same input.',
  ].join('\n');
}
