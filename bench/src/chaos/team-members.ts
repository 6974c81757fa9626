/**
 * The members the team scenarios of the reliability suite run, in this process or in worker processes
 * (team-worker.ts): spenders that keep calling a tool until their ledger stops them, a member whose tool
 * calls another remote agent, the callee it calls, and members that hang until they are cancelled —
 * reporting when the cancel reached them.
 */
import { type Bus, remoteAgent } from '@baton/bus';
import {
  type Agent,
  type BatonError,
  defineAgent,
  defineHandoff,
  defineTool,
  type RunResult,
  type Usage,
} from '@baton/core';
import { scriptedModel } from '@baton/core/testing';
import { z } from 'zod';

export const STEP_USAGE: Usage = { inputTokens: 100, outputTokens: 50 };
export const STEP_TOKENS = STEP_USAGE.inputTokens + STEP_USAGE.outputTokens;
export const CALLEE_USAGE: Usage = { inputTokens: 300, outputTokens: 120 };
export const NAMESPACE = 'chaos-team';

export const taskContract = defineHandoff({
  name: 'chaos.task',
  version: 1,
  input: z.object({ task: z.string() }),
  output: z.string(),
});

const base = { description: 'a chaos-suite member', instructions: 'Work on the task.' };

/** Calls a fresh tool each step (no loop, no lack of progress) and spends STEP_USAGE, until stopped. */
export function spender(name: string, delayMs = 3): Agent<unknown, unknown> {
  const think = defineTool({
    name: 'think',
    description: 'thinks',
    input: z.object({ n: z.number() }),
    execute: ({ n }) => ({ thought: n }),
  });
  let n = 0;
  return defineAgent({
    ...base,
    name,
    model: scriptedModel(
      () => ({ toolCalls: [{ name: 'think', args: { n: n++ } }], usage: STEP_USAGE, delayMs }),
      { recordRequests: false },
    ),
    tools: [think],
    limits: { maxSteps: 10_000, noProgressSteps: 10_000, timeoutMs: 60_000 },
  }) as Agent<unknown, unknown>;
}

/** Answers in one step that costs CALLEE_USAGE. */
export function callee(name: string): Agent<unknown, unknown> {
  return defineAgent({
    ...base,
    name,
    model: scriptedModel(() => ({ text: 'the callee answers', usage: CALLEE_USAGE }), {
      recordRequests: false,
    }),
  }) as Agent<unknown, unknown>;
}

/**
 * Asks the remote `calleeName` from its tool, with nothing passed along but the question; `onAnswer`
 * sees the callee's own result (what it spent).
 */
export function asker(
  name: string,
  bus: Bus,
  calleeName: string,
  onAnswer: (answer: RunResult) => void = () => undefined,
): Agent<unknown, unknown> {
  const other = remoteAgent(bus, { name: calleeName, contract: taskContract, namespace: NAMESPACE });
  const ask = defineTool({
    name: 'ask_colleague',
    description: 'asks a colleague',
    input: z.object({}),
    execute: async () => {
      const answer = await other.run({ task: 'a question' });
      onAnswer(answer);
      return answer.status === 'completed' ? answer.output : `colleague ended ${answer.status}`;
    },
  });
  let call = 0;
  return defineAgent({
    ...base,
    name,
    model: scriptedModel(
      () => (call++ % 2 === 0 ? { toolCalls: [{ name: 'ask_colleague', args: {} }] } : 'done'),
      { recordRequests: false },
    ),
    tools: [ask],
  }) as Agent<unknown, unknown>;
}

/**
 * Its only tool hangs until its signal aborts; `onStart` and `onAbort` report the moments (epoch ms) so
 * the suite can measure how long the cancel took to reach it.
 */
export function hanging(
  name: string,
  report: { onStart(name: string): void; onAbort(name: string, code: string, at: number): void },
): Agent<unknown, unknown> {
  const hang = defineTool({
    name: 'hang',
    description: 'waits',
    input: z.object({}),
    timeoutMs: 10 * 60_000,
    execute: (_args, { signal }) =>
      new Promise((_resolve, reject) => {
        report.onStart(name);
        signal.addEventListener('abort', () => {
          report.onAbort(name, (signal.reason as BatonError)?.code ?? 'ABORTED', Date.now());
          reject(signal.reason);
        });
      }),
  });
  return defineAgent({
    ...base,
    name,
    model: scriptedModel(() => ({ toolCalls: [{ name: 'hang', args: {} }] }), { recordRequests: false }),
    tools: [hang],
    limits: { timeoutMs: 10 * 60_000 },
  }) as Agent<unknown, unknown>;
}
