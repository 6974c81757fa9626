import { z } from 'zod';

/**
 * What an OpenAI-compatible server sends, validated loosely: the fields we read are checked, anything
 * else passes through. Extension fields (`reasoning_content`, `reasoning`, Mistral `thinking` parts)
 * are read when they have the expected type and ignored otherwise, so a quirky server degrades
 * gracefully instead of failing the call.
 */

const optionalText = z
  .unknown()
  .transform((value) => (typeof value === 'string' ? value : undefined))
  .optional();

const thinkingSchema = z
  .union([z.string(), z.array(z.looseObject({ text: optionalText }))])
  .nullish()
  .catch(undefined);

export const contentPartSchema = z.looseObject({
  type: z.string().optional(),
  text: optionalText,
  thinking: thinkingSchema,
});

const contentSchema = z.union([z.string(), z.array(contentPartSchema)]).nullish();

const functionSchema = z.looseObject({
  name: z.string().nullish(),
  /** Some servers send an object rather than JSON text. */
  arguments: z.union([z.string(), z.record(z.string(), z.unknown())]).nullish(),
});

export const toolCallSchema = z.looseObject({
  index: z.number().int().nonnegative().nullish(),
  id: z.string().nullish(),
  type: z.string().nullish(),
  function: functionSchema.nullish(),
});

export const usageSchema = z.looseObject({
  prompt_tokens: z.number().nullish(),
  completion_tokens: z.number().nullish(),
  total_tokens: z.number().nullish(),
  prompt_tokens_details: z.looseObject({ cached_tokens: z.number().nullish() }).nullish().catch(undefined),
  completion_tokens_details: z
    .looseObject({ reasoning_tokens: z.number().nullish() })
    .nullish()
    .catch(undefined),
});

const messageFields = {
  content: contentSchema,
  reasoning_content: optionalText,
  reasoning: optionalText,
  refusal: z.string().nullish(),
  tool_calls: z.array(toolCallSchema).nullish(),
};

export const chunkSchema = z.looseObject({
  id: z.string().nullish(),
  model: z.string().nullish(),
  choices: z
    .array(
      z.looseObject({
        index: z.number().nullish(),
        delta: z.looseObject(messageFields).nullish(),
        finish_reason: z.string().nullish(),
      }),
    )
    .nullish(),
  usage: usageSchema.nullish(),
});

export const completionSchema = z.looseObject({
  id: z.string().nullish(),
  model: z.string().nullish(),
  choices: z.array(
    z.looseObject({
      index: z.number().nullish(),
      message: z.looseObject(messageFields),
      finish_reason: z.string().nullish(),
    }),
  ),
  usage: usageSchema.nullish(),
});

export type WireChunk = z.infer<typeof chunkSchema>;
export type WireCompletion = z.infer<typeof completionSchema>;
export type WireToolCall = z.infer<typeof toolCallSchema>;
export type WireUsage = z.infer<typeof usageSchema>;
export type WireContentPart = z.infer<typeof contentPartSchema>;
