import {
  type AgentLike,
  defineHandoff,
  type HandoffContract,
  type RunOptions,
  type RunResult,
} from '@baton/core';
import { z } from 'zod';

/** The handoff measured by the bus benchmark: text in, the same text out. */
export const benchContract: HandoffContract<{ text: string }, { text: string }> = defineHandoff({
  name: 'bench.echo',
  version: 1,
  input: z.object({ text: z.string() }),
  output: z.object({ text: z.string() }),
});

const WORDS = [
  'handoff',
  'budget',
  'deadline',
  'worker',
  'trace',
  'queue',
  'result',
  'agent',
  'contract',
  'bus',
];

/** A payload whose JSON (`{"text":"..."}`) is exactly `bytes` long: plain words, nothing to escape. */
export function benchPayload(bytes = 1024): { text: string } {
  let text = '';
  for (let i = 0; text.length < bytes; i++) text += `${WORDS[i % WORDS.length]} `;
  return { text: text.slice(0, bytes - JSON.stringify({ text: '' }).length) };
}

/** A trivial agent, so the benchmark measures the bus and not a run loop. */
export const echoAgent: AgentLike<{ text: string }, { text: string }> = {
  name: 'echo',
  description: 'Returns its input',
  async run(input: { text: string }, options: RunOptions = {}): Promise<RunResult<{ text: string }>> {
    return {
      status: 'completed',
      output: { text: input.text },
      partial: { summary: 'echo completed', toolResults: [], missing: [] },
      steps: 0,
      usage: { inputTokens: 0, outputTokens: 0 },
      costUsd: 0,
      durationMs: 0,
      runId: options.runId ?? 'bench',
      traceId: '',
      spanId: '',
      agent: 'echo',
    };
  },
};
