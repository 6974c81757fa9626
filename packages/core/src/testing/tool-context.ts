import { BatonError } from '../errors.js';
import type { ToolContext } from '../tools/define.js';

/** A ToolContext for calling a tool's `execute` directly in a test; override what the test is about. */
export function toolContext(overrides: Partial<ToolContext> = {}): ToolContext {
  const runId = overrides.runId ?? 'run_test';
  const toolCallId = overrides.toolCallId ?? 'call_1';
  return {
    signal: new AbortController().signal,
    runId,
    agent: 'test',
    step: 1,
    toolCallId,
    attempt: 1,
    idempotencyKey: `${runId}:${toolCallId}`,
    possibleDuplicate: false,
    credentials: {
      get: async (name) => {
        throw new BatonError('TOOL_PERMISSION_DENIED', `No credential "${name}" in this test`);
      },
    },
    ...overrides,
  };
}
