/**
 * Guards that cross processes. A team's guards apply to every member, remote ones included, but a guard
 * is code: what crosses the bus is its recipe — a registered kind and plain-data options — and the
 * worker rebuilds the guard from the same factory. Built-in guards are registered by `@baton/core`;
 * an application registers its own with `portableGuard` in a module both the caller and the worker
 * import. A guard with no recipe (an inline object, options holding functions) cannot reach a remote
 * member, and a team then refuses the handoff rather than run the member unguarded.
 */
import { Buffer } from 'node:buffer';
import { z } from 'zod';
import { BatonError } from '../errors.js';
import type { Guard, Guardrails, GuardStage } from './types.js';

/** What a portable guard is rebuilt from: its factory's registered kind and its options as plain data. */
export interface GuardSpec {
  kind: string;
  options: unknown;
}

/** Portable guardrails by stage, as they travel. */
export type GuardrailsSpec = Partial<Record<GuardStage, GuardSpec[]>>;

const GUARD_STAGES = ['input', 'output', 'toolInput', 'toolOutput', 'memoryWrite'] as const;

/** The most guards one stage may carry over the wire: a recipe list, not a program. */
const MAX_GUARDS_PER_STAGE = 64;
/**
 * Deepest nesting of one guard's options. Recipes arrive in envelopes anyone allowed to invoke may write,
 * and every factory walks its options: real ones are a few levels deep (lists of values, a category map).
 */
export const MAX_GUARD_OPTIONS_DEPTH = 16;
/** Largest JSON text of a whole set of recipes: word lists and allow-lists, not corpora. */
export const MAX_GUARD_SPEC_BYTES = 64 * 1024;

export const guardSpecSchema = z.object({
  kind: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'a guard kind is 1–64 letters, digits, "_", ".", ":" or "-"'),
  options: z.unknown().refine((options) => isPlainData(options), {
    message: `guard options must be plain JSON data nested at most ${MAX_GUARD_OPTIONS_DEPTH} levels`,
  }),
});

export const guardrailsSpecSchema = z
  .object(
    Object.fromEntries(
      GUARD_STAGES.map((stage) => [stage, z.array(guardSpecSchema).max(MAX_GUARDS_PER_STAGE).optional()]),
    ) as Record<GuardStage, z.ZodOptional<z.ZodArray<typeof guardSpecSchema>>>,
  )
  .strict()
  .superRefine((spec, context) => {
    const bytes = specBytes(spec);
    if (bytes > MAX_GUARD_SPEC_BYTES) {
      context.addIssue({
        code: 'custom',
        message: `the guard recipes take ${bytes} bytes; at most ${MAX_GUARD_SPEC_BYTES} accepted`,
      });
    }
  });

/** True when `value` is a set of recipes that may be rebuilt here: the schema's judgement, no throw. */
export function isGuardrailsSpec(value: unknown): value is GuardrailsSpec {
  try {
    return guardrailsSpecSchema.safeParse(value).success;
  } catch {
    return false;
  }
}

type Factory = (options: never) => Guard;

const factories = new Map<string, Factory>();
const specs = new WeakMap<Guard, GuardSpec>();

/**
 * Registers `factory` under `kind` and returns it wrapped: every guard it makes carries its recipe, so
 * it can be rebuilt in another process that registered the same kind. Options must be plain data
 * (strings, finite numbers, booleans, null, arrays, plain objects) for the guard to be portable; a guard
 * made with other options still works locally and is refused for remote members.
 */
export function portableGuard<F extends (options: never) => Guard>(kind: string, factory: F): F {
  const checked = guardSpecSchema.shape.kind.safeParse(kind);
  if (!checked.success) {
    throw new BatonError('CONFIG_INVALID', `portableGuard: ${checked.error.issues[0]?.message}`);
  }
  const known = factories.get(kind);
  if (known !== undefined && known !== factory) {
    throw new BatonError('CONFIG_INVALID', `portableGuard: the guard kind "${kind}" is registered already`, {
      hint: 'Give each guard factory its own kind; register it once, in a module both sides import',
    });
  }
  factories.set(kind, factory);
  const wrapped = (options: never): Guard => {
    const guard = factory(options);
    if (isPlainData(options)) specs.set(guard, { kind, options: options ?? {} });
    return guard;
  };
  return wrapped as F;
}

