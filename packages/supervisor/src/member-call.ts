import { BatonError, emptyUsage, type RunResult, setLongTimeout, stoppedStatus } from '@baton/core';

/**
 * How long a cancelled member may take to hand back its partial result before the team stops waiting
 * (`TeamConfig.cancelGraceMs`). Local members answer at once; a remote one needs a round trip for the cancel.
 */
export const DEFAULT_CANCEL_GRACE_MS = 1_000;

export type HandoffIssue = { path: PropertyKey[]; message: string };

export function handoffError(
  agent: string,
  contract: string,
  side: 'input' | 'output',
  issues: HandoffIssue[],
): BatonError {
  const problems = issues.map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`);
  const what =
    side === 'input' ? `sent an invalid "${contract}" input` : `returned an invalid "${contract}" output`;
  return new BatonError('HANDOFF_INVALID', `${agent} ${what}: ${problems.join('; ')}`, {
    details: { agent, contract, side, issues: problems },
  });
}

/** Waits for a member; once the team is cancelled, waits at most a short grace for its partial result. */
export function withCancelGrace<O>(
  running: Promise<RunResult<O>>,
  signal: AbortSignal,
  name: string,
  graceMs: number = DEFAULT_CANCEL_GRACE_MS,
): Promise<RunResult<O>> {
  return new Promise((resolve, reject) => {
    let timer: ReturnType<typeof setLongTimeout> | undefined;
    const onAbort = () => {
      timer = setLongTimeout(() => {
        const reason =
          signal.reason instanceof BatonError ? signal.reason : new BatonError('ABORTED', 'cancelled');
        resolve({ ...failedResult<O>(name, reason, ''), status: stoppedStatus(reason.code) });
      }, graceMs);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    running.then(
      (result) => {
        timer?.clear();
        signal.removeEventListener('abort', onAbort);
        resolve(result);
      },
      (error: unknown) => {
        timer?.clear();
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

export function failedResult<O>(
  agent: string,
  error: BatonError,
  traceId: string,
  status: RunResult['status'] = 'failed',
): RunResult<O> {
  return {
    status,
    output: undefined,
    partial: { summary: `${agent} failed: ${error.message}`, toolResults: [], missing: [] },
    error: error.toJSON(),
    steps: 0,
    usage: emptyUsage(),
    costUsd: 0,
    durationMs: 0,
    runId: '',
    traceId,
    spanId: '',
    agent,
  };
}
