import { z } from 'zod';
import { BatonError } from '../errors.js';
import type { Model } from '../model/types.js';

/**
 * Parses a stage's options with its zod schema. Bad options are a programmer's error, thrown at once as
 * CONFIG_INVALID naming the field (`summarize: "keepTurns" must be ...`), never found mid-run.
 */
export function parseSettings<T>(schema: z.ZodType<T>, options: unknown, where: string): T {
  const parsed = schema.safeParse(options ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue && issue.path.length > 0 ? issue.path.join('.') : 'options';
  throw new BatonError('CONFIG_INVALID', `${where}: "${field}" ${issue?.message ?? 'is invalid'}`, {
    details: { field, issues: parsed.error.issues.map((each) => each.message) },
  });
}

export const tokenCount = (what: string) =>
  z
    .number({ error: `must be a number of tokens (${what})` })
    .int('must be a whole number of tokens')
    .positive('must be a positive number of tokens');

export const turnCount = (least: number) =>
  z
    .number({ error: 'must be a number of turns' })
    .int('must be a whole number of turns')
    .min(least, `must be at least ${least}`);

export const toolNames = z.array(z.string().min(1), { error: 'must be a list of tool names' });

/** A Model, checked by shape (models are plain objects with generate and stream). */
export const modelSchema = z.custom<Model>(
  (value) =>
    typeof (value as Partial<Model> | undefined)?.generate === 'function' &&
    typeof (value as Partial<Model> | undefined)?.stream === 'function',
  { error: 'must be a Model (openai(...), anthropic(...), route(...), scriptedModel(...))' },
);
