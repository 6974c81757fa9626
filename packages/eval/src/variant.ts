import { readFileSync } from 'node:fs';
import { BatonError } from '@baton/core';
import { z } from 'zod';

const limitsSchema = z
  .object({
    maxSteps: z.number().int().positive(),
    timeoutMs: z.number().positive(),
    maxTokens: z.number().positive(),
    maxCostUsd: z.number().positive(),
    maxRepeats: z.number().int().positive(),
    noProgressSteps: z.number().int().positive(),
    outputRetries: z.number().int().nonnegative(),
  })
  .partial()
  .strict();

/** A member's instructions: a replacement, or text appended to the member's own. */
const instructionsSchema = z.union([z.string().min(1), z.object({ append: z.string().min(1) }).strict()]);

/**
 * One arm of an eval or an A/B: which team (or single agent) runs, with what model, instructions,
 * limits and team options. Everything is data, so a variant can live in a suite file or on a command line.
 */
export const variantSchema = z
  .object({
    /** A label for reports (default: the team or agent name). */
    name: z.string().min(1).optional(),
    /** A catalogue team (`research`, `research-supervisor`, `debate`). */
    team: z.string().min(1).optional(),
    /** A single catalogue agent (`researcher`, `writer`, ...) instead of a team. */
    agent: z.string().min(1).optional(),
    /**
     * The model every member uses, as `BATON_MODEL` spells it: `offline`, `openai:gpt-4.1-mini`,
     * `anthropic:claude-sonnet-4-6`, a bare id. Default: what the environment configures (else offline).
     */
    model: z.string().min(1).optional(),
    /** Per member: instructions that replace (a string) or extend (`{ append }`) the member's own. */
    instructions: z.record(z.string(), instructionsSchema).optional(),
    /** Per member: limits merged over the member's own. */
    limits: z.record(z.string(), limitsSchema).optional(),
    /** Options of the team factory. */
    options: z
      .object({
        maxRevisions: z.number().int().nonnegative().optional(),
        planner: z.enum(['react', 'plan-execute']).optional(),
        timeoutMs: z.number().positive().optional(),
        budget: z
          .object({
            maxTokens: z.number().positive().optional(),
            maxCostUsd: z.number().positive().optional(),
            maxSteps: z.number().int().positive().optional(),
          })
          .strict()
          .optional(),
      })
      .strict()
      .optional(),
    /** The bundle hash this variant stands for, carried into reports as is. */
    bundle: z.string().min(1).optional(),
  })
  .strict()
  .refine((variant) => (variant.team === undefined) !== (variant.agent === undefined), {
    message: 'a variant names exactly one of "team" or "agent"',
  });

export type Variant = z.infer<typeof variantSchema>;
export type VariantLimits = z.infer<typeof limitsSchema>;

/** A variant's label in reports. */
export function variantLabel(variant: Variant): string {
  return variant.name ?? variant.team ?? variant.agent ?? 'variant';
}

/** Parses a variant, or EVAL_SUITE_INVALID naming `where` and the first problems. */
export function parseVariant(value: unknown, where: string): Variant {
  const parsed = variantSchema.safeParse(value);
  if (!parsed.success) throw invalid(where, parsed.error);
  return parsed.data;
}

/**
 * A variant from a command line: a name in `named` (the suite's variants), inline JSON (`{...}`), a
 * JSON file, or a catalogue team name — then `base` with that team.
 */
export function resolveVariant(
  spec: string,
  named: Readonly<Record<string, Variant>>,
  base: Variant,
  exists: (path: string) => boolean,
): Variant {
  const trimmed = spec.trim();
  if (Object.hasOwn(named, trimmed)) return { name: trimmed, ...(named[trimmed] as Variant) };
  if (trimmed.startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(trimmed);
    } catch (error) {
      throw new BatonError('EVAL_SUITE_INVALID', `The variant ${trimmed.slice(0, 60)} is not valid JSON`, {
        cause: error,
      });
    }
    return parseVariant(json, 'the inline variant');
  }
  if (/\.json$/i.test(trimmed) && exists(trimmed)) {
    return parseVariant(readJsonFile(trimmed), trimmed);
  }
  if (/^[a-z][a-z0-9-]*$/i.test(trimmed)) {
    const { agent: _agent, team: _team, ...rest } = base;
    return parseVariant({ ...rest, name: trimmed, team: trimmed }, `variant "${trimmed}"`);
  }
  throw new BatonError('EVAL_SUITE_INVALID', `Unknown variant "${trimmed}"`, {
    hint: `Use a variant of the suite (${Object.keys(named).join(', ') || 'none defined'}), a team name, a JSON file or inline JSON.`,
  });
}

export function readJsonFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new BatonError('EVAL_SUITE_INVALID', `Cannot read ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new BatonError('EVAL_SUITE_INVALID', `${path} is not valid JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

export function invalid(where: string, error: z.ZodError): BatonError {
  const problems = error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`);
  return new BatonError('EVAL_SUITE_INVALID', `${where} is not valid: ${problems.join('; ')}`, {
    details: { issues: error.issues.slice(0, 20) },
  });
}
