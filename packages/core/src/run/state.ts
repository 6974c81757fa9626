import { z } from 'zod';
import type { Agent } from '../agent.js';
import type { BudgetDimension } from '../budget.js';
import type { ContextState } from '../context/types.js';
import { BatonError } from '../errors.js';
import type { Message, Usage } from '../model/types.js';
import { emptyUsage } from '../model/usage.js';
import { randomUuid } from '../util/ids.js';
import { decisionSchema, messageSchema, toolCallSchema, toolFailureSchema, usageSchema } from './schemas.js';
import { checkConsistency, signState, verifyState } from './state-seal.js';
import { type CallPreview, RUN_STATE_VERSION, type RunState, type ToolRecord } from './types.js';

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
  /** The id of the RunState this run was resumed from (consumed once). */
  stateId?: string;
  /** The run has read untrusted content (see AgentConfig.untrustedPolicy). */
  tainted?: boolean;
  /** Secrets handed to tools in this run: redacted wherever results are kept or shown. */
  secrets?: Map<string, string>;
  /** Dry run: what write and destructive calls would have done. */
  previews?: CallPreview[];
  /** The context pipeline's memory (where the preamble ends, the running summary). */
  context?: ContextState;
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
    // Everything prepared before the first step (system prompt, history, task) is never compacted.
    context: { preamble: messages.length },
  };
}

export function toRunState(agent: Agent, state: LoopState, key?: string): RunState {
  const snapshot: RunState = {
    v: RUN_STATE_VERSION,
    id: randomUuid(),
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
  if (state.tainted) snapshot.tainted = true;
  if (state.context) snapshot.context = structuredClone(state.context);
  if (key !== undefined) snapshot.signature = signState(snapshot, key);
  return snapshot;
}

/** Validates a state that came from storage or another process and rebuilds the loop state from it. */
export function restoreState(agent: Agent, raw: unknown, key?: string): LoopState {
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
  verifyState(state, key);
  checkConsistency(state);
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
  if (state.id) restored.stateId = state.id;
  if (state.tainted) restored.tainted = true;
  if (state.context) restored.context = state.context as ContextState;
  return restored;
}

export const runStateSchema = z.object({
  v: z.literal(RUN_STATE_VERSION),
  id: z.string().min(1).max(200).optional(),
  signature: z.string().optional(),
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
  tainted: z.boolean().optional(),
  context: z
    .object({
      preamble: z.number().int().nonnegative(),
      summary: z
        .object({
          text: z.string(),
          through: z.number().int().nonnegative(),
          step: z.number().int().nonnegative(),
        })
        .optional(),
    })
    .optional(),
});
