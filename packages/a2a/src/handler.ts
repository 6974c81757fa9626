import type {
  AgentCard,
  CancelTaskRequest,
  Message,
  SendMessageRequest,
  StreamResponse,
  SubscribeToTaskRequest,
  Task,
} from '@a2a-js/sdk';
import { RequestMalformedError } from '@a2a-js/sdk/errors';
import {
  DefaultExecutionEventBusManager,
  DefaultRequestHandler,
  type ExecutionEventBusManager,
  InMemoryTaskStore,
  type ServerCallContext,
  type TaskStore,
} from '@a2a-js/sdk/server';
import type { NatsBus } from '@baton/bus';
import { BatonAgentExecutor } from './executor.js';
import { NatsEventBusManager } from './nats-events.js';
import { NatsTaskStore } from './nats-task-store.js';
import type { A2aTarget } from './target.js';
import { TASK_ID } from './wire.js';

/** Where tasks and their events live: this process's memory, or NATS (shared by every replica). */
export interface A2aStores {
  taskStore: TaskStore;
  events: ExecutionEventBusManager;
  /** Closes what the stores hold open (NATS followers); the bus itself stays the caller's. */
  close(): void;
}

/** In this process only: the SDK's in-memory task store and event buses. */
export function memoryA2aStores(): A2aStores {
  return {
    taskStore: new InMemoryTaskStore(),
    events: new DefaultExecutionEventBusManager(),
    close: () => {},
  };
}

/** On NATS: tasks in the namespace's KV bucket (compare-and-set), events on per-task subjects. */
export function natsA2aStores(
  bus: NatsBus,
  options: { namespace?: string; livenessMs?: number } = {},
): A2aStores {
  const events = new NatsEventBusManager(bus, options);
  return {
    taskStore: new NatsTaskStore(bus, { namespace: events.namespace }),
    events,
    close: () => events.close(),
  };
}

export interface BatonRequestHandlerOptions {
  stores?: A2aStores;
  /** Stops each run after this long. */
  timeoutMs?: number;
}

/**
 * The SDK's DefaultRequestHandler with what Baton adds in front: a message whose parts do not make the
 * target's input (its contract) is refused with a JSON-RPC error before any task exists, task ids must
 * be usable as NATS subject tokens, and a stream or cancel of a task another replica runs follows that
 * task's events first.
 */
export class BatonRequestHandler extends DefaultRequestHandler {
  readonly stores: A2aStores;
  readonly executor: BatonAgentExecutor;

  constructor(
    card: AgentCard,
    private readonly target: A2aTarget,
    options: BatonRequestHandlerOptions = {},
  ) {
    const stores = options.stores ?? memoryA2aStores();
    const control = stores.events instanceof NatsEventBusManager ? stores.events.control : undefined;
    const executor = new BatonAgentExecutor(target, {
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      ...(control ? { control } : {}),
    });
    super(card, stores.taskStore, executor, stores.events);
    this.stores = stores;
    this.executor = executor;
  }

  override sendMessage(params: SendMessageRequest, context: ServerCallContext): Promise<Message | Task> {
    this.check(params);
    return super.sendMessage(params, context);
  }

  override sendMessageStream(
    params: SendMessageRequest,
    context: ServerCallContext,
  ): AsyncGenerator<StreamResponse, void, undefined> {
    this.check(params);
    return super.sendMessageStream(params, context);
  }

  override async cancelTask(params: CancelTaskRequest, context: ServerCallContext): Promise<Task> {
    checkTaskId(params.id);
    await this.follow(params.id, context);
    return super.cancelTask(params, context);
  }

  override async *resubscribe(
    params: SubscribeToTaskRequest,
    context: ServerCallContext,
  ): AsyncGenerator<StreamResponse, void, undefined> {
    checkTaskId(params.id);
    await this.follow(params.id, context);
    yield* super.resubscribe(params, context);
  }

  private async follow(taskId: string, context: ServerCallContext): Promise<void> {
    const events = this.stores.events;
    if (events instanceof NatsEventBusManager) await events.attach(taskId, this.stores.taskStore, context);
  }

  private check(params: SendMessageRequest): void {
    const message = params.message;
    if (!message) throw new RequestMalformedError('message is required');
    if (message.taskId) checkTaskId(message.taskId);
    const parsed = this.target.parse(message.parts ?? []);
    if (!parsed.ok) throw new RequestMalformedError(parsed.message);
  }
}

function checkTaskId(id: string): void {
  if (!TASK_ID.test(id)) {
    throw new RequestMalformedError('A task id is 1–128 letters, digits, "_" or "-"');
  }
}
