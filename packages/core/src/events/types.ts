import type { BudgetDimension } from '../budget.js';
import type { GuardStage, GuardVerdict } from '../guards/types.js';
import type { Usage } from '../model/types.js';
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
    });

export type RunEventType = RunEvent['type'];
export type RunEventOf<T extends RunEventType> = Extract<RunEvent, { type: T }>;
