import { AsyncLocalStorage } from 'node:async_hooks';
import type { RunEventSink } from '../events/emitter.js';
import type { Guard } from '../guards/types.js';

/**
 * What the memory tools learn from the run they are called in. A tool is handed only its ToolContext,
 * yet every memory write must pass the run's `memoryWrite` guards (a PII guard redacts before storage)
 * and report to the run's events: the run puts this scope around its loop, and the tools read it.
 */
export interface MemoryRunScope {
  readonly runId: string;
  /** The run's and its team's `memoryWrite` guards, in the order they run. */
  readonly guards: readonly Guard[];
  readonly events: RunEventSink | undefined;
  /** The run was told to use no memory (`RunOptions.memory.optOut`): tools refuse to write. */
  readonly optedOut: boolean;
}

const storage = new AsyncLocalStorage<MemoryRunScope>();

/** The scope of the run `runId`, when code runs inside it (a nested run's tools never see their caller's). */
export function memoryScopeOf(runId: string): MemoryRunScope | undefined {
  const scope = storage.getStore();
  return scope?.runId === runId ? scope : undefined;
}

export function runInMemoryScope<R>(scope: MemoryRunScope, work: () => R): R {
  return storage.run(scope, work);
}
