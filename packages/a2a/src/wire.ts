import {
  type Artifact,
  type Message,
  type Part,
  Role,
  type StreamResponse,
  type Task,
  TaskState,
  type TaskStatus,
} from '@a2a-js/sdk';
import type { AgentExecutionEvent } from '@a2a-js/sdk/server';

/** The protocol version this package speaks: the one `@a2a-js/sdk` 1.3 implements (A2A v1.0). */
export { A2A_PROTOCOL_VERSION } from '@a2a-js/sdk';

export const TERMINAL_STATES: ReadonlySet<TaskState> = new Set([
  TaskState.TASK_STATE_COMPLETED,
  TaskState.TASK_STATE_FAILED,
  TaskState.TASK_STATE_CANCELED,
  TaskState.TASK_STATE_REJECTED,
]);

export function isTerminal(state: TaskState | undefined): boolean {
  return state !== undefined && TERMINAL_STATES.has(state);
}

/** Where a task's id is used as a NATS subject token and a KV key: the characters both accept. */
export const TASK_ID = /^[A-Za-z0-9_-]{1,128}$/;

export function textPart(text: string): Part {
  return { content: { $case: 'text', value: text }, mediaType: 'text/plain', filename: '', metadata: {} };
}

export function dataPart(value: unknown): Part {
  return { content: { $case: 'data', value }, mediaType: 'application/json', filename: '', metadata: {} };
}

export function agentMessage(taskId: string, contextId: string, parts: Part[], messageId: string): Message {
  return {
    messageId,
    contextId,
    taskId,
    role: Role.ROLE_AGENT,
    parts,
    metadata: {},
    extensions: [],
    referenceTaskIds: [],
  };
}

export function userMessage(
  parts: Part[],
  messageId: string,
  ids: { taskId?: string; contextId?: string } = {},
): Message {
  return {
    messageId,
    contextId: ids.contextId ?? '',
    taskId: ids.taskId ?? '',
    role: Role.ROLE_USER,
    parts,
    metadata: {},
    extensions: [],
    referenceTaskIds: [],
  };
}

export function status(state: TaskState, message?: Message): TaskStatus {
  return { state, message, timestamp: new Date().toISOString() };
}

export function artifact(
  artifactId: string,
  name: string,
  parts: Part[],
  metadata: Record<string, unknown>,
): Artifact {
  return { artifactId, name, description: '', parts, metadata, extensions: [] };
}

/** The text of every text part, joined; undefined when there is none. */
export function textOf(parts: readonly Part[]): string | undefined {
  const texts = parts.flatMap((part) => (part.content?.$case === 'text' ? [part.content.value] : []));
  return texts.length > 0 ? texts.join('\n') : undefined;
}

/** The value of the first data part, if any. */
export function dataOf(parts: readonly Part[]): { found: true; value: unknown } | { found: false } {
  for (const part of parts)
    if (part.content?.$case === 'data') return { found: true, value: part.content.value };
  return { found: false };
}

/** An execution event as the wire's StreamResponse (what crosses NATS between replicas). */
export function toStreamResponse(event: AgentExecutionEvent): StreamResponse {
  switch (event.kind) {
    case 'task':
      return { payload: { $case: 'task', value: event.data } };
    case 'message':
      return { payload: { $case: 'message', value: event.data } };
    case 'statusUpdate':
      return { payload: { $case: 'statusUpdate', value: event.data } };
    case 'artifactUpdate':
      return { payload: { $case: 'artifactUpdate', value: event.data } };
  }
}

export function fromStreamResponse(response: StreamResponse): AgentExecutionEvent | undefined {
  const payload = response.payload;
  switch (payload?.$case) {
    case 'task':
      return { kind: 'task', data: payload.value };
    case 'message':
      return { kind: 'message', data: payload.value };
    case 'statusUpdate':
      return { kind: 'statusUpdate', data: payload.value };
    case 'artifactUpdate':
      return { kind: 'artifactUpdate', data: payload.value };
    default:
      return undefined;
  }
}

/** The state an event leaves its task in, when it says. */
export function stateOf(event: AgentExecutionEvent): TaskState | undefined {
  if (event.kind === 'statusUpdate') return event.data.status?.state;
  if (event.kind === 'task') return event.data.status?.state;
  return undefined;
}

export type { Task };
