import type { JsonSchema } from '../model/types.js';
import { describeSchema } from '../tools/validate.js';
import type { PlanStepFailure } from './telemetry.js';
import { describeViolations, type PlanViolation } from './validate.js';

/** One thing a plan may use, as the planner is shown it. */
export interface CatalogEntry {
  name: string;
  description: string;
  input?: JsonSchema;
  output?: JsonSchema;
}

/** A finished step, as a re-plan is shown it (its output is in the conversation, as data). */
export interface DoneStep {
  step: string;
  use: string;
  produces: string;
}

/** Marks the plan in the conversation, so a resumed run finds it again: `Plan 2:` then its JSON. */
export const PLAN_PREFIX = 'Plan ';
/** Marks the end of the plan phase: after it, the model answers from the steps' results. */
export const PLAN_DONE_PREFIX = 'The plan is done.';

export function planningPrompt(options: {
  kind: 'tool' | 'member';
  catalog: readonly CatalogEntry[];
  maxSteps: number;
}): string {
  const noun = options.kind === 'tool' ? 'tool' : 'team member';
  const lines = [
    'Before doing anything, make a plan for the task above. Reply with only a JSON object:',
    '{ "goal": "...", "steps": [ { "id": "s1", "use": "<name>", "input": { ... }, "dependsOn": [], "produces": "what this step must produce" } ] }',
    '',
    'Rules:',
    `- Each step uses exactly one ${noun} from the list below, with an input that matches what it takes.`,
    '- Where an input value comes from an earlier step, write {"$ref": "<stepId>"} for its whole output or {"$ref": "<stepId>.<path>"} for a part (e.g. {"$ref": "s1.results.0.id"}), and list that step in "dependsOn".',
    '- A step may only depend on steps listed before it. Steps that do not depend on each other run at the same time.',
    `- At most ${options.maxSteps} steps. Do not add a step for the final answer: once the steps have run, you write it from their results.`,
    '',
    `${options.kind === 'tool' ? 'Tools' : 'Team members'}:`,
    ...options.catalog.map(describeEntry),
  ];
  return lines.join('\n');
}

function describeEntry(entry: CatalogEntry): string {
  const input = entry.input ? ` Input: ${describeSchema(entry.input)}.` : '';
  const output = entry.output ? ` Output: ${describeOutput(entry.output)}.` : '';
  return `- ${entry.name}: ${entry.description}${input}${output}`;
}

function describeOutput(schema: JsonSchema): string {
  if (schema.type === 'object' && schema.properties) return describeSchema(schema);
  if (schema.type === 'array') {
    const items = schema.items as JsonSchema | undefined;
    return items ? `a list of ${describeOutput(items)}` : 'a list';
  }
  return typeof schema.type === 'string' ? schema.type : 'a value';
}

export function correctionPrompt(violations: readonly PlanViolation[]): string {
  return [
    'That plan cannot run. Fix every problem below and reply with the whole corrected plan as JSON:',
    describeViolations(violations),
  ].join('\n');
}

/**
 * What a re-plan is told: what was done (outputs as data), what failed and why. Step ids of finished
 * steps stay valid: the new plan may read their outputs and must not reuse their ids.
 */
export function replanPrompt(
  done: readonly DoneStep[],
  failed: readonly PlanStepFailure[],
  left: number,
): string {
  return [
    `Part of the plan failed. Make a new plan for what is still missing (re-plans left after this one: ${left}).`,
    failed.length > 0
      ? `Failed:\n${failed.map((entry) => `- ${entry.step} (${entry.use}): ${entry.code} — ${entry.message}`).join('\n')}`
      : '',
    done.length > 0
      ? `Done (their results are above; read them with {"$ref": "<stepId>..."}, and do not reuse these ids):\n${done.map((entry) => `- ${entry.step} (${entry.use}): ${entry.produces}`).join('\n')}`
      : 'Nothing was done yet.',
    'Do not repeat a failed call with the same input: change the input or use something else. Reply with only the new plan as JSON.',
  ]
    .filter((line) => line !== '')
    .join('\n');
}

export function planDoneNote(steps: number, replans: number): string {
  const again = replans > 0 ? ` after ${replans} re-plan${replans === 1 ? '' : 's'}` : '';
  return `${PLAN_DONE_PREFIX} ${steps} step${steps === 1 ? '' : 's'} ran${again}; their results are above. Give your final answer now, from those results.`;
}
