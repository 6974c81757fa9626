import { z } from 'zod';

/** The Messages API as we read it: checked where we rely on it, open to fields we do not know. */

const optionalText = z
  .unknown()
  .transform((value) => (typeof value === 'string' ? value : undefined))
  .optional();
const count = z.number().nullish().catch(undefined);

export const usageSchema = z.looseObject({
  input_tokens: count,
  output_tokens: count,
  cache_read_input_tokens: count,
  cache_creation_input_tokens: count,
  output_tokens_details: z.looseObject({ thinking_tokens: count }).nullish().catch(undefined),
});

export const blockSchema = z.looseObject({
  type: z.string(),
  text: optionalText,
  thinking: optionalText,
  signature: optionalText,
  data: optionalText,
  id: optionalText,
  name: optionalText,
  input: z.unknown().optional(),
});

export const messageSchema = z.looseObject({
  id: z.string().nullish(),
  model: z.string().nullish(),
  content: z.array(blockSchema),
  stop_reason: z.string().nullish(),
  usage: usageSchema.nullish(),
});

export const streamEventSchema = z.discriminatedUnion('type', [
  z.looseObject({
    type: z.literal('message_start'),
    message: z.looseObject({
      id: z.string().nullish(),
      model: z.string().nullish(),
      usage: usageSchema.nullish(),
    }),
  }),
  z.looseObject({
    type: z.literal('content_block_start'),
    index: z.number().int(),
    content_block: blockSchema,
  }),
  z.looseObject({
    type: z.literal('content_block_delta'),
    index: z.number().int(),
    delta: z.looseObject({
      type: z.string(),
      text: optionalText,
      thinking: optionalText,
      signature: optionalText,
      partial_json: optionalText,
    }),
  }),
  z.looseObject({ type: z.literal('content_block_stop'), index: z.number().int() }),
  z.looseObject({
    type: z.literal('message_delta'),
    delta: z.looseObject({ stop_reason: z.string().nullish() }),
    usage: usageSchema.nullish(),
  }),
  z.looseObject({ type: z.literal('message_stop') }),
  z.looseObject({ type: z.literal('ping') }),
]);

export type WireUsage = z.infer<typeof usageSchema>;
export type WireBlock = z.infer<typeof blockSchema>;
export type WireStreamEvent = z.infer<typeof streamEventSchema>;
