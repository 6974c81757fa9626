import type { z } from 'zod';
import type { JsonSchema } from '../model/types.js';
import { canonicalJson } from '../util/canonical.js';
import { editDistance } from '../util/edit-distance.js';
import { dependenciesOf, type Plan, type PlanStep, planSchema, refsOf } from './plan.js';

export type PlanViolationCode =
  /** The planner's answer is not JSON. */
  | 'plan_unreadable'
  /** JSON, but not a plan (missing fields, bad step ids, ...). */
  | 'plan_schema'
  | 'too_many_steps'
  | 'duplicate_step'
  | 'unknown_tool'
  | 'unknown_member'
  /** The tool or member exists, but this run may not use it (policy, risk). */
  | 'not_allowed'
  | 'unknown_dependency'
  /** A step depends on (or reads) a step listed after it. */
  | 'forward_reference'
  | 'cycle'
  /** An input reference names no step, or is unreadable. */
  | 'unknown_reference'
  /** An input reference reads a part the referenced step's output does not have. */
  | 'unknown_output'
  | 'input_invalid'
  /** More calls of a tool than its per-run rate limit leaves. */
  | 'rate_limit'
  /** The plan's worst case does not fit what is left of the budget. */
  | 'over_budget'
  /** A step repeats a call that already failed in this run. */
  | 'repeats_failed_call'
  /** Two steps make the same call, or a step repeats a call the run already made (read its output instead). */
  | 'duplicate_call';

export interface PlanViolation {
  code: PlanViolationCode;
  /** The step at fault, when one is. */
  step?: string;
  message: string;
}

export type PlanVerdict = { valid: true; plan: Plan } | { valid: false; violations: PlanViolation[] };

/** Something a plan step may use: a tool of the agent, or a member of the team. */
export interface PlanCapability {
  name: string;
  /** Checks a step's input when it has no references (with references it is checked once they resolve). */
  input?: z.ZodType;
  /** What it returns, as JSON Schema: the paths references read are checked against it. */
  output?: JsonSchema;
  /** Why this run may not use it; undefined when it may. */
  denied?: string;
  /** Calls it has left in this run (a per-run rate limit). */
  callsLeft?: number;
  /** Most tokens one use can cost the ledger (a tool's result cap, a member's token cap). */
  maxTokens?: number;
  /** Most ledger steps one use can take (a member's step cap). */
  maxSteps?: number;
}

export interface PlanBounds {
  /** Steps use tools (one agent) or members (a team): only the wording of violations differs. */
  kind: 'tool' | 'member';
  capabilities: ReadonlyMap<string, PlanCapability>;
  /** Most steps one plan may have. */
  maxSteps: number;
  /** Steps finished under earlier plans (id → what they used): a re-plan may read their outputs. */
  done?: ReadonlyMap<string, string>;
  /** Tokens left on the ledger, and what the work will cost besides the steps (the context, the answer). */
  tokensLeft?: number;
  baseTokens?: number;
  /** Ledger steps left, when the ledger counts them. */
  stepsLeft?: number;
  /** Canonical `name:input` of calls that already failed in this run. */
  failedCalls?: ReadonlySet<string>;
  /** Canonical `name:input` of calls the run made already and may not make again (loop detection). */
  madeCalls?: ReadonlySet<string>;
}

/**
 * Validates a plan before a single step runs: it must parse as a plan; every tool or member must exist
 * and be allowed; dependencies must name earlier steps (no forward references, no cycles); references in
 * inputs must read outputs that exist (checked against output schemas where known); static inputs must
 * be valid; and the plan must fit its step cap, per-run rate limits and what is left of the budget.
 * Every violation names its step and says what would be right, so the planner can fix it.
 */
