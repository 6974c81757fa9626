import {
  type AnyTool,
  configError,
  isTool,
  RISK_ORDER,
  type ToolContext,
  type ToolRisk,
} from '../tools/define.js';
import type { ToolFailure } from '../tools/result.js';

/** What a failed attempt tells `modifyOnRetry`. */
export interface RetryFailure {
  error: ToolFailure;
  /** 1 for the first modified retry. */
  attempt: number;
}

/** The recovery fields of `defineTool` (beyond `retry`, which repeats the same call on retryable failures). */
export interface ToolRecoveryConfig<I> {
  /**
   * Changes the arguments for another attempt after the tool failed (retries included) — broaden a search
   * that found nothing, drop a filter. Return undefined to stop. At most `modifiedRetries` attempts.
   */
  modifyOnRetry?: (input: I, failure: RetryFailure) => I | undefined;
  /** Attempts with modified arguments; default 2. */
  modifiedRetries?: number;
  /**
   * Used when the tool still fails after its retries and modified retries: a backup tool (another API)
   * called with the same arguments, or a function of them. Recorded on the `execute_tool` span and as a
   * `tool.recovered` event. A backup tool may not be riskier than this one: it runs without asking.
   */
  fallback?: AnyTool | ((input: I, context: ToolContext) => unknown | Promise<unknown>);
}

/** A tool's recovery, as defined. */
export interface ToolRecovery {
  modify?: (input: unknown, failure: RetryFailure) => unknown;
  modifiedRetries: number;
  fallback?: AnyTool;
}

type MakeTool = (config: {
  name: string;
  description: string;
  input: AnyTool['input'];
  risk: ToolRisk;
  timeoutMs: number;
  execute: (input: unknown, context: ToolContext) => unknown;
}) => AnyTool;

/**
 * The recovery of a tool being defined, checked: `{ recovery }` to spread into the tool, or nothing.
 * `make` is defineTool, passed in so this module does not import the one that imports it.
 */
export function recoveryOf(
  config: ToolRecoveryConfig<never> & {
    name: string;
    description: string;
    input: AnyTool['input'];
    timeoutMs?: number;
  },
  risk: ToolRisk,
  where: string,
  make: MakeTool,
): { recovery: ToolRecovery } | Record<string, never> {
  const { modifyOnRetry, modifiedRetries, fallback } = config;
  if (modifyOnRetry === undefined && fallback === undefined) {
    if (modifiedRetries !== undefined)
      throw configError(where, 'modifiedRetries', 'set only with modifyOnRetry');
    return {};
  }
  if (modifyOnRetry !== undefined && typeof modifyOnRetry !== 'function') {
    throw configError(where, 'modifyOnRetry', 'a function (input, failure) => input | undefined');
  }
  const retries = modifiedRetries ?? 2;
  if (!Number.isInteger(retries) || retries < 1 || retries > 5) {
    throw configError(where, 'modifiedRetries', 'an integer from 1 to 5');
  }
  const recovery: ToolRecovery = { modifiedRetries: retries };
  if (modifyOnRetry) recovery.modify = modifyOnRetry as ToolRecovery['modify'];
  if (fallback !== undefined) {
    if (isTool(fallback)) {
      if (RISK_ORDER[fallback.risk] > RISK_ORDER[risk]) {
        throw configError(
          where,
          'fallback',
          `a tool no riskier than this one ("${fallback.name}" is ${fallback.risk}, this is ${risk})`,
        );
      }
      if (fallback.name === config.name) throw configError(where, 'fallback', 'another tool than this one');
      recovery.fallback = fallback;
    } else if (typeof fallback === 'function') {
      recovery.fallback = make({
        name: `${config.name}_fallback`.slice(0, 64),
        description: `Fallback of ${config.name}: ${config.description}`,
        input: config.input,
        risk,
        timeoutMs: config.timeoutMs ?? 30_000,
        execute: fallback as (input: unknown, context: ToolContext) => unknown,
      });
    } else {
      throw configError(where, 'fallback', 'a tool made with defineTool() or a function');
    }
  }
  return { recovery };
}
