import { BatonError, type LongTimer as LongTimerHandle, setLongTimeout } from '@baton/core';
import type { Bus } from '../transport/types.js';
import type { RunControl } from './run-control.js';
import { type DrainOptions, STOPPING } from './worker-options.js';

/** What a shutdown needs of its worker. */
export interface StoppableWorker {
  readonly bus: Bus;
  readonly instance: string;
  /** Set by durable mode: stops pulling and hands unfinished work back. */
  readonly durableStopper: ((mode: 'drain' | 'stop', graceMs: number) => Promise<void>) | undefined;
  /** Set by durable mode: hands runs aborted by a stop back to the queue instead of recording them. */
  readonly durableEscalate: (() => void) | undefined;
  /** The first step: no more invocations, kill-flag updates or heartbeats. */
  stopTaking(): void;
  /** The last step: leaves the control subjects and publishes what the guard still holds back. */
  closeControl(): void;
}

/**
 * How a worker ends: a drain lets the runs in flight finish and reply, a stop aborts them (they still
 * reply their partial results); a drain can turn into a stop (its time limit, a second Ctrl-C), and once
 * stopping, a run that ignores its signal gets `stopGraceMs`, no more.
 */
export class WorkerShutdown {
  private readonly bus: Bus;
  private readonly instance: string;
  private closing: Promise<void> | undefined;
  /** True once runs in flight were told to stop (stop(), or a drain that ran out of time). */
  private stopping = false;
  private drainLimit: LongTimerHandle | undefined;
  private onEscalate: (() => void) | undefined;

  constructor(
    private readonly worker: StoppableWorker,
    private readonly stopGraceMs: number,
    /** The worker's runs in flight, by run id: what a stop aborts. */
    private readonly runs: ReadonlyMap<string, RunControl>,
    /** Woken by the worker when its last run in flight is done. */
    private readonly idleWaiters: Array<() => void>,
  ) {
    this.bus = worker.bus;
    this.instance = worker.instance;
  }

  drain(options: DrainOptions): Promise<void> {
    this.closing ??= this.shutdown('drain');
    if (options.timeoutMs !== undefined && !this.drainLimit) {
      this.drainLimit = setLongTimeout(() => void this.stop(), options.timeoutMs).unref();
    }
    return this.closing;
  }

  /** Aborts the runs in flight — also when a drain is already under way (a second Ctrl-C). */
  stop(): Promise<void> {
    if (this.closing) this.escalate();
    else this.closing = this.shutdown('stop');
    return this.closing;
  }

  /** From draining to stopping: the runs in flight are aborted and get `stopGraceMs` to reply. */
  private escalate(): void {
    if (this.stopping) return;
    this.stopping = true;
    this.worker.durableEscalate?.();
    const reason = new BatonError('ABORTED', `Worker ${this.instance} is stopping`, {
      // Resumable: the run is not over, its redelivery (or its resumed caller) continues it.
      details: { reason: STOPPING, instance: this.instance, resumable: true },
    });
    for (const control of this.runs.values()) control.abort(reason);
    this.onEscalate?.();
  }

  private async shutdown(mode: 'drain' | 'stop'): Promise<void> {
    this.worker.stopTaking();
    const durable = this.worker.durableStopper?.(mode, this.stopGraceMs);
    const idle =
      this.runs.size === 0
        ? Promise.resolve()
        : new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    // Once stopping (now, or later during a drain), a run that ignores its signal gets a grace, no more.
    let grace: LongTimerHandle | undefined;
    const graceOver = new Promise<void>((resolve) => {
      this.onEscalate = () => {
        grace = setLongTimeout(resolve, this.stopGraceMs);
      };
    });
    if (mode === 'stop') this.escalate();
    await Promise.race([idle, graceOver]);
    grace?.clear();
    this.drainLimit?.clear();
    await durable;
    this.worker.closeControl();
    if (this.bus.status !== 'closed') {
      try {
        await this.bus.flush();
      } catch {
        // Closing anyway.
      }
    }
  }
}
