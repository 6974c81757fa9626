import type { ModelRequest } from '@baton/core';
import type { ScriptedReply } from '@baton/core/testing';

/** What a request to the scripted model is for: a plan, a review, or a step of the loop. */
export function kindOf(request: ModelRequest): 'plan' | 'review' | 'loop' {
  if (request.responseSchema?.name === 'plan') return 'plan';
  if (request.responseSchema?.name === 'review') return 'review';
  return 'loop';
}

/** The last user message of a request: what the planner was just told (a correction, a re-plan). */
export function lastUser(request: ModelRequest): string {
  return [...request.messages].reverse().find((message) => message.role === 'user')?.content ?? '';
}

export const json = (value: unknown): ScriptedReply => JSON.stringify(value);
