/**
 * The loop's long-term memory, in three calls: `runMemoryOf` reads the configuration before the run
 * starts, `recallIntoContext` puts relevant memories into the system prompt, `rememberRun` saves the
 * episode and the session recap once the run is over. Memory helps a run but never decides it: a store
 * that is down or slow costs the run its memories (a `memory.failed` event), never its result.
 */
import type { Span } from '@opentelemetry/api';
import type { Agent } from '../agent.js';
import type { Budget } from '../budget.js';
import { BatonError } from '../errors.js';
import type { RunEventSink } from '../events/emitter.js';
import { guardsFor } from '../guards/run.js';
import type { Guard } from '../guards/types.js';
import { recallForTask } from '../memory/context.js';
import { deterministicRecap, episodeText, modelRecap, type RunOutline } from '../memory/episodes.js';
import { type ResolvedRunMemory, resolveRunMemory } from '../memory/run-options.js';
import { runInMemoryScope } from '../memory/scope.js';
import type { MemoryProvenance } from '../memory/store.js';
import { isMemoryTool } from '../memory/tools.js';
import { guardedPut } from '../memory/write.js';
import { costOf } from '../model/pricing.js';
import { addUsage } from '../model/usage.js';
import { BatonAttr } from '../tracing/attributes.js';
import { raceAbort } from '../util/abort.js';
import { timerDelay } from '../util/timers.js';
import type { LoopState } from './state.js';
import type { RunOptions, RunResult } from './types.js';

export interface RunMemory {
  /** Undefined when the run has memoryWrite guards (for its memory tools) but no memory of its own. */
  config: ResolvedRunMemory | undefined;
  guards: readonly Guard[];
}

const withMemoryTools = new WeakMap<Agent, boolean>();

function hasMemoryTools(agent: Agent): boolean {
  let has = withMemoryTools.get(agent);
  if (has === undefined) {
    has = [...agent.tools.values()].some(isMemoryTool);
    withMemoryTools.set(agent, has);
  }
  return has;
}

/**
 * The run's memory, or undefined when it has no store, no memory tools and no memoryWrite guard (the
 * common case, at no cost).
 */
export function runMemoryOf(agent: Agent, options: RunOptions): RunMemory | undefined {
  const guards = guardsFor('memoryWrite', options.guardrails, agent.config.guardrails);
  if (options.memory === undefined && guards.length === 0 && !hasMemoryTools(agent)) return undefined;
  const run: { tenantId?: string; userId?: string } = {};
  if (options.tenantId !== undefined) run.tenantId = options.tenantId;
  if (options.userId !== undefined) run.userId = options.userId;
  return { config: options.memory === undefined ? undefined : resolveRunMemory(options.memory, run), guards };
}

/** Calls the loop inside the memory scope the memory tools read (guards, events, opt-out). */
export function memoryScope(
  memory: RunMemory | undefined,
  runId: string,
  events: RunEventSink | undefined,
): <A extends unknown[], R>(work: (...args: A) => R, ...args: A) => R {
  if (!memory) return (work, ...args) => work(...args);
  const scope = { runId, guards: memory.guards, events, optedOut: memory.config?.optOut ?? false };
  return (work, ...args) => runInMemoryScope(scope, () => work(...args));
}

function failed(
  events: RunEventSink | undefined,
  state: LoopState,
  agent: string,
  operation: 'recall' | 'save' | 'summary',
  error: unknown,
): void {
  if (!events?.listens('memory.failed')) return;
  const wrapped = BatonError.wrap(error);
  events.emit({
    type: 'memory.failed',
    runId: state.runId,
    agent,
    at: Date.now(),
    operation,
    code: wrapped.code,
    message: wrapped.message,
  });
}

const taskOf = (input: unknown) => (typeof input === 'string' ? input : (JSON.stringify(input) ?? ''));

/**
 * Appends what fits the budget to the system prompt. Untrusted memories make the run count as having
 * read untrusted content, exactly like a read tool's result.
 */
export async function recallIntoContext(
  memory: RunMemory,
  agent: string,
  state: LoopState,
  options: RunOptions,
  span: Span,
): Promise<void> {
  const config = memory.config;
  if (!config?.inject || config.optOut) return;
  const events = options.events;
  const signal = AbortSignal.timeout(timerDelay(config.timeoutMs));
  try {
    const task = taskOf(state.input);
    const embedding = config.embedder ? (await config.embedder.embed([task], { signal }))[0] : undefined;
    const recalled = await raceAbort(
      recallForTask(config.store, config.namespace, task, config.inject, embedding),
      signal,
    );
    if (span.isRecording()) {
      span.setAttributes({
        [BatonAttr.MEMORY_BACKEND]: config.store.backend,
        [BatonAttr.MEMORY_RECALLED]: recalled.records.length,
        [BatonAttr.MEMORY_RECALLED_TOKENS]: recalled.tokens,
        [BatonAttr.MEMORY_UNTRUSTED]: recalled.untrusted,
      });
    }
    if (recalled.records.length === 0) return;
    const system = state.messages[0];
    if (system?.role === 'system') system.content = `${system.content}\n\n${recalled.text}`;
    else state.messages.unshift({ role: 'system', content: recalled.text });
    if (recalled.untrusted > 0) state.tainted = true;
    if (events?.listens('memory.recalled')) {
      events.emit({
        type: 'memory.recalled',
        runId: state.runId,
        agent,
        at: Date.now(),
        via: 'context',
        count: recalled.records.length,
        untrusted: recalled.untrusted,
        tokens: recalled.tokens,
        kinds: recalled.records.map((record) => record.kind),
      });
    }
  } catch (error) {
    failed(events, state, agent, 'recall', error);
  }
}

