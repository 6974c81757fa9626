import type { Agent } from '../agent.js';
import { configError } from '../tools/define.js';
import { type PlanningOptions, type ResolvedPlanning, resolvePlanning } from './agent-plan.js';
import { checkGroundingConfig, type GroundingCheck } from './grounding.js';
import { type ReflectOptions, resolveReflect } from './reflect.js';
import { registerAnswerChecks } from './review.js';

/** The planning fields of `defineAgent`. */
export interface PlanningConfig<O = unknown> {
  /**
   * `react` (default): think, act, observe, one step at a time. `plan-execute`: a typed plan first,
   * validated before anything runs, its independent steps run together, re-planned when a step fails.
   */
  planner?: 'react' | 'plan-execute';
  /** How a `plan-execute` agent plans (re-plans, attempts, plan size, the planning model). */
  planning?: PlanningOptions;
  /** After a final answer, a review call: `true`, or `{ model, rubric, maxRevisions }`. */
  reflect?: boolean | ReflectOptions;
  /** Checks that the answer's citations point at tool results of the run. */
  grounding?: GroundingCheck<O>;
}

const planners = new WeakMap<Agent, ResolvedPlanning>();

/** Checks an agent's planning fields (a bad one throws at definition) and keeps what the loop needs. */
export function configurePlanning<O>(agent: Agent, config: PlanningConfig<O>, where: string): void {
  const planner = config.planner ?? 'react';
  if (planner !== 'react' && planner !== 'plan-execute') {
    throw configError(where, 'planner', '"react" or "plan-execute"');
  }
  if (config.planning !== undefined && planner !== 'plan-execute') {
    throw configError(where, 'planning', 'set only with planner: "plan-execute"');
  }
  if (planner === 'plan-execute') {
    if (agent.tools.size === 0)
      throw configError(where, 'tools', 'at least one tool for a plan-execute agent to plan with');
    planners.set(agent, resolvePlanning(config.planning, where));
  }
  registerAnswerChecks(
    agent,
    resolveReflect(config.reflect, where),
    checkGroundingConfig(config.grounding as GroundingCheck | undefined, where),
  );
}

/** A `plan-execute` agent's planning settings, or undefined for a ReAct agent. */
export function planningOf(agent: Agent): ResolvedPlanning | undefined {
  return planners.get(agent);
}
