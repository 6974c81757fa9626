import { z } from 'zod';
import type { Agent } from '../agent.js';
import type { BudgetDimension } from '../budget.js';
import { BatonError } from '../errors.js';
import type { Message, Usage } from '../model/types.js';
import { emptyUsage } from '../model/usage.js';
import { usageSchema } from './schemas.js';
import { RUN_STATE_VERSION, type RunState, type ToolRecord } from './types.js';

/** The mutable state of one run while it executes; `toRunState` turns it into the plain, versioned form. */
export interface LoopState {
  runId: string;
  traceId: string;
  input: unknown;
  messages: Message[];
  step: number;
  usage: Usage;
  costUsd: number;
  elapsedBeforeMs: number;
  startedAt: number;
  toolRecords: ToolRecord[];
  /** Created on first use: most runs never need them, and thousands of runs may be in flight. */
  actionCounts: Record<string, number> | undefined;
  /** Digests of distinct ok results; an array, as a run sees a few dozen at most. */
  seen: string[] | undefined;
  stepsWithoutProgress: number;
  toolCallCounts: Record<string, number>;
  outputRetries: number;
  warned: BudgetDimension[] | undefined;
  lastText: string | undefined;
  pending: RunState['pending'];
  /** Steps whose cost is unknown, and the models they used. */
  unpricedSteps?: number;
  unpricedModels?: string[];
  /** Per canonical action: retries allowed after a retryable failure, and whether the last try failed so. */
  retries?: Record<string, number>;
  retryable?: string[];
}

/** Tools that returned at least one ok result (what required tools are checked against). */
export function okToolNames(state: LoopState): Set<string> {
  return new Set(state.toolRecords.filter((record) => record.ok).map((record) => record.tool));
}

export function freshState(runId: string, traceId: string, input: unknown, messages: Message[]): LoopState {
  return {
    runId,
    traceId,
    input,
    messages,
    step: 0,
    usage: emptyUsage(),
    costUsd: 0,
    elapsedBeforeMs: 0,
    startedAt: Date.now(),
    toolRecords: [],
    actionCounts: undefined,
    seen: undefined,
    stepsWithoutProgress: 0,
    toolCallCounts: {},
    outputRetries: 0,
    warned: undefined,
    lastText: undefined,
    pending: undefined,
  };
}

export function toRunState(agent: Agent, state: LoopState): RunState {
  const snapshot: RunState = {
    v: RUN_STATE_VERSION,
    runId: state.runId,
    traceId: state.traceId,
    agent: agent.name,
    input: state.input,
    messages: structuredClone(state.messages),
    step: state.step,
    usage: { ...state.usage },
    costUsd: state.costUsd,
    elapsedMs: state.elapsedBeforeMs + (Date.now() - state.startedAt),
    toolRecords: structuredClone(state.toolRecords),
    actionCounts: { ...state.actionCounts },
    seen: [...(state.seen ?? [])],
    stepsWithoutProgress: state.stepsWithoutProgress,
    toolCallCounts: { ...state.toolCallCounts },
    outputRetries: state.outputRetries,
  };
  if (state.pending) snapshot.pending = structuredClone(state.pending);
  if (state.unpricedSteps) {
    snapshot.unpricedSteps = state.unpricedSteps;
    snapshot.unpricedModels = [...(state.unpricedModels ?? [])];
  }
  if (state.retries) snapshot.retries = { ...state.retries };
  if (state.retryable?.length) snapshot.retryable = [...state.retryable];
  return snapshot;
}

/** Validates a state that came from storage or another process and rebuilds the loop state from it. */
export function restoreState(agent: Agent, raw: unknown): LoopState {
  const parsed = runStateSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((issue) => `${issue.path.join('.')}: ${issue.message}`)
      .join('; ');
    throw new BatonError('STATE_INVALID', `Cannot resume: the run state is invalid (${problems})`);
  }
  const state = parsed.data as RunState;
  if (state.agent !== agent.name) {
    throw new BatonError(
      'STATE_INVALID',
      `Cannot resume: the state belongs to agent "${state.agent}", not "${agent.name}"`,
    );
  }
  const restored: LoopState = {
    runId: state.runId,
    traceId: state.traceId,
    input: state.input,
    messages: state.messages,
    step: state.step,
    usage: state.usage,
    costUsd: state.costUsd,
    elapsedBeforeMs: state.elapsedMs,
    startedAt: Date.now(),
    toolRecords: state.toolRecords,
    actionCounts: state.actionCounts,
    seen: state.seen,
    stepsWithoutProgress: state.stepsWithoutProgress,
    toolCallCounts: state.toolCallCounts,
    outputRetries: state.outputRetries,
    warned: undefined,
    lastText: undefined,
    pending: state.pending,
  };
  if (state.unpricedSteps) {
    restored.unpricedSteps = state.unpricedSteps;
    restored.unpricedModels = state.unpricedModels ?? [];
  }
  if (state.retries) restored.retries = state.retries;
  if (state.retryable) restored.retryable = state.retryable;
  return restored;
}

const toolCallSchema = z.object({
  id: z.string(),
  name: z.string(),
  arguments: z.unknown(),
  argumentsError: z.string().optional(),
});

const messageSchema = z.discriminatedUnion('role', [
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

const toolFailureSchema = z.object({
  code: z.string(),
  message: z.string(),
  retryable: z.boolean(),
  hint: z.string().optional(),
  details: z.record(z.string(), z.unknown()).optional(),
});

const decisionSchema = z.discriminatedUnion('decision', [
  z.object({ decision: z.literal('approve') }),
  z.object({ decision: z.literal('deny'), reason: z.string().optional() }),
  z.object({ decision: z.literal('edit'), args: z.unknown() }),
]);

export const runStateSchema = z.object({
  v: z.literal(RUN_STATE_VERSION),
  runId: z.string().min(1),
  traceId: z.string(),
  agent: z.string(),
  input: z.unknown(),
  messages: z.array(messageSchema),
  step: z.number().int().nonnegative(),
  usage: usageSchema,
  costUsd: z.number().nonnegative(),
  elapsedMs: z.number().nonnegative(),
  toolRecords: z.array(
    z.object({
      step: z.number().int(),
      toolCallId: z.string(),
      tool: z.string(),
      args: z.unknown(),
      ok: z.boolean(),
      data: z.unknown().optional(),
      error: toolFailureSchema.optional(),
      durationMs: z.number().nonnegative(),
    }),
  ),
  actionCounts: z.record(z.string(), z.number().int().nonnegative()),
  seen: z.array(z.string()),
  stepsWithoutProgress: z.number().int().nonnegative(),
  toolCallCounts: z.record(z.string(), z.number().int().nonnegative()),
  outputRetries: z.number().int().nonnegative(),
  pending: z
    .object({
      toolCalls: z.array(toolCallSchema),
      awaiting: z.array(z.string()),
      decided: z.record(z.string(), decisionSchema),
    })
    .optional(),
  unpricedSteps: z.number().int().nonnegative().optional(),
  unpricedModels: z.array(z.string()).optional(),
  retries: z.record(z.string(), z.number().int().nonnegative()).optional(),
  retryable: z.array(z.string()).optional(),
});
