import { type Agent, isAgent, registerRunner } from '../agent.js';
import { BatonError } from '../errors.js';
import { RunEvents } from '../events/emitter.js';
import type { RunEvent } from '../events/types.js';
import { executeRun } from './loop.js';
import type { LoopState } from './state.js';
import { restoreState } from './state.js';
import type { AgentLike, ApprovalDecision, RunOptions, RunResult, RunState } from './types.js';

registerRunner(executeRun);

/**
 * Runs an agent — local, or anything that runs like one (a remote proxy, a team) — to a RunResult.
 * Limits, failures and aborts resolve with a status; only invalid configuration throws.
 */
export function run<I, O>(agent: AgentLike<I, O>, input: I, options?: RunOptions): Promise<RunResult<O>> {
  if (isAgent(agent)) return executeRun(agent as unknown as Agent<I, O>, input, options);
  if (typeof agent?.run !== 'function') {
    throw new BatonError(
      'CONFIG_INVALID',
      'run(): the first argument must be an agent (defineAgent) or an AgentLike',
    );
  }
  return agent.run(input, options);
}

export interface ResumeOptions extends RunOptions {
  /** Decisions for the tool calls the run was waiting on, by tool call id. */
  decisions?: Record<string, ApprovalDecision>;
}

/** Continues a run paused for approval, in this process or another one, from its serialized state. */
export async function resume<I, O>(
  agent: Agent<I, O>,
  state: RunState,
  options: ResumeOptions = {},
): Promise<RunResult<O>> {
  const restored: LoopState = restoreState(agent as unknown as Agent, state);
  if (options.decisions && restored.pending) {
    restored.pending.decided = { ...restored.pending.decided, ...options.decisions };
  }
  const { decisions: _decisions, ...runOptions } = options;
  return executeRun(agent, restored.input as I, runOptions, restored);
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
