import { readFileSync, writeFileSync } from 'node:fs';
import { BatonError } from '@baton/core';
import { z } from 'zod';
import { invalid, readJsonFile, type Variant, variantSchema } from './variant.js';

const base = {
  /** A label for the report (default: the kind and its main parameter). */
  name: z.string().min(1).optional(),
  /** A dotted path into the output (`draft.summary`, `sources.0.id`); default the whole output. */
  path: z.string().min(1).optional(),
};

/** What a case expects of a run. Every check says why it failed. */
export const checkSchema = z.discriminatedUnion('kind', [
  /** The value equals `value` (deep, key order ignored). */
  z.object({ kind: z.literal('exact'), ...base, value: z.unknown() }).strict(),
  /** The text (a string value, else its JSON) matches `pattern`; `negate` inverts it. */
  z
    .object({
      kind: z.literal('regex'),
      ...base,
      pattern: z.string().min(1),
      flags: z
        .string()
        .regex(/^[dgimsuy]*$/)
        .optional(),
      negate: z.boolean().optional(),
    })
    .strict(),
  /** The text contains `text` (case-insensitive unless `caseSensitive`). */
  z
    .object({
      kind: z.literal('contains'),
      ...base,
      text: z.string().min(1),
      caseSensitive: z.boolean().optional(),
    })
    .strict(),
  /** The value is valid for a JSON Schema. */
  z.object({ kind: z.literal('schema'), ...base, schema: z.record(z.string(), z.unknown()) }).strict(),
  /**
   * The report cites its sources: at least `min` distinct citations, every cited id among the report's
   * sources, every section citing one (`everySection`), and the ids in `include` cited.
   */
  z
    .object({
      kind: z.literal('citations'),
      ...base,
      min: z.number().int().nonnegative().optional(),
      include: z.array(z.string().min(1)).optional(),
      everySection: z.boolean().optional(),
    })
    .strict(),
  /** A member called a tool between `min` (default 1) and `max` times, ok (unless `ok: false`), with `args` a subset of its arguments. */
  z
    .object({
      kind: z.literal('tool-called'),
      ...base,
      tool: z.string().min(1),
      agent: z.string().min(1).optional(),
      min: z.number().int().nonnegative().optional(),
      max: z.number().int().nonnegative().optional(),
      ok: z.boolean().optional(),
      args: z.record(z.string(), z.unknown()).optional(),
    })
    .strict(),
  /** A judge model scores the output against a rubric, 0–10; it passes at `minScore` (default 7). */
  z
    .object({
      kind: z.literal('judge'),
      ...base,
      rubric: z.string().min(1),
      minScore: z.number().min(0).max(10).optional(),
      /** The judge's model as BATON_MODEL spells it; default the run's variant model, else the environment's. */
      model: z.string().min(1).optional(),
    })
    .strict(),
  /** The run ended with this status (default every case expects `completed`). */
  z.object({ kind: z.literal('status'), ...base, equals: z.string().min(1) }).strict(),
  /** A figure of the run stays within bounds. */
  z
    .object({
      kind: z.literal('metric'),
      ...base,
      metric: z.enum(['steps', 'tokens', 'costUsd', 'latencyMs', 'rounds']),
      max: z.number().optional(),
      min: z.number().optional(),
    })
    .strict(),
]);

export type Check = z.infer<typeof checkSchema>;
export type CheckKind = Check['kind'];

/** How a case replays a recording: `tools` replays tool results only (the model runs), `full` model responses too. */
export const replaySchema = z
  .object({
    /** A recording file, relative to the suite file. */
    recording: z.string().min(1),
    mode: z.enum(['tools', 'full']).optional(),
  })
  .strict();

export const caseSchema = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'letters, digits, ".", "_" or "-"'),
    name: z.string().min(1).optional(),
    /** The topic (the catalogue builds the team's input from it) ... */
    topic: z.string().min(1).optional(),
    /** ... or the input itself. */
    input: z.unknown().optional(),
    checks: z.array(checkSchema).min(1),
    replay: replaySchema.optional(),
    tags: z.array(z.string().min(1)).optional(),
  })
  .strict()
  .refine((c) => (c.topic === undefined) !== (c.input === undefined), {
    message: 'a case gives exactly one of "topic" or "input"',
  });

export type EvalCase = z.infer<typeof caseSchema>;

export const SUITE_VERSION = 1;

export const suiteSchema = z
  .object({
    v: z.literal(SUITE_VERSION).optional(),
    name: z.string().min(1),
    description: z.string().optional(),
    /** What runs every case, unless the command line names another variant. */
    target: variantSchema,
    /** Named variants, for `baton ab --a <name> --b <name>`. */
    variants: z.record(z.string(), variantSchema).optional(),
    /** Success rate the suite must reach (0–1) for `baton eval` to exit 0. Default 1. */
    threshold: z.number().min(0).max(1).optional(),
    cases: z.array(caseSchema).min(1),
  })
  .strict()
  .superRefine((suite, context) => {
    const seen = new Set<string>();
    for (const [index, c] of suite.cases.entries()) {
      if (seen.has(c.id)) {
        context.addIssue({
          code: 'custom',
          path: ['cases', index, 'id'],
          message: `duplicate case id "${c.id}"`,
        });
      }
      seen.add(c.id);
    }
  });

export type Suite = z.infer<typeof suiteSchema>;

/** Validates a suite defined in code (a typed identity that fails early with EVAL_SUITE_INVALID). */
export function defineSuite(suite: z.input<typeof suiteSchema>): Suite {
  const parsed = suiteSchema.safeParse(suite);
  if (!parsed.success) throw invalid(`Suite "${suite?.name ?? '?'}"`, parsed.error);
  return parsed.data;
}

/** Reads and validates a suite file (JSON). */
export function loadSuite(path: string): Suite {
  if (!/\.json$/i.test(path)) {
    throw new BatonError('EVAL_SUITE_INVALID', `${path}: a suite is a .json file`, {
      hint: 'In code, build one with defineSuite() and pass it to runSuite().',
    });
  }
  const parsed = suiteSchema.safeParse(readJsonFile(path));
  if (!parsed.success) throw invalid(path, parsed.error);
  return parsed.data;
}

/**
 * Appends a case to a suite file, keeping the rest of the file as it was parsed. A case id already in
 * the suite is refused (EVAL_SUITE_INVALID) rather than overwritten.
 */
export function appendCase(path: string, evalCase: EvalCase): Suite {
  const suite = loadSuite(path);
  if (suite.cases.some((c) => c.id === evalCase.id)) {
    throw new BatonError('EVAL_SUITE_INVALID', `${path} already has a case "${evalCase.id}"`, {
      hint: 'Give the new case another id (--id).',
    });
  }
  const raw = JSON.parse(readFileSync(path, 'utf8')) as { cases: unknown[] };
  raw.cases.push(evalCase);
  const next = suiteSchema.safeParse(raw);
  if (!next.success) throw invalid(`${path} with case "${evalCase.id}"`, next.error);
  writeFileSync(path, `${JSON.stringify(raw, null, 2)}\n`);
  return next.data;
}

export type { Variant };
