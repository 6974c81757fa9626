import { AsyncLocalStorage } from 'node:async_hooks';
import type { RunEventSink } from '../events/emitter.js';
import type { RunEvent } from '../events/types.js';
import { currentRunScope } from '../run/scope.js';
import type { RunCacheOptions } from './types.js';

/**
 * The run a model call is made for, as a cached model sees it. A `Model` is given only its request, yet
 * its cache must be scoped by the run's tenant and report hits in the run's events: the run's entry
 * point puts this context around the loop, and the model reads it.
 */
export interface CacheCallContext {
  readonly agent: string;
  readonly tenantId: string | undefined;
  readonly userId: string | undefined;
  readonly cache: RunCacheOptions | undefined;
  readonly events: RunEventSink | undefined;
  /** Learnt from the run's first event when the run id is minted inside the loop. */
  runId: string | undefined;
  /** The step in progress, from the loop's `step.start` events. */
  step: number;
}

interface ContextOptions {
  tenantId?: string | undefined;
  userId?: string | undefined;
  cache?: RunCacheOptions | undefined;
  events?: RunEventSink | undefined;
  runId?: string | undefined;
}

const storage = new AsyncLocalStorage<CacheCallContext>();
/** How many cached models exist: until the first, a run pays nothing for this context. */
let cachedModels = 0;

export function noteCachedModel(): void {
  cachedModels++;
}

export function cacheCallContext(): CacheCallContext | undefined {
  return cachedModels === 0 ? undefined : storage.getStore();
}

/**
 * Runs one run's loop (`work`) inside its cache call context. When the run has an event sink, the sink
 * is wrapped so the context learns the run id and step from the loop's own events: the loop mints the id
 * itself, and `run.start` and `step.start` come before any model call of theirs.
 */
export function withCacheCallContext<O extends ContextOptions, R>(
  agent: string,
  options: O,
  resumedRunId: string | undefined,
  work: (options: O) => R,
): R {
  if (cachedModels === 0) return work(options);
  const scope = currentRunScope();
  const context: CacheCallContext = {
    agent,
    tenantId: options.tenantId ?? scope?.tenantId,
    userId: options.userId ?? scope?.userId,
    cache: options.cache,
    events: options.events,
    runId: resumedRunId ?? options.runId,
    step: 0,
  };
  const given = options.events;
  const observed = given ? { ...options, events: observing(given, context) } : options;
  return storage.run(context, () => work(observed));
}

function observing(sink: RunEventSink, context: CacheCallContext): RunEventSink {
  return {
    listens: (type) => type === 'run.start' || type === 'step.start' || sink.listens(type),
    emit: (event: RunEvent) => {
      if (event.type === 'run.start') context.runId ??= event.runId;
      else if (event.type === 'step.start' && event.runId === context.runId) context.step = event.step;
      if (sink.listens(event.type)) sink.emit(event);
    },
  };
}