function outlineOf(state: LoopState, result: RunResult): RunOutline {
  const answer =
    result.status === 'completed' && result.output !== undefined
      ? taskOf(result.output)
      : (result.partial.text ?? undefined);
  const outline: RunOutline = {
    task: taskOf(state.input),
    status: result.status,
    calls: state.toolRecords.map((record) =>
      record.error
        ? { tool: record.tool, ok: false, error: { code: record.error.code, message: record.error.message } }
        : { tool: record.tool, ok: record.ok },
    ),
  };
  if (answer) outline.answer = answer;
  if (result.error) outline.error = { code: result.error.code, message: result.error.message };
  return outline;
}

/**
 * Saves the episode and the session recap of a finished run, through the memoryWrite guards. A paused
 * or aborted run saves nothing (it is not over, or nobody wants it to go on). The recap's model call, if
 * any, is added to the run's usage, cost and ledger.
 */
export async function rememberRun(
  memory: RunMemory,
  agent: string,
  state: LoopState,
  result: RunResult,
  options: RunOptions,
  lease: Budget | undefined,
  span: Span,
): Promise<void> {
  const config = memory.config;
  if (!config || config.optOut || (!config.episodes && !config.summary)) return;
  if (result.status === 'awaiting_approval' || result.status === 'aborted') return;
  const { store, namespace } = config;
  const events = options.events;
  const signal = AbortSignal.timeout(timerDelay(config.timeoutMs));
  const provenance = (source: string): MemoryProvenance => ({
    source,
    trusted: false,
    runId: state.runId,
    agent,
    ...(options.sessionId === undefined ? {} : { sessionId: options.sessionId }),
  });
  const embed = async (text: string) =>
    config.embedder ? (await config.embedder.embed([text], { signal }))[0] : undefined;
  const write = (via: 'episode' | 'summary', key: string, value: string) =>
    raceAbort(
      guardedPut({
        store,
        namespace,
        key,
        value,
        options: {
          kind: via,
          provenance: provenance(via),
          metadata: { agent, status: result.status },
          ...(config.ttlMs === undefined ? {} : { ttlMs: config.ttlMs }),
        },
        guards: memory.guards,
        runId: state.runId,
        agent,
        signal,
        events,
        via,
        embed,
      }),
      signal,
    );
  let saved = 0;
  try {
    if (
      namespace.user !== undefined &&
      (await store.isOptedOut({ tenant: namespace.tenant, user: namespace.user }))
    )
      return;
  } catch (error) {
    failed(events, state, agent, 'save', error);
    return;
  }
  const outline = outlineOf(state, result);
  if (config.episodes) {
    try {
      await write('episode', `episode:${state.runId}`, episodeText(outline));
      saved++;
    } catch (error) {
      failed(events, state, agent, 'save', error);
    }
  }
  if (config.summary) {
    try {
      const key = `summary:${options.sessionId ?? state.runId}`;
      const previous = (await raceAbort(store.get(namespace, key), signal))?.value;
      let text = deterministicRecap(outline, previous);
      if (config.summary.model) {
        const recap = await modelRecap(config.summary.model, state.messages, previous, {
          maxInputTokens: config.summary.maxInputTokens,
          maxOutputTokens: config.summary.maxOutputTokens,
          signal,
        });
        chargeRecap(result, lease, recap);
        if (recap.text) text = recap.text;
      }
      await write('summary', key, text);
      saved++;
    } catch (error) {
      failed(events, state, agent, 'summary', error);
    }
  }
  if (span.isRecording()) span.setAttribute(BatonAttr.MEMORY_SAVED, saved);
}

/** The recap's call is the run's spending too: on its usage, its cost (or unpriced) and its ledger. */
function chargeRecap(
  result: RunResult,
  lease: Budget | undefined,
  recap: { usage?: RunResult['usage']; model: string; costUsd?: number },
): void {
  const cost = recap.costUsd ?? costOf(recap.model, recap.usage);
  addUsage(result.usage, recap.usage);
  if (cost !== undefined) result.costUsd += cost;
  else {
    const models = result.unpriced?.models ?? [];
    result.unpriced = {
      steps: (result.unpriced?.steps ?? 0) + 1,
      models: models.includes(recap.model) ? models : [...models, recap.model],
    };
  }
  if (lease) {
    const charge: Parameters<Budget['charge']>[0] = {};
    if (recap.usage) charge.usage = recap.usage;
    if (cost === undefined) charge.unpricedSteps = 1;
    else charge.costUsd = cost;
    lease.charge(charge);
  }
}
