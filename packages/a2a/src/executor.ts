import { randomUUID } from 'node:crypto';
import { TaskState } from '@a2a-js/sdk';
import {
  AgentEvent,
  type AgentExecutor,
  type ExecutionEventBus,
  type RequestContext,
} from '@a2a-js/sdk/server';
import { BatonError, EventHub, type RunEvent } from '@baton/core';
import { type A2aTarget, answerText, type Outcome } from './target.js';
import { agentMessage, artifact, dataPart, status, textPart } from './wire.js';

/** How a replica asks the replica running a task to cancel it (NATS; absent in one process). */
export interface RemoteControl {
  /** Starts answering cancel and liveness requests for a task this replica runs; returns the stop. */
  serve(taskId: string, onCancel: () => void): () => void;
  /** Asks whoever runs the task to cancel it: false when nobody does (the task is orphaned). */
  cancel(taskId: string): Promise<boolean>;
}

export interface BatonExecutorOptions {
  /** Stops every run after this long (a real timer: the run's signal aborts). */
  timeoutMs?: number;
  control?: RemoteControl;
}

/** What the artifact's and the final status's metadata say about the run, under this key. */
export const BATON_METADATA = 'baton';

/**
 * Runs a Baton agent or team for each A2A task: the task is `submitted`, then `working` with a status
 * update per step, tool call and handoff, then one artifact (the answer as text, and as data when it is
 * structured) and `completed`; a run that stops short ends `failed` (or `canceled` when it was canceled)
 * with the reason as the status message. A cancel aborts the run through its AbortSignal.
 */
export class BatonAgentExecutor implements AgentExecutor {
  private readonly running = new Map<string, AbortController>();

  constructor(
    private readonly target: A2aTarget,
    private readonly options: BatonExecutorOptions = {},
  ) {}

  /** Tasks running in this process now. */
  get active(): number {
    return this.running.size;
  }

  /** Aborts every run in flight (a server shutting down); each task ends failed with the reason. */
  abortAll(): void {
    const stopping = new BatonError('ABORTED', 'The A2A server is shutting down');
    for (const controller of this.running.values()) controller.abort(stopping);
  }

  async execute(context: RequestContext, bus: ExecutionEventBus): Promise<void> {
    const { taskId, contextId } = context;
    const parsed = this.target.parse(context.userMessage.parts);
    // The protocol wants a task first on every call, a follow-up turn included.
    bus.publish(
      AgentEvent.task({
        id: taskId,
        contextId,
        status: status(TaskState.TASK_STATE_SUBMITTED),
        artifacts: context.task?.artifacts ?? [],
        history: [...(context.task?.history ?? []), context.userMessage],
        metadata: context.task?.metadata ?? {},
      }),
    );
    const update = (state: TaskState, text?: string, metadata: Record<string, unknown> = {}) =>
      bus.publish(
        AgentEvent.statusUpdate({
          taskId,
          contextId,
          status: status(
            state,
            text === undefined ? undefined : agentMessage(taskId, contextId, [textPart(text)], randomUUID()),
          ),
          metadata,
        }),
      );
    // The request handler refuses invalid input before it gets here; a follow-up turn may still carry it.
    if (!parsed.ok) {
      update(TaskState.TASK_STATE_REJECTED, parsed.message);
      return;
    }

    const controller = new AbortController();
    this.running.set(taskId, controller);
    const stopServing = this.options.control?.serve(taskId, () => controller.abort(canceled()));
    const timer =
      this.options.timeoutMs === undefined
        ? undefined
        : setTimeout(
            () =>
              controller.abort(
                new BatonError('TIMEOUT', `The run did not finish within ${this.options.timeoutMs} ms`),
              ),
            this.options.timeoutMs,
          );
    const events = new EventHub<RunEvent>();
    events.on('*', (event) => {
      const line = progressLine(event as RunEvent | TeamProgress);
      if (line !== undefined && !controller.signal.aborted) update(TaskState.TASK_STATE_WORKING, line);
    });
    update(TaskState.TASK_STATE_WORKING, `${this.target.name} started`);
    let outcome: Outcome;
    try {
      outcome = await this.target.run(parsed.input, { signal: controller.signal, runId: taskId, events });
    } catch (error) {
      const failure = BatonError.wrap(error);
      update(TaskState.TASK_STATE_FAILED, `The run failed (${failure.code}): ${failure.message}`, {
        [BATON_METADATA]: { error: failure.toJSON() },
      });
      return;
    } finally {
      clearTimeout(timer);
      stopServing?.();
      this.running.delete(taskId);
    }
    const report = {
      status: outcome.status,
      runId: outcome.runId,
      traceId: outcome.traceId,
      usage: outcome.usage,
    };
    if (outcome.status === 'completed') {
      const parts = [textPart(answerText(outcome.output))];
      if (outcome.output !== undefined && typeof outcome.output === 'object')
        parts.push(dataPart(outcome.output));
      bus.publish(
        AgentEvent.artifactUpdate({
          taskId,
          contextId,
          artifact: artifact(`${taskId}-answer`, 'answer', parts, { [BATON_METADATA]: report }),
          append: false,
          lastChunk: true,
          metadata: {},
        }),
      );
      update(TaskState.TASK_STATE_COMPLETED, undefined, { [BATON_METADATA]: report });
      return;
    }
    const wasCanceled =
      outcome.status === 'aborted' &&
      controller.signal.reason instanceof BatonError &&
      controller.signal.reason.details?.a2a === 'canceled';
    update(wasCanceled ? TaskState.TASK_STATE_CANCELED : TaskState.TASK_STATE_FAILED, outcome.failure, {
      [BATON_METADATA]: report,
    });
  }

  async cancelTask(taskId: string, bus: ExecutionEventBus): Promise<void> {
    const local = this.running.get(taskId);
    if (local) {
      // The run ends `aborted`; `execute` then publishes the canceled status on this task's bus.
      local.abort(canceled());
      return;
    }
    if (this.options.control && (await this.options.control.cancel(taskId))) return;
    // Nobody runs it (its replica is gone): the task is over, say so.
    bus.publish(
      AgentEvent.statusUpdate({
        taskId,
        contextId: '',
        status: status(TaskState.TASK_STATE_CANCELED),
        metadata: {},
      }),
    );
  }
}

function canceled(): BatonError {
  return new BatonError('ABORTED', 'The task was canceled by the A2A client', {
    details: { a2a: 'canceled' },
  });
}

type TeamProgress =
  | { type: 'team.handoff'; from: string; to: string }
  | { type: 'team.round'; round: number };

/** One line per step, tool call and handoff: what a watching client sees as the task works. */
function progressLine(event: RunEvent | TeamProgress): string | undefined {
  switch (event.type) {
    case 'step.start':
      return `${event.agent}: step ${event.step}`;
    case 'tool.start':
      return `${event.agent}: ${event.tool}`;
    case 'team.handoff':
      return `${event.from} → ${event.to}`;
    case 'approval.requested':
      return `${event.agent}: ${event.tool} waits for a person's decision`;
    case 'approval.resolved':
      return `${event.agent}: ${event.tool} ${event.decision === 'approve' ? 'approved' : event.decision === 'edit' ? 'approved with edits' : 'denied'}`;
    default:
      return undefined;
  }
}