export function validatePlan(raw: unknown, bounds: PlanBounds): PlanVerdict {
  const parsed = planSchema.safeParse(raw);
  if (!parsed.success) {
    return {
      valid: false,
      violations: parsed.error.issues.slice(0, 12).map((issue) => ({
        code: 'plan_schema',
        message: `${issue.path.join('.') || '(plan)'}: ${issue.message}`,
      })),
    };
  }
  const plan = parsed.data;
  const violations: PlanViolation[] = [];
  const add = (code: PlanViolationCode, step: string | undefined, message: string) =>
    violations.push(step === undefined ? { code, message } : { code, step, message });
  const done = bounds.done ?? new Map<string, string>();

  if (plan.steps.length > bounds.maxSteps) {
    add(
      'too_many_steps',
      undefined,
      `the plan has ${plan.steps.length} steps; at most ${bounds.maxSteps} are allowed`,
    );
  }
  const position = new Map<string, number>();
  for (const [index, step] of plan.steps.entries()) {
    if (position.has(step.id) || done.has(step.id)) {
      const where = done.has(step.id) ? 'a step that already ran' : 'an earlier step';
      add('duplicate_step', step.id, `step id "${step.id}" is already used by ${where}: give it a new id`);
    } else position.set(step.id, index);
  }

  const cyclic = cycleEdges(plan.steps, position, add);
  /** The static calls of the plan so far, by canonical key: the same call twice is refused. */
  const calls = new Map<string, string>();
  // Edges reported already (a cycle, or a forward `dependsOn`): their references are not reported again.
  const reported = new Set(cyclic);
  for (const [index, step] of plan.steps.entries()) {
    checkUse(step, bounds, add);
    for (const dependency of step.dependsOn ?? []) {
      if (done.has(dependency)) continue;
      const at = position.get(dependency);
      if (at === undefined) {
        add('unknown_dependency', step.id, `depends on "${dependency}", which is not a step of the plan`);
      } else if (at >= index && !reported.has(`${step.id}>${dependency}`)) {
        reported.add(`${step.id}>${dependency}`);
        add(
          'forward_reference',
          step.id,
          `depends on "${dependency}", which comes later in the plan: list steps in the order they can run`,
        );
      }
    }
    checkRefs(step, index, plan.steps, position, bounds, reported, add);
    checkInput(step, bounds, calls, add);
  }
  checkCounts(plan, bounds, add);
  return violations.length === 0 ? { valid: true, plan } : { valid: false, violations };
}

type Add = (code: PlanViolationCode, step: string | undefined, message: string) => void;

function checkUse(step: PlanStep, bounds: PlanBounds, add: Add): void {
  const capability = bounds.capabilities.get(step.use);
  if (!capability) {
    const names = [...bounds.capabilities.keys()];
    const closest = closestName(step.use, names);
    add(
      bounds.kind === 'tool' ? 'unknown_tool' : 'unknown_member',
      step.id,
      `uses "${step.use}", which is not a ${bounds.kind}${closest ? ` (did you mean "${closest}"?)` : ''}; valid: ${names.join(', ') || 'none'}`,
    );
    return;
  }
  if (capability.denied !== undefined) {
    add('not_allowed', step.id, `may not use "${step.use}": ${capability.denied}`);
  }
}

/**
 * Finds the cycles of the dependency graph (references included) and reports each once, with its path.
 * Returns the edges inside cycles, so they are not reported again as forward references.
 */
function cycleEdges(
  steps: readonly PlanStep[],
  position: ReadonlyMap<string, number>,
  add: Add,
): Set<string> {
  const edges = new Map(steps.map((step) => [step.id, dependenciesOf(step).filter((d) => position.has(d))]));
  const inCycle = new Set<string>();
  const state = new Map<string, 'visiting' | 'done'>();
  const trail: string[] = [];
  const visit = (id: string): void => {
    state.set(id, 'visiting');
    trail.push(id);
    for (const next of edges.get(id) ?? []) {
      if (state.get(next) === 'visiting') {
        const loop = [...trail.slice(trail.indexOf(next)), next];
        for (let index = 0; index < loop.length - 1; index++)
          inCycle.add(`${loop[index]}>${loop[index + 1]}`);
        add(
          'cycle',
          next,
          `the steps depend on each other in a cycle: ${loop.join(' → ')} (each needs the next's output)`,
        );
      } else if (!state.has(next)) visit(next);
    }
    trail.pop();
    state.set(id, 'done');
  };
  for (const step of steps) if (!state.has(step.id)) visit(step.id);
  return inCycle;
}

function checkRefs(
  step: PlanStep,
  index: number,
  steps: readonly PlanStep[],
  position: ReadonlyMap<string, number>,
  bounds: PlanBounds,
  reported: Set<string>,
  add: Add,
): void {
  for (const ref of refsOf(step.input)) {
    if (ref.step === '') {
      add(
        'unknown_reference',
        step.id,
        `${ref.at}: "${ref.raw}" is not a reference like "s1" or "s1.results.0.id"`,
      );
      continue;
    }
    const at = position.get(ref.step);
    const doneUse = bounds.done?.get(ref.step);
    if (at === undefined && doneUse === undefined) {
      add('unknown_reference', step.id, `${ref.at} reads "${ref.raw}", but there is no step "${ref.step}"`);
      continue;
    }
    if (at !== undefined && at >= index) {
      if (!reported.has(`${step.id}>${ref.step}`)) {
        reported.add(`${step.id}>${ref.step}`);
        add(
          'forward_reference',
          step.id,
          `${ref.at} reads the output of "${ref.step}", which comes later in the plan (step ${index + 1} cannot use step ${at + 1}'s output)`,
        );
      }
      continue;
    }
    const use = at !== undefined ? (steps[at] as PlanStep).use : (doneUse as string);
    const output = bounds.capabilities.get(use)?.output;
    const missing = output ? missingPath(output, ref.path) : undefined;
    if (missing) {
      add('unknown_output', step.id, `${ref.at} reads "${ref.raw}", but ${use}'s output ${missing}`);
    }
  }
}

