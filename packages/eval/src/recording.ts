import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { type ModelRequest, type ModelResponse, recordedResponseSchema } from '@baton/core';
import { z } from 'zod';
import { invalid, readJsonFile } from './variant.js';

export const RECORDING_VERSION = 1;

const toolFailureSchema = z.object({
  code: z.string(),
  message: z.string(),
  retryable: z.boolean(),
  hint: z.string().optional(),
  details: z.record(z.string(), z.unknown()).optional(),
});

/** One model call: a fingerprint of what was asked (absent when rebuilt from a journal) and the answer. */
export const recordedModelCallSchema = z.object({
  request: z.string().optional(),
  response: recordedResponseSchema,
});

/** One tool execution: the arguments it ran with and what it returned or the failure it reported. */
export const recordedToolCallSchema = z.object({
  tool: z.string(),
  args: z.unknown(),
  ok: z.boolean(),
  data: z.unknown().optional(),
  error: toolFailureSchema.optional(),
});

export const recordingSchema = z.object({
  v: z.literal(RECORDING_VERSION),
  kind: z.literal('baton.recording'),
  /** The run id of the recorded run. */
  id: z.string().min(1),
  /** Where it came from: a recorder around a live run, or a run journal. */
  source: z.enum(['recorder', 'journal']),
  team: z.string().optional(),
  agent: z.string().optional(),
  input: z.unknown(),
  recordedAt: z.string(),
  /** Per member (agent name): its model calls and tool executions, in the order they happened. */
  members: z.record(
    z.string(),
    z.object({ model: z.array(recordedModelCallSchema), tools: z.array(recordedToolCallSchema) }),
  ),
  /** What the recorded run ended with. */
  result: z
    .object({
      status: z.string(),
      output: z.unknown().optional(),
      steps: z.number().int().nonnegative().optional(),
    })
    .optional(),
});

export type Recording = z.infer<typeof recordingSchema>;
export type RecordedModelCall = z.infer<typeof recordedModelCallSchema>;
export type RecordedToolCall = z.infer<typeof recordedToolCallSchema>;

export function loadRecording(path: string): Recording {
  const parsed = recordingSchema.safeParse(readJsonFile(path));
  if (!parsed.success) throw invalid(`Recording ${path}`, parsed.error);
  return parsed.data;
}

export function saveRecording(path: string, recording: Recording): void {
  writeFileSync(path, `${JSON.stringify(recording, null, 2)}\n`);
}

/** JSON with object keys sorted, so equal values give equal text whatever their key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value !== 'object' || value === null) return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const item = (value as Record<string, unknown>)[key];
    if (item !== undefined) sorted[key] = sortKeys(item);
  }
  return sorted;
}

/**
 * What identifies a model request: messages, tools, tool choice, response schema and sampling settings.
 * The abort signal and the step role are not part of it (they do not change what the model is asked).
 */
export function requestFingerprint(request: ModelRequest): string {
  const { signal: _signal, role: _role, ...asked } = request;
  return createHash('sha256').update(canonicalJson(asked)).digest('hex').slice(0, 32);
}

/** A response as a recording keeps it (the journal's RecordedResponse shape). */
export function recordResponse(response: ModelResponse): RecordedModelCall['response'] {
  return recordedResponseSchema.parse({
    text: response.text,
    toolCalls: response.toolCalls,
    model: response.model,
    provider: response.provider,
    finishReason: response.finishReason,
    ...(response.finishReasonRaw !== undefined ? { finishReasonRaw: response.finishReasonRaw } : {}),
    ...(response.usage !== undefined ? { usage: response.usage } : {}),
    ...(response.costUsd !== undefined ? { costUsd: response.costUsd } : {}),
    ...(response.reasoningParts !== undefined ? { reasoning: response.reasoningParts } : {}),
  });
}

/** The recorded response as a ModelResponse again. */
export function responseOf(recorded: RecordedModelCall['response']): ModelResponse {
  const response: ModelResponse = {
    model: recorded.model,
    provider: recorded.provider ?? 'replay',
    text: recorded.text,
    toolCalls: recorded.toolCalls.map((call) => ({
      id: call.id,
      name: call.name,
      arguments: call.arguments,
      ...(call.argumentsError !== undefined ? { argumentsError: call.argumentsError } : {}),
    })),
    finishReason: recorded.finishReason as ModelResponse['finishReason'],
  };
  if (recorded.finishReasonRaw !== undefined) response.finishReasonRaw = recorded.finishReasonRaw;
  if (recorded.usage !== undefined) response.usage = recorded.usage;
  if (recorded.costUsd !== undefined) response.costUsd = recorded.costUsd;
  if (recorded.reasoning !== undefined) response.reasoningParts = recorded.reasoning;
  return response;
}
