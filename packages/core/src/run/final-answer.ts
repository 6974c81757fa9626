import { z } from 'zod';
import type { Agent } from '../agent.js';
import { BatonError } from '../errors.js';
import type { JsonSchema } from '../model/types.js';

export type FinalAnswerCheck =
  | { ok: true; output: unknown }
  | { ok: false; error: BatonError; correction: string };

const responseSchemas = new WeakMap<z.ZodType, { name: string; schema: JsonSchema } | null>();

/** The JSON Schema a model is asked to answer with, or undefined for plain-text agents. */
export function responseSchemaFor(agent: Agent): { name: string; schema: JsonSchema } | undefined {
  const output = agent.config.output;
  if (!output) return undefined;
  let cached = responseSchemas.get(output);
  if (cached === undefined) {
    const schema = z.toJSONSchema(output, { io: 'output', unrepresentable: 'any' }) as JsonSchema;
    const { $schema: _ignored, ...rest } = schema;
    // A plain string answer needs no structured output.
    cached =
      rest.type === 'string' ? null : { name: `${agent.name.replace(/-/g, '_')}_output`, schema: rest };
    responseSchemas.set(output, cached);
  }
  return cached ?? undefined;
}

/**
 * Decides whether a final answer may complete the run: required tools must have returned ok results and
 * the answer must match the output schema. Otherwise the model gets a correction to act on — a run never
 * claims a success that did not happen.
 */
export function checkFinalAnswer(agent: Agent, text: string, okTools: ReadonlySet<string>): FinalAnswerCheck {
  const missing = (agent.config.requiredTools ?? []).filter((name) => !okTools.has(name));
  if (missing.length > 0) {
    return {
      ok: false,
      error: new BatonError(
        'REQUIRED_TOOL_MISSING',
        `Required tools were never called successfully: ${missing.join(', ')}`,
        {
          details: { missing },
        },
      ),
      correction: `You have not completed the task: you must call ${missing.map((name) => `"${name}"`).join(' and ')} and get a successful result before giving your final answer.`,
    };
  }
  const schema = agent.config.output;
  if (!schema) {
    if (text.trim() === '') {
      return {
        ok: false,
        error: new BatonError('OUTPUT_INVALID', 'The final answer was empty'),
        correction: 'Your answer was empty. Give your final answer.',
      };
    }
    return { ok: true, output: text };
  }
  const direct = schema.safeParse(text);
  if (direct.success) return { ok: true, output: direct.data };
  const json = extractJson(text);
  const parsed = json.ok ? schema.safeParse(json.value) : direct;
  if (parsed.success) return { ok: true, output: parsed.data };
  const problems = json.ok
    ? parsed.error.issues
        .map((issue) => `- ${issue.path.join('.') || '(answer)'}: ${issue.message}`)
        .join('\n')
    : `- the answer is not JSON (${json.reason})`;
  const expected = responseSchemaFor(agent);
  return {
    ok: false,
    error: new BatonError(
      'OUTPUT_INVALID',
      `The final answer does not match the output schema:\n${problems}`,
      {
        details: { text: text.slice(0, 2_000) },
      },
    ),
    correction: `Your final answer does not match the required format:\n${problems}\nReply with only a JSON value matching this schema: ${JSON.stringify(expected?.schema ?? {})}`,
  };
}

/** Finds the JSON in an answer: the whole text, a fenced block, or the outermost object/array. */
function extractJson(text: string): { ok: true; value: unknown } | { ok: false; reason: string } {
  const candidates: string[] = [text.trim()];
  const fenced = /```(?:json)?\s*([\s\S]*?)```/i.exec(text);
  if (fenced?.[1]) candidates.push(fenced[1].trim());
  for (const [open, close] of [
    ['{', '}'],
    ['[', ']'],
  ] as const) {
    const start = text.indexOf(open);
    const end = text.lastIndexOf(close);
    if (start !== -1 && end > start) candidates.push(text.slice(start, end + 1));
  }
  let reason = 'empty answer';
  for (const candidate of candidates) {
    if (candidate === '') continue;
    try {
      return { ok: true, value: JSON.parse(candidate) };
    } catch (error) {
      reason = (error as Error).message;
    }
  }
  return { ok: false, reason };
}
