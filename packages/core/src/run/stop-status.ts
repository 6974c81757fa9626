import type { BatonErrorCode } from '../errors.js';
import type { RunStatus } from './types.js';

/**
 * How a run that was stopped from outside ends, from the error it was stopped with: a timer means
 * `timeout`, an exhausted ledger `budget_exceeded`, anything else (an abort, a kill) `aborted`.
 */
export function stoppedStatus(code: BatonErrorCode | string): RunStatus {
  switch (code) {
    case 'TIMEOUT':
    case 'DEADLINE_EXCEEDED':
      return 'timeout';
    case 'BUDGET_TOKENS':
    case 'BUDGET_COST':
    case 'BUDGET_STEPS':
      return 'budget_exceeded';
    default:
      return 'aborted';
  }
}
