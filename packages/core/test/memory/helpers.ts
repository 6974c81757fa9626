import {
  type AnyTool,
  defineAgent,
  EventHub,
  type Guardrails,
  type ModelRequest,
  type RunEvent,
  type RunEventOf,
  type RunEventType,
} from '@baton/core';
import { type ScriptedReply, scriptedModel } from '@baton/core/testing';

/** The system prompt a model call was sent. */
export const systemOf = (request: ModelRequest | undefined) =>
  request?.messages.find((message) => message.role === 'system')?.content ?? '';

/** The last message of a request is a tool result: time to answer. */
export const afterTool = (request: ModelRequest) => request.messages.at(-1)?.role === 'tool';

/** An agent on a scripted model: the function decides each reply from the request. */
export function agentWith(
  script: (request: ModelRequest) => ScriptedReply,
  tools: AnyTool[] = [],
  guardrails?: Guardrails,
) {
  const model = scriptedModel((request) => script(request));
  const agent = defineAgent({
    name: 'assistant',
    description: 'A personal assistant',
    instructions: 'Help the user.',
    model,
    tools,
    ...(guardrails ? { guardrails } : {}),
  });
  return { agent, model };
}

/** Collects a run's events by type. */
export function recorder() {
  const events = new EventHub<RunEvent>();
  const seen: RunEvent[] = [];
  events.on('*', (event) => seen.push(event));
  return {
    events,
    of<T extends RunEventType>(type: T): RunEventOf<T>[] {
      return seen.filter((event): event is RunEventOf<T> => event.type === type);
    },
  };
}
