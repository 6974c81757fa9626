import type { BudgetDimension } from '../budget.js';
import type { GuardStage, GuardVerdict } from '../guards/types.js';
import type { MemoryKind } from '../memory/store.js';
import type { Usage } from '../model/types.js';
import type { PlanningEventFields } from '../planning/telemetry.js';
import type { ApprovalDecision, RunResult } from '../run/types.js';
import type { ToolResult } from '../tools/result.js';

interface Base {
  runId: string;
  agent: string;
  /** Milliseconds since the epoch. */
  at: number;
}

export type RunEvent =
  | (Base & { type: 'run.start'; input: unknown; traceId: string; parentRunId?: string })
  | (Base & { type: 'run.end'; result: RunResult })
  | (Base & { type: 'step.start'; step: number })
  | (Base & { type: 'step.end'; step: number; usage?: Usage; costUsd?: number; toolCalls: number })
  | (Base & { type: 'model.delta'; step: number; kind: 'text' | 'reasoning'; text: string })
  | (Base & {
      type: 'tool.start';
      step: number;
      toolCallId: string;
      tool: string;
      args: unknown;
      label?: string;
    })
  | (Base & {
      type: 'tool.end';
      step: number;
      toolCallId: string;
      tool: string;
      result: ToolResult;
      durationMs: number;
      label?: string;
    })
  | (Base & { type: 'limit.warning'; limit: BudgetDimension; used: number; max: number })
  | (Base & { type: 'approval.requested'; toolCallId: string; tool: string; args: unknown })
  | (Base & {
      type: 'approval.resolved';
      toolCallId: string;
      tool: string;
      decision: ApprovalDecision['decision'];
    })
  | (Base & {
      type: 'guard.checked';
      stage: GuardStage;
      guard: string;
      action: GuardVerdict['action'];
      /** Kinds of what it found (`email`, `injection`, ...), never the text itself. */
      findings: string[];
      reason?: string;
      tool?: string;
    })
  | (Base & {
      type: 'memory.compacted';
      step: number;
      strategy: string;
      beforeTokens: number;
      afterTokens: number;
    })
  | (Base & CacheEventFields & { type: 'cache.hit' })
  | (Base & CacheEventFields & { type: 'cache.miss' })
  /** Plans, their validation and re-plans; reflection; grounding; tool recovery (planning/telemetry.ts). */
  | (Base & PlanningEventFields)
  | (Base & {
      /** Long-term memories reached the model: put into its context at the start, or by `recall_memory`. */
      type: 'memory.recalled';
      via: 'context' | 'tool';
      count: number;
      /** How many were untrusted (and reached the model wrapped as data). */
      untrusted: number;
      /** Tokens the memories took in the context (`via: 'context'`). */
      tokens?: number;
      kinds: MemoryKind[];
    })
  | (Base & {
      /** A long-term memory was written (after the run's memoryWrite guards). */
      type: 'memory.saved';
      via: 'tool' | 'episode' | 'summary';
      key: string;
      kind: MemoryKind;
      version: number;
      /** A memoryWrite guard rewrote the content (e.g. redacted PII) before it was stored. */
      rewritten: boolean;
    })
  | (Base & {
      /** A memory operation of the run failed or was refused; the run itself goes on. */
      type: 'memory.failed';
      operation: 'recall' | 'save' | 'summary';
      code: string;
      message: string;
    });

/**
 * A cache lookup of a tool call or a model call (`cachedModel`). `key` is the hash part of the cache key:
 * it tells repeats apart without carrying arguments, prompts or ids.
 */
interface CacheEventFields {
  kind: 'tool' | 'model';
  step: number;
  key: string;
  /** Tokens a hit did not spend (the cached response's usage); 0 for tool calls and misses. */
  savedTokens: number;
  /** What a model hit did not cost, when its price is known. */
  savedUsd?: number;
  /** How long the tool call whose result was served took. */
  savedMs?: number;
  tool?: string;
  toolCallId?: string;
  model?: string;
}

export type RunEventType = RunEvent['type'];
export type RunEventOf<T extends RunEventType> = Extract<RunEvent, { type: T }>;