/** The recipe a guard can be rebuilt from elsewhere, or undefined when it is not portable. */
export function guardSpecOf(guard: Guard): GuardSpec | undefined {
  return specs.get(guard);
}

/** Rebuilds a guard from its recipe with this process's factory for its kind. */
export function guardFromSpec(spec: GuardSpec): Guard {
  const factory = factories.get(spec.kind);
  if (factory === undefined) {
    throw new BatonError('GUARD_UNKNOWN', `No guard of kind "${spec.kind}" is registered in this process`, {
      details: { kind: spec.kind },
      hint: 'Register it with portableGuard() in a module the worker imports too',
    });
  }
  try {
    return (factory as (options: unknown) => Guard)(spec.options);
  } catch (error) {
    throw new BatonError(
      'CONFIG_INVALID',
      `The guard "${spec.kind}" could not be rebuilt: ${messageOf(error)}`,
      {
        cause: error,
        details: { kind: spec.kind },
      },
    );
  }
}

/**
 * The recipes of `guardrails`, stage by stage; the guards that have none are listed in `notPortable`
 * (by stage and name), and then the recipes must not be used: part of the guardrails would be missing.
 */
export function guardrailsToSpec(guardrails: Guardrails): { spec: GuardrailsSpec; notPortable: string[] } {
  const spec: GuardrailsSpec = {};
  const notPortable: string[] = [];
  for (const stage of GUARD_STAGES) {
    const guards = guardrails[stage];
    if (!guards || guards.length === 0) continue;
    const list: GuardSpec[] = [];
    for (const guard of guards) {
      const recipe = specs.get(guard);
      if (recipe) list.push(recipe);
      else notPortable.push(`${stage}: ${guard.name}`);
    }
    spec[stage] = list;
  }
  // Each recipe fits on its own, but a remote member would refuse the set: too large is not portable.
  const bytes = notPortable.length === 0 ? specBytes(spec) : 0;
  if (bytes > MAX_GUARD_SPEC_BYTES) {
    notPortable.push(`all stages: the recipes take ${bytes} bytes, more than ${MAX_GUARD_SPEC_BYTES}`);
  }
  return { spec, notPortable };
}

/** UTF-8 bytes of the recipes as JSON; a value with no JSON form counts as too large. */
function specBytes(spec: GuardrailsSpec): number {
  try {
    return Buffer.byteLength(JSON.stringify(spec) ?? '', 'utf8');
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/** Guardrails rebuilt from recipes that arrived from elsewhere (validated first: they are input). */
export function guardrailsFromSpec(input: unknown): Guardrails {
  const parsed = guardrailsSpecSchema.safeParse(input);
  if (!parsed.success) {
    throw new BatonError(
      'INPUT_INVALID',
      `Guardrails received are malformed: ${z.prettifyError(parsed.error)}`,
    );
  }
  const guardrails: Guardrails = {};
  for (const stage of GUARD_STAGES) {
    const list = parsed.data[stage];
    if (list && list.length > 0) guardrails[stage] = list.map((spec) => guardFromSpec(spec as GuardSpec));
  }
  return guardrails;
}

/** Plain data survives JSON unchanged: what a recipe may hold. */
function isPlainData(value: unknown, depth = 0): boolean {
  if (depth > MAX_GUARD_OPTIONS_DEPTH) return false;
  if (value === undefined || value === null) return true;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object': {
      // JSON turns an undefined array item into null, but simply drops an undefined property.
      if (Array.isArray(value))
        return value.every((item) => item !== undefined && isPlainData(item, depth + 1));
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return false;
      return Object.values(value).every((item) => isPlainData(item, depth + 1));
    }
    default:
      return false;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
