import { StreamResponse, TaskState } from '@a2a-js/sdk';
import {
  AgentEvent,
  type AgentExecutionEvent,
  DefaultExecutionEventBus,
  type ExecutionEventBus,
  type ExecutionEventBusManager,
  type TaskStore,
} from '@a2a-js/sdk/server';
import type { NatsBus } from '@baton/bus';
import type { RemoteControl } from './executor.js';
import { a2aSubjects, namespaceOf } from './names.js';
import { fromStreamResponse, isTerminal, stateOf, status, toStreamResponse } from './wire.js';

type Connection = NatsBus['connection'];
type Subscription = ReturnType<Connection['subscribe']>;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export interface NatsEventsOptions {
  /** The tenant (default `default`): subjects `baton.<ns>.a2a.task.<id>.*`. */
  namespace?: string;
  /** How often a follower asks whether the task's replica is still there (default 10 s). */
  livenessMs?: number;
  /** How long a cancel or liveness request waits for the task's replica (default 2 s). */
  requestTimeoutMs?: number;
}

/** A bus whose events also go out on the task's NATS subject, for streams on other replicas. */
class PublishingBus extends DefaultExecutionEventBus {
  constructor(private readonly send: (event: AgentExecutionEvent) => void) {
    super();
  }

  override publish(event: AgentExecutionEvent): void {
    super.publish(event);
    this.send(event);
  }
}

interface Follower {
  bus: DefaultExecutionEventBus;
  subscription: Subscription;
  timer: NodeJS.Timeout;
}

/**
 * One execution event bus per task, on NATS. The replica running a task delivers its events in process
 * (synchronously, as the request handler expects) and publishes each on the task's subject; another
 * replica asked to stream or cancel that task `attach`es first — it follows the subject, so its
 * `tasks/resubscribe` stream sees the events produced elsewhere and its cancel waits for the canceled
 * status the running replica publishes. A follower whose replica stopped answering (it died) ends the
 * task `failed` instead of waiting forever.
 */
export class NatsEventBusManager implements ExecutionEventBusManager {
  private readonly local = new Map<string, PublishingBus>();
  private readonly followers = new Map<string, Follower>();
  private readonly connection: Connection;
  readonly namespace: string;
  readonly control: RemoteControl & { alive(taskId: string): Promise<boolean> };

  constructor(
    bus: NatsBus,
    private readonly options: NatsEventsOptions = {},
  ) {
    this.connection = bus.connection;
    this.namespace = namespaceOf('NatsEventBusManager', options.namespace);
    this.control = natsControl(this.connection, this.namespace, options.requestTimeoutMs ?? 2_000);
  }

  createOrGetByTaskId(taskId: string): ExecutionEventBus {
    const existing = this.local.get(taskId) ?? this.followers.get(taskId)?.bus;
    if (existing) return existing;
    const subject = a2aSubjects.events(this.namespace, taskId);
    const bus = new PublishingBus((event) => {
      if (this.connection.isClosed()) return;
      // Best effort: the task store has every state anyway; a lost event only delays a remote stream.
      try {
        this.connection.publish(
          subject,
          encoder.encode(JSON.stringify(StreamResponse.toJSON(toStreamResponse(event)))),
        );
      } catch {
        // The connection is closing.
      }
    });
    this.local.set(taskId, bus);
    return bus;
  }

  getByTaskId(taskId: string): ExecutionEventBus | undefined {
    return this.local.get(taskId) ?? this.followers.get(taskId)?.bus;
  }

  cleanupByTaskId(taskId: string): void {
    const bus = this.local.get(taskId);
    if (bus) {
      bus.removeAllListeners();
      this.local.delete(taskId);
    }
    const follower = this.followers.get(taskId);
    if (follower) {
      this.followers.delete(taskId);
      clearInterval(follower.timer);
      follower.subscription.unsubscribe();
      follower.bus.removeAllListeners();
    }
  }

  /**
   * Follows a task another replica runs (no-op when it runs here, or is over): called before a stream
   * or a cancel of that task, so `getByTaskId` finds a bus. Subscribed (and flushed) before it returns,
   * so no event published after the caller reads the store is missed.
   */
  async attach(taskId: string, store: TaskStore, context: Parameters<TaskStore['load']>[1]): Promise<void> {
    if (this.local.has(taskId) || this.followers.has(taskId) || this.connection.isClosed()) return;
    const bus = new DefaultExecutionEventBus();
    const subscription = this.connection.subscribe(a2aSubjects.events(this.namespace, taskId), {
      callback: (error, message) => {
        if (error) return;
        const event = decode(message.data);
        if (!event) return;
        bus.publish(event);
        if (isTerminal(stateOf(event))) this.finish(taskId);
      },
    });
    const livenessMs = this.options.livenessMs ?? 10_000;
    const timer = setInterval(() => {
      void this.control.alive(taskId).then((alive) => {
        if (alive || !this.followers.has(taskId)) return;
        bus.publish(
          AgentEvent.statusUpdate({
            taskId,
            contextId: '',
            status: status(TaskState.TASK_STATE_FAILED),
            metadata: { baton: { reason: 'The replica running the task stopped answering' } },
          }),
        );
        this.finish(taskId);
      });
    }, livenessMs);
    timer.unref();
    this.followers.set(taskId, { bus, subscription, timer });
    await this.connection.flush();
    const task = await store.load(taskId, context);
    if (!task || isTerminal(task.status?.state)) this.cleanupByTaskId(taskId);
  }

  /** Stops every follower (the local buses end with their tasks). */
  close(): void {
    for (const taskId of [...this.followers.keys()]) this.cleanupByTaskId(taskId);
  }

  private finish(taskId: string): void {
    const follower = this.followers.get(taskId);
    if (!follower) return;
    follower.bus.finished();
    this.cleanupByTaskId(taskId);
  }
}

function decode(data: Uint8Array): AgentExecutionEvent | undefined {
  try {
    return fromStreamResponse(StreamResponse.fromJSON(JSON.parse(decoder.decode(data))));
  } catch {
    return undefined;
  }
}

type ControlRequest = { op: 'cancel' } | { op: 'ping' };

/** Cancel and liveness for tasks across replicas: the running replica answers on the task's control subject. */
function natsControl(
  connection: Connection,
  namespace: string,
  timeoutMs: number,
): RemoteControl & { alive(taskId: string): Promise<boolean> } {
  const ask = async (taskId: string, request: ControlRequest): Promise<boolean> => {
    if (connection.isClosed()) return false;
    try {
      await connection.request(
        a2aSubjects.control(namespace, taskId),
        encoder.encode(JSON.stringify(request)),
        {
          timeout: timeoutMs,
        },
      );
      return true;
    } catch {
      // No responders, or no answer in time: nobody runs the task any more.
      return false;
    }
  };
  return {
    serve(taskId, onCancel) {
      if (connection.isClosed()) return () => {};
      const subscription = connection.subscribe(a2aSubjects.control(namespace, taskId), {
        callback: (error, message) => {
          if (error) return;
          let request: ControlRequest | undefined;
          try {
            request = JSON.parse(decoder.decode(message.data)) as ControlRequest;
          } catch {
            request = undefined;
          }
          if (request?.op === 'cancel') onCancel();
          message.respond(encoder.encode(JSON.stringify({ ok: true })));
        },
      });
      return () => subscription.unsubscribe();
    },
    cancel: (taskId) => ask(taskId, { op: 'cancel' }),
    alive: (taskId) => ask(taskId, { op: 'ping' }),
  };
}