function checkInput(step: PlanStep, bounds: PlanBounds, calls: Map<string, string>, add: Add): void {
  const capability = bounds.capabilities.get(step.use);
  if (!capability?.input || refsOf(step.input).length > 0) return;
  const parsed = capability.input.safeParse(step.input ?? {});
  if (parsed.success) {
    const key = `${step.use}:${canonicalJson(parsed.data)}`;
    const twin = calls.get(key);
    if (bounds.failedCalls?.has(key)) {
      add(
        'repeats_failed_call',
        step.id,
        `calls ${step.use} with the same input as a call that already failed: change the input or use something else`,
      );
    } else if (twin !== undefined) {
      add(
        'duplicate_call',
        step.id,
        `makes the same call as ${twin}: read ${twin}'s output with {"$ref": "${twin}"} instead`,
      );
    } else if (bounds.madeCalls?.has(key)) {
      add('duplicate_call', step.id, `repeats a call this run already made: use the result you have`);
    }
    calls.set(key, step.id);
    return;
  }
  const problems = parsed.error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.join('.') || '(input)'}: ${issue.message}`);
  add('input_invalid', step.id, `invalid input for ${step.use}: ${problems.join('; ')}`);
}

function checkCounts(plan: Plan, bounds: PlanBounds, add: Add): void {
  const uses = new Map<string, number>();
  let tokens = bounds.baseTokens ?? 0;
  let steps = 0;
  let stepsKnown = true;
  for (const step of plan.steps) {
    uses.set(step.use, (uses.get(step.use) ?? 0) + 1);
    const capability = bounds.capabilities.get(step.use);
    tokens += capability?.maxTokens ?? 0;
    if (capability?.maxSteps === undefined) stepsKnown = false;
    else steps += capability.maxSteps;
  }
  for (const [name, count] of uses) {
    const left = bounds.capabilities.get(name)?.callsLeft;
    if (left !== undefined && count > left) {
      add(
        'rate_limit',
        undefined,
        `the plan calls ${name} ${count} times; it may be called ${left} more time(s) in this run`,
      );
    }
  }
  if (bounds.tokensLeft !== undefined && tokens > bounds.tokensLeft) {
    add(
      'over_budget',
      undefined,
      `the plan may need up to ${tokens} tokens, and ${Math.floor(bounds.tokensLeft)} are left: use fewer steps`,
    );
  }
  // Only when every step's cap is known: an unknown one cannot be summed, and guessing would refuse good plans.
  if (bounds.stepsLeft !== undefined && stepsKnown && steps > bounds.stepsLeft) {
    add(
      'over_budget',
      undefined,
      `the plan may take up to ${steps} steps on the ledger, and ${bounds.stepsLeft} are left: use fewer steps`,
    );
  }
}

/**
 * Follows `path` through a JSON Schema; returns what is missing ("has no \"reslts\" (its keys: results)"),
 * or undefined when the path exists or the schema cannot say (no properties listed, a union, any).
 */
export function missingPath(schema: JsonSchema, path: readonly (string | number)[]): string | undefined {
  let node: JsonSchema = schema;
  for (const key of path) {
    const variants = (node.anyOf ?? node.oneOf) as JsonSchema[] | undefined;
    if (Array.isArray(variants)) return undefined;
    if (node.type === 'array') {
      if (typeof key !== 'number') return `is a list: read it by index ("…0…"), not "${key}"`;
      const items = node.items as JsonSchema | undefined;
      if (!items) return undefined;
      node = items;
      continue;
    }
    const properties = node.properties as Record<string, JsonSchema> | undefined;
    if (node.type !== 'object' || !properties) return undefined;
    const next = properties[String(key)];
    if (!next) {
      if (node.additionalProperties !== undefined && node.additionalProperties !== false) return undefined;
      return `has no "${key}" (its fields: ${Object.keys(properties).join(', ')})`;
    }
    node = next;
  }
  return undefined;
}

/** The violations as the planner reads them: one line each, with the step at fault. */
export function describeViolations(violations: readonly PlanViolation[]): string {
  return violations
    .map(
      (violation) =>
        `- [${violation.code}]${violation.step ? ` ${violation.step}:` : ''} ${violation.message}`,
    )
    .join('\n');
}

function closestName(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}
