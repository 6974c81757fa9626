import { BatonError } from '../errors.js';
import { setLongTimeout } from '../util/timers.js';
import { type ApprovalRecord, type ApprovalStore, effectiveStatus } from './types.js';

export interface WaitForDecisionsOptions {
  signal?: AbortSignal;
  /** Give up after this long (default: wait as long as it takes). */
  timeoutMs?: number;
  /** How often to look again when the store cannot be watched (default 500 ms). */
  pollMs?: number;
}

/**
 * Resolves once every listed call has been decided (or has expired), with the records: what a process
 * that paused a run does before resuming it. It watches the store when the store can be watched and
 * looks again at intervals either way, so a missed notification only costs a poll.
 */
export function waitForDecisions(
  store: ApprovalStore,
  calls: readonly { runId: string; toolCallId: string }[],
  options: WaitForDecisionsOptions = {},
): Promise<ApprovalRecord[]> {
  return new Promise((resolve, reject) => {
    const decided = new Map<string, ApprovalRecord>();
    const key = (runId: string, toolCallId: string) => `${runId}\u0000${toolCallId}`;
    const wanted = new Set(calls.map((call) => key(call.runId, call.toolCallId)));
    let done = false;
    let poll: ReturnType<typeof setLongTimeout> | undefined;
    let timeout: ReturnType<typeof setLongTimeout> | undefined;
    let stopWatching: (() => void) | undefined;
    const finish = (error?: BatonError) => {
      if (done) return;
      done = true;
      stopWatching?.();
      poll?.clear();
      timeout?.clear();
      options.signal?.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve(calls.map((call) => decided.get(key(call.runId, call.toolCallId)) as ApprovalRecord));
    };
    const consider = (record: ApprovalRecord | undefined) => {
      if (!record || !wanted.has(key(record.runId, record.toolCallId))) return;
      if (effectiveStatus(record) === 'pending') return;
      decided.set(key(record.runId, record.toolCallId), record);
      if (decided.size === wanted.size) finish();
    };
    const look = async () => {
      try {
        for (const call of calls) consider(await store.get(call.runId, call.toolCallId));
      } catch {
        // The store is briefly away: the next look tries again.
      }
      if (!done) poll = setLongTimeout(() => void look(), options.pollMs ?? 500);
    };
    const onAbort = () =>
      finish(
        BatonError.wrap(options.signal?.reason ?? new BatonError('ABORTED', 'Stopped waiting for decisions')),
      );
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.timeoutMs !== undefined) {
      timeout = setLongTimeout(
        () => finish(new BatonError('TIMEOUT', `No decision within ${options.timeoutMs} ms`)),
        options.timeoutMs,
      );
    }
    if (wanted.size === 0) return finish();
    stopWatching = store.watch?.({}, consider);
    void look();
  });
}
