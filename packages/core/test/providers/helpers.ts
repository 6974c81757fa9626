import {
  BatonError,
  type Model,
  type ModelRequest,
  type ModelResponse,
  type ModelStreamEvent,
} from '@baton/core';
import { expect } from 'vitest';

export const hello: ModelRequest = { messages: [{ role: 'user', content: 'Hello' }] };

/** Reads a whole stream; returns the events and the final response (undefined when none came). */
export async function collect(model: Model, request: ModelRequest = hello) {
  const events: ModelStreamEvent[] = [];
  for await (const event of model.stream(request)) events.push(event);
  const last = events.at(-1);
  const response = last?.type === 'response' ? last.response : undefined;
  return { events, response: response as ModelResponse };
}

/** The BatonError a promise rejects with (fails the test when it resolves or throws something else). */
export async function rejection(promise: Promise<unknown>): Promise<BatonError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(BatonError);
    return error as BatonError;
  }
  throw new Error('expected a rejection');
}

/** The BatonError a stream ends with, and the events it yielded before. */
export async function streamFailure(model: Model, request: ModelRequest = hello) {
  const events: ModelStreamEvent[] = [];
  try {
    for await (const event of model.stream(request)) events.push(event);
  } catch (error) {
    expect(error).toBeInstanceOf(BatonError);
    return { error: error as BatonError, events };
  }
  throw new Error('expected the stream to fail');
}

/** One chat.completion.chunk line for hand-made OpenAI recordings. */
export function chunk(delta: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    id: 'chatcmpl-quirk',
    object: 'chat.completion.chunk',
    model: 'quirk-model',
    choices: [{ index: 0, delta, finish_reason: null }],
    ...extra,
  });
}

export function finish(reason: string): string {
  return JSON.stringify({
    id: 'chatcmpl-quirk',
    object: 'chat.completion.chunk',
    model: 'quirk-model',
    choices: [{ index: 0, delta: {}, finish_reason: reason }],
  });
}
