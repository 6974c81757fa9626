import { AsyncLocalStorage } from 'node:async_hooks';
import type { Budget } from '../budget.js';

/**
 * The run a piece of code executes inside of. A tool that starts another agent — a local run, a team, a
 * remote agent over the bus — finds here the ledger to draw from and the signal that cancels it, so a
 * nested call is charged to its caller and stops when its caller stops, in any process, without the tool
 * passing anything along.
 */
export interface RunScope {
  readonly runId: string;
  readonly agent: string;
  /** The caller run's ledger lease; nested runs draw from it. */
  readonly budget: Budget | undefined;
  /** Aborts when the caller run stops (timeout, abort, kill). */
  readonly signal: AbortSignal;
  readonly userId?: string;
  /** The caller run's tenant: a remote agent called from a tool sends it in the envelope. */
  readonly tenantId?: string;
  readonly sessionId?: string;
}

const storage = new AsyncLocalStorage<RunScope>();

/** The run the current code runs inside of, if any. */
export function currentRunScope(): RunScope | undefined {
  return storage.getStore();
}

/** Calls `work` with `scope` as the current run scope. */
export function runInScope<R>(scope: RunScope, work: () => R): R {
  return storage.run(scope, work);
}

/** The options a run, team or remote call may inherit from the run scope it starts in. */
export interface ScopedOptions {
  budget?: Budget;
  signal?: AbortSignal;
  parentRunId?: string;
  userId?: string;
  tenantId?: string;
  sessionId?: string;
}

/**
 * `options` completed with what a nested run inherits from the run that started it (a tool calling
 * `run()`, a team or a remote agent): the caller's ledger, its cancel signal, its run id as parent, its
 * user and its tenant. Explicit options win; outside any run the options come back as they are.
 */
export function inheritRunScope<T extends ScopedOptions>(options: T): T {
  const scope = storage.getStore();
  if (!scope) return options;
  const merged: T = { ...options };
  if (merged.budget === undefined && scope.budget) merged.budget = scope.budget;
  if (merged.signal === undefined) merged.signal = scope.signal;
  if (merged.parentRunId === undefined) merged.parentRunId = scope.runId;
  if (merged.userId === undefined && scope.userId !== undefined) merged.userId = scope.userId;
  if (merged.tenantId === undefined && scope.tenantId !== undefined) merged.tenantId = scope.tenantId;
  if (merged.sessionId === undefined && scope.sessionId !== undefined) merged.sessionId = scope.sessionId;
  return merged;
}
