import { BatonError, type HandoffContract, type RunResult } from '@baton/core';
import { boundIssues, summarizeIssues } from '../issues.js';
import { outputRejected } from './replies.js';

/**
 * A handoff's input against its contract, as the caller checks it before sending and the worker on
 * arrival: the parsed input (transforms applied), or the HANDOFF_INVALID error both sides report.
 */
export function checkInput(
  contract: HandoffContract,
  input: unknown,
): { ok: true; input: unknown } | { ok: false; error: BatonError } {
  const parsed = contract.input.safeParse(input);
  if (parsed.success) return { ok: true, input: parsed.data };
  return {
    ok: false,
    error: new BatonError(
      'HANDOFF_INVALID',
      `The input does not match ${contract.id}: ${summarizeIssues(parsed.error)}`,
      { details: { contract: contract.id, side: 'input', issues: boundIssues(parsed.error.issues) } },
    ),
  };
}

/**
 * A completed result's output against the contract, as the worker checks it before replying and the
 * caller on arrival: the output as parsed, or a failed result that keeps the accounting.
 */
export function checkOutput(result: RunResult, contract: HandoffContract, agent: string): RunResult {
  if (result.status !== 'completed') return result;
  const parsed = contract.output.safeParse(result.output);
  if (parsed.success) {
    if (parsed.data !== result.output) result.output = parsed.data;
    return result;
  }
  return outputRejected(
    result,
    new BatonError(
      'HANDOFF_INVALID',
      `${agent}'s output does not match ${contract.id}: ${summarizeIssues(parsed.error)}`,
      { details: { contract: contract.id, side: 'output' } },
    ),
  );
}
