import { z } from 'zod';
import type { JsonSchema } from '../model/types.js';

/** A step id: short, so plans stay readable and references (`s1.results.0.id`) stay unambiguous. */
export const PLAN_STEP_ID = /^[A-Za-z][A-Za-z0-9_-]{0,39}$/;

/** Most steps a plan can ever have, whatever the limits say: a bound on what a model can ask for. */
export const PLAN_MAX_STEPS = 50;

export const planStepSchema = z.object({
  id: z
    .string()
    .regex(PLAN_STEP_ID, 'a step id is a letter, then up to 39 letters, digits, "_" or "-" (e.g. "s1")'),
  use: z.string().min(1).max(128).describe('The tool (or team member) this step calls'),
  input: z
    .unknown()
    .optional()
    .describe(
      'The arguments. Where a value comes from an earlier step, write {"$ref": "<stepId>"} for its whole output or {"$ref": "<stepId>.<path>"} for a part (e.g. "s1.results.0.id")',
    ),
  dependsOn: z
    .array(z.string().max(40))
    .max(PLAN_MAX_STEPS)
    .optional()
    .describe('Ids of the earlier steps this one needs'),
  produces: z.string().min(1).max(1_000).describe('What this step must produce'),
});

/** A plan as a model writes it: checked with this schema, then validated against what the run may do. */
export const planSchema = z.object({
  goal: z.string().min(1).max(4_000),
  steps: z.array(planStepSchema).min(1).max(PLAN_MAX_STEPS),
});

export type PlanStep = z.infer<typeof planStepSchema>;
export type Plan = z.infer<typeof planSchema>;

let planJson: JsonSchema | undefined;

/** The plan's JSON Schema, as a planning call asks for it. */
export function planJsonSchema(): JsonSchema {
  if (!planJson) {
    const { $schema: _ignored, ...rest } = z.toJSONSchema(planSchema, { io: 'input' }) as JsonSchema;
    planJson = rest;
  }
  return planJson;
}

/** A reference to an earlier step's output, found in a step's input. */
export interface PlanRef {
  /** The step whose output is read. */
  step: string;
  /** Keys and indexes into that output; empty for the whole output. */
  path: (string | number)[];
  /** The reference as written. */
  raw: string;
  /** Where it sits in the input (`input.query`, `input.ids.0`). */
  at: string;
}

/** `{ "$ref": "s1.results.0.id" }`: an object with that one key and a string value. */
export function isRef(value: unknown): value is { $ref: string } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && keys[0] === '$ref' && typeof (value as { $ref: unknown }).$ref === 'string';
}

/** Splits `s1.results[0].id` (or `s1.results.0.id`) into its step and path; undefined when unreadable. */
export function parseRef(raw: string): { step: string; path: (string | number)[] } | undefined {
  const normalized = raw.trim().replace(/\[(\d+)\]/g, '.$1');
  const [step, ...rest] = normalized.split('.');
  if (step === undefined || !PLAN_STEP_ID.test(step) || rest.some((part) => part === '')) return undefined;
  return { step, path: rest.map((part) => (/^\d+$/.test(part) ? Number(part) : part)) };
}

/** Every reference in a step's input, depth first. */
export function refsOf(input: unknown, at = 'input'): PlanRef[] {
  if (isRef(input)) {
    const parsed = parseRef(input.$ref);
    return [{ step: parsed?.step ?? '', path: parsed?.path ?? [], raw: input.$ref, at }];
  }
  if (Array.isArray(input)) return input.flatMap((item, index) => refsOf(item, `${at}.${index}`));
  if (typeof input === 'object' && input !== null) {
    return Object.entries(input).flatMap(([key, value]) => refsOf(value, `${at}.${key}`));
  }
  return [];
}

export type Resolved = { ok: true; value: unknown } | { ok: false; problem: string };

/**
 * A step's input with every reference replaced by the value it points at. A reference into an output that
 * does not have that part (the search returned two results, the plan reads the third) is a problem named
 * precisely, so the re-plan can fix it.
 */
export function resolveRefs(input: unknown, outputs: ReadonlyMap<string, unknown>): Resolved {
  if (isRef(input)) {
    const parsed = parseRef(input.$ref);
    if (!parsed || !outputs.has(parsed.step)) {
      return { ok: false, problem: `reference "${input.$ref}" names no finished step` };
    }
    let value: unknown = outputs.get(parsed.step);
    for (const [index, key] of parsed.path.entries()) {
      const next = child(value, key);
      if (next === undefined) {
        const where = [parsed.step, ...parsed.path.slice(0, index)].join('.');
        return {
          ok: false,
          problem: `reference "${input.$ref}": ${where} has no "${key}" (${shape(value)})`,
        };
      }
      value = next;
    }
    return { ok: true, value };
  }
  if (Array.isArray(input)) {
    const items: unknown[] = [];
    for (const item of input) {
      const resolved = resolveRefs(item, outputs);
      if (!resolved.ok) return resolved;
      items.push(resolved.value);
    }
    return { ok: true, value: items };
  }
  if (typeof input === 'object' && input !== null) {
    const entries: [string, unknown][] = [];
    for (const [key, value] of Object.entries(input)) {
      const resolved = resolveRefs(value, outputs);
      if (!resolved.ok) return resolved;
      entries.push([key, resolved.value]);
    }
    return { ok: true, value: Object.fromEntries(entries) };
  }
  return { ok: true, value: input };
}

function child(value: unknown, key: string | number): unknown {
  if (Array.isArray(value)) return typeof key === 'number' ? value[key] : undefined;
  if (typeof value === 'object' && value !== null && Object.hasOwn(value, String(key))) {
    return (value as Record<string, unknown>)[String(key)];
  }
  return undefined;
}

function shape(value: unknown): string {
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object' && value !== null) {
    const keys = Object.keys(value).slice(0, 8);
    return keys.length > 0 ? `its keys: ${keys.join(', ')}` : 'an empty object';
  }
  return `a ${value === null ? 'null' : typeof value}`;
}

/** The steps' dependencies: those listed, plus every step a reference reads (a reference is a dependency). */
export function dependenciesOf(step: PlanStep): string[] {
  const listed = step.dependsOn ?? [];
  const referenced = refsOf(step.input).map((ref) => ref.step);
  return [...new Set([...listed, ...referenced])];
}
