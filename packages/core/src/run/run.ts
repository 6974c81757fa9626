import { type Agent, isAgent, registerRunner } from '../agent.js';
import { withCacheCallContext } from '../cache/call-context.js';
import { BatonError } from '../errors.js';
import { RunEvents } from '../events/emitter.js';
import type { RunEvent } from '../events/types.js';
import type { RunJournal } from '../journal/types.js';
import { executeRun } from './loop.js';
import type { LoopState } from './state.js';
import { restoreState } from './state.js';
import { stateKeyOf } from './state-seal.js';
import type { AgentLike, RunOptions, RunResult, RunState } from './types.js';

/**
 * The loop inside the run's cache call context, so a `cachedModel` keys its cache by this run's tenant and
 * reports to this run's events. Every entry point goes through here: `run`, `agent.run`, `resume`.
 */
function executeScoped<I, O>(
  agent: Agent<I, O>,
  input: I,
  options: RunOptions = {},
  resumed?: LoopState,
): Promise<RunResult<O>> {
  return withCacheCallContext(agent.name, options, resumed?.runId, (scoped) =>
    executeRun(agent, input, scoped, resumed),
  );
}

registerRunner(executeScoped);

/**
 * Runs an agent — local, or anything that runs like one (a remote proxy, a team) — to a RunResult.
 * Limits, failures and aborts resolve with a status; only invalid configuration throws.
 */
export function run<I, O>(agent: AgentLike<I, O>, input: I, options?: RunOptions): Promise<RunResult<O>> {
  if (isAgent(agent)) return executeScoped(agent as unknown as Agent<I, O>, input, options);
  if (typeof agent?.run !== 'function') {
    throw new BatonError(
      'CONFIG_INVALID',
      'run(): the first argument must be an agent (defineAgent) or an AgentLike',
    );
  }
  return agent.run(input, options);
}

/** Options of `resume`: a run's options; `decisions` answers the calls the run waits for. */
export type ResumeOptions = RunOptions;

/**
 * Continues a run paused for approval or interrupted by a crash, in this process or another one:
 * - from its journal, by run id (`options.journal`): recorded steps replay, recorded tool calls never run
 *   again, and the run goes on from where its records end;
 * - from a serialized RunState, which is resumed once (a second resume is STATE_CONSUMED), checked for
 *   tampering (signed with `stateKey`/BATON_STATE_KEY) and consistency, and ends `timeout` without
 *   running anything when its time was already spent.
 * Decisions come from `options.decisions`, the journal, `options.approve` or `options.approvals`.
 */
export async function resume<I, O>(
  agent: Agent<I, O>,
  from: RunState | string,
  options: ResumeOptions = {},
): Promise<RunResult<O>> {
  const { decisions, ...runOptions } = options;
  if (typeof from === 'string') {
    if (!runOptions.journal) {
      throw new BatonError('CONFIG_INVALID', 'resume(agent, runId): give the journal to resume from', {
        details: { field: 'journal' },
      });
    }
    await requireJournaled(runOptions.journal, from);
    return executeScoped(agent, undefined as I, { ...options, runId: from });
  }
  const restored: LoopState = restoreState(agent as unknown as Agent, from, stateKeyOf(runOptions.stateKey));
  if (decisions && restored.pending) {
    restored.pending.decided = { ...restored.pending.decided, ...decisions };
  }
  return executeScoped(agent, restored.input as I, runOptions, restored);
}

export interface RunStream<O = unknown> extends AsyncIterable<RunEvent> {
  /** Resolves with the same result `run` would give, whether or not the events were consumed. */
  readonly result: Promise<RunResult<O>>;
}

/**
 * Runs an agent and yields its events as they happen (run start, steps, streamed text, tool calls, limit
 * warnings, ...), ending after the run ends. Events also reach `options.events` if given. Leaving the
 * loop early (`break`, a thrown error) cancels the run: nobody is reading, so nobody should be paying.
 */
export function stream<I, O>(agent: AgentLike<I, O>, input: I, options: RunOptions = {}): RunStream<O> {
  const hub = new RunEvents();
  const queue: RunEvent[] = [];
  let wake: (() => void) | undefined;
  let finished = false;
  const outer = options.events;
  hub.on('*', (event) => {
    outer?.emit(event);
    queue.push(event);
    wake?.();
  });
  const controller = new AbortController();
  const callerSignal = options.signal;
  const onCallerAbort = () => controller.abort(callerSignal?.reason);
  if (callerSignal?.aborted) onCallerAbort();
  else callerSignal?.addEventListener('abort', onCallerAbort, { once: true });
  const result = run(agent, input, { ...options, events: hub, signal: controller.signal }).finally(() => {
    finished = true;
    callerSignal?.removeEventListener('abort', onCallerAbort);
    wake?.();
  });
  // The result is also delivered through the iterator; this keeps an unconsumed rejection from crashing.
  result.catch(() => undefined);

  return {
    result,
    async *[Symbol.asyncIterator]() {
      try {
        for (;;) {
          while (queue.length > 0) yield queue.shift() as RunEvent;
          if (finished) {
            await result;
            return;
          }
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          wake = undefined;
        }
      } finally {
        if (!finished) {
          controller.abort(new BatonError('ABORTED', 'The stream was closed before the run ended'));
        }
      }
    },
  };
}

/** Resuming by id needs a run that was journaled: anything else would start a new run by mistake. */
export async function requireJournaled(journal: RunJournal, runId: string): Promise<void> {
  const entries = await journal.read(runId);
  if (!entries.some((entry) => entry.record.type === 'run.started')) {
    throw new BatonError('RUN_UNKNOWN', `No journaled run "${runId}" to resume`, {
      details: { runId },
      hint: 'Resume with the journal the run was started with',
    });
  }
}
