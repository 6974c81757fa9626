import { z } from 'zod';
import { RUN_STATUSES, type RunStatus } from './types.js';

/** Token usage as it is stored and sent. */
export const usageSchema = z.object({
  inputTokens: z.number().nonnegative(),
  outputTokens: z.number().nonnegative(),
  cachedInputTokens: z.number().nonnegative().optional(),
  cacheCreationInputTokens: z.number().nonnegative().optional(),
  reasoningTokens: z.number().nonnegative().optional(),
});

/** A RunResult as it crosses a process boundary (the bus checks its hot path against this schema). */
export const runResultSchema = z.object({
  status: z.enum(RUN_STATUSES as [RunStatus, ...RunStatus[]]),
  output: z.unknown().optional(),
  partial: z.object({
    summary: z.string(),
    text: z.string().optional(),
    toolResults: z.array(z.unknown()),
    missing: z.array(z.string()),
  }),
  error: z.object({ code: z.string(), message: z.string() }).passthrough().optional(),
  steps: z.number().int().nonnegative(),
  usage: usageSchema,
  costUsd: z.number().nonnegative(),
  unpriced: z.object({ steps: z.number().int().nonnegative(), models: z.array(z.string()) }).optional(),
  spent: z
    .object({
      steps: z.number().int().nonnegative(),
      tokens: z.number().nonnegative(),
      costUsd: z.number().nonnegative(),
      unpricedSteps: z.number().int().nonnegative().optional(),
    })
    .optional(),
  durationMs: z.number().nonnegative(),
  runId: z.string(),
  traceId: z.string(),
  spanId: z.string(),
  agent: z.string(),
  bundle: z.string().optional(),
  state: z.unknown().optional(),
});

export const toolCallSchema = z.object({
  id: z.string(),
  name: z.string(),
  arguments: z.unknown(),
  argumentsError: z.string().optional(),
});

export const messageSchema = z.discriminatedUnion('role', [
  z.object({ role: z.literal('system'), content: z.string() }),
  z.object({ role: z.literal('user'), content: z.string() }),
  z.object({
    role: z.literal('assistant'),
    content: z.string(),
    toolCalls: z.array(toolCallSchema).optional(),
    reasoning: z
      .array(
        z.object({
          text: z.string(),
          signature: z.string().optional(),
          redactedData: z.string().optional(),
          provider: z.string().optional(),
        }),
      )
      .optional(),
  }),
  z.object({
    role: z.literal('tool'),
    toolCallId: z.string(),
    toolName: z.string(),
    content: z.string(),
    isError: z.boolean().optional(),
  }),
]);

export const toolFailureSchema = z.object({
  code: z.string(),
  message: z.string(),
  retryable: z.boolean(),
  hint: z.string().optional(),
  details: z.record(z.string(), z.unknown()).optional(),
});

export const decisionSchema = z.discriminatedUnion('decision', [
  z.object({ decision: z.literal('approve') }),
  z.object({ decision: z.literal('deny'), reason: z.string().optional() }),
  z.object({ decision: z.literal('edit'), args: z.unknown() }),
]);
