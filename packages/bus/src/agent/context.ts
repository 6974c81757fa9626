import { AsyncLocalStorage } from 'node:async_hooks';
import type { RunOptions } from '@baton/core';

/** The invocation a worker is running, visible to handoffs the agent makes while it runs. */
export interface InvocationContext {
  /** Envelope id of the invocation: the causation of every nested handoff. */
  envelopeId: string;
  runId: string;
  /** Hops of the invocation; a nested handoff travels with hop + 1. */
  hop: number;
  /** The agent that is running: the `from` of nested handoffs. */
  agent: string;
}

const storage = new AsyncLocalStorage<InvocationContext>();

export function currentInvocation(): InvocationContext | undefined {
  return storage.getStore();
}

/** Runs the agent with `context` as the current invocation. */
export function runInInvocation<I, R>(
  context: InvocationContext,
  agent: { run(input: I, options: RunOptions): R },
  input: I,
  options: RunOptions,
): R {
  return storage.run(context, callAgent, agent, input, options) as R;
}

// Module-level, so running an agent allocates no closure.
function callAgent<I, R>(agent: { run(input: I, options: RunOptions): R }, input: I, options: RunOptions): R {
  return agent.run(input, options);
}
