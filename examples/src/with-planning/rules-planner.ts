import type { Model, ModelRequest, ModelResponse, ModelStreamEvent } from '@baton/core';

/**
 * A rules-based stand-in for a planning model — deterministic, **not an LLM** — so the example runs
 * with no key. It plans the research team's work: research the task, then hand the findings to the
 * drafting team. Its first plan has the mistake the seed warns about (a step that needs a later step's
 * output), so the example shows validation refusing it and the planner fixing it from the violations.
 */
export function rulesPlanner(): Model {
  const generate = async (request: ModelRequest): Promise<ModelResponse> => {
    const prompt = [...request.messages].reverse().find((message) => message.role === 'user')?.content ?? '';
    const task = /Task:\n([^\n]+)/.exec(prompt)?.[1]?.trim() ?? 'the task';
    const research = {
      id: 'research',
      use: 'researcher',
      input: { topic: task },
      produces: 'cited findings on the task',
    };
    const draft = {
      id: 'draft',
      use: 'drafting',
      input: {
        topic: { $ref: 'research.topic' },
        findings: { $ref: 'research.findings' },
        sources: { $ref: 'research.sources' },
      },
      dependsOn: ['research'],
      produces: 'a reviewed, cited report',
    };
    const corrected = prompt.includes('That plan cannot run');
    // A re-plan keeps what was done (the research) and tries the drafting again, under a new id.
    const again = (/this is re-plan (\d+)/.exec(prompt)?.[1] ?? '') as string;
    const steps = again
      ? [{ ...draft, id: `draft${again}` }]
      : corrected
        ? [research, draft]
        : [draft, research];
    const plan = { goal: `A reviewed report on ${task}`, steps };
    const text = JSON.stringify(plan);
    return {
      model: 'rules-planner',
      provider: 'offline',
      text,
      toolCalls: [],
      finishReason: 'stop',
      usage: { inputTokens: Math.ceil(prompt.length / 4), outputTokens: Math.ceil(text.length / 4) },
      costUsd: 0,
    };
  };
  return {
    id: 'rules-planner',
    provider: 'offline',
    generate,
    async *stream(request: ModelRequest): AsyncIterable<ModelStreamEvent> {
      yield { type: 'response', response: await generate(request) };
    },
  };
}
