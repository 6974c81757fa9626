import { BatonError, type LongTimer, setLongTimeout } from '@baton/core';

/**
 * The abort side of one remote run: cancel, kill, stop and the deadline. The AbortSignal (and the timer
 * that fires it at the deadline) is made when the agent first asks for it: an AbortController costs
 * microseconds on Node 20, and an agent that never reads its signal cannot be interrupted anyway.
 */
export class RunControl {
  private controller: AbortController | undefined;
  private timer: LongTimer | undefined;
  private stoppedBy: BatonError | undefined;

  constructor(private readonly deadline: number | null) {}

  get signal(): AbortSignal {
    if (this.controller) return this.controller.signal;
    const controller = new AbortController();
    this.controller = controller;
    if (this.stoppedBy) controller.abort(this.stoppedBy);
    else if (this.deadline !== null) {
      const left = this.deadline - Date.now();
      if (left <= 0) this.abort(deadlineError(this.deadline));
      else {
        const deadline = this.deadline;
        this.timer = setLongTimeout(() => this.abort(deadlineError(deadline)), left);
      }
    }
    return controller.signal;
  }

  /** Why the run must stop, or undefined while it may go on (the deadline counts even without a signal). */
  get reason(): BatonError | undefined {
    if (this.stoppedBy) return this.stoppedBy;
    if (this.deadline !== null && Date.now() >= this.deadline) return deadlineError(this.deadline);
    return undefined;
  }

  abort(reason: BatonError): void {
    if (this.stoppedBy) return;
    this.stoppedBy = reason;
    this.timer?.clear();
    this.controller?.abort(reason);
  }

  dispose(): void {
    this.timer?.clear();
  }
}

function deadlineError(deadline: number): BatonError {
  return new BatonError('DEADLINE_EXCEEDED', 'The run reached the deadline it was given', {
    details: { deadline },
  });
}

/** The BatonError a signal aborted with. */
export function abortedBy(signal: AbortSignal): BatonError {
  const reason: unknown = signal.reason;
  return reason instanceof BatonError
    ? reason
    : new BatonError('ABORTED', 'The run was aborted', { cause: reason });
}
