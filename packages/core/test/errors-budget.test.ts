import {
  BatonError,
  Budget,
  defineAgent,
  defineTool,
  describeEvent,
  ERROR_CODES,
  printProgress,
  RunEvents,
  run,
} from '@baton/core';
import { scriptedModel } from '@baton/core/testing';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

describe('BatonError', () => {
  it('has a stable code, a category, retryable and survives JSON', () => {
    const cause = new BatonError('PROVIDER_RATE_LIMIT', 'slow down', { details: { retryAfterMs: 500 } });
    const error = new BatonError('TOOL_FAILED', 'search failed', { cause, hint: 'try again' });
    const json = JSON.parse(JSON.stringify(error));
    expect(json).toEqual({
      name: 'BatonError',
      code: 'TOOL_FAILED',
      category: 'system',
      message: 'search failed',
      retryable: false,
      hint: 'try again',
      cause: {
        name: 'BatonError',
        code: 'PROVIDER_RATE_LIMIT',
        category: 'provider',
        message: 'slow down',
        retryable: true,
        details: { retryAfterMs: 500 },
      },
    });
    const back = BatonError.fromJSON(json);
    expect(back).toBeInstanceOf(BatonError);
    expect(back.toJSON()).toEqual(json);
    expect((back.cause as BatonError).code).toBe('PROVIDER_RATE_LIMIT');
  });

  it('never crashes on an unreadable or unknown error payload', () => {
    expect(BatonError.fromJSON('garbage').code).toBe('INTERNAL');
    const unknown = BatonError.fromJSON({
      name: 'BatonError',
      code: 'FROM_THE_FUTURE',
      category: 'system',
      message: 'm',
      retryable: true,
    });
    expect(unknown.code).toBe('INTERNAL');
    expect(unknown.message).toContain('FROM_THE_FUTURE');
    expect(unknown.retryable).toBe(true);
  });

  it('every code has a category', () => {
    for (const spec of Object.values(ERROR_CODES))
      expect(['user', 'provider', 'limit', 'system']).toContain(spec.category);
  });

  it('wraps foreign errors and aborts', () => {
    expect(BatonError.wrap(new Error('boom')).code).toBe('INTERNAL');
    expect(BatonError.wrap(new DOMException('stop', 'AbortError')).code).toBe('ABORTED');
  });
});

describe('Budget', () => {
  it('charges a child and every ancestor, and a child is exhausted when an ancestor is', () => {
    const team = new Budget({ maxTokens: 1_000, maxCostUsd: 1 });
    const member = team.child({ maxTokens: 800 });
    member.charge({ steps: 1, usage: { inputTokens: 500, outputTokens: 100 }, costUsd: 0.25 });
    expect(member.used).toEqual({ steps: 1, tokens: 600, costUsd: 0.25 });
    expect(team.used).toEqual({ steps: 1, tokens: 600, costUsd: 0.25 });
    expect(member.remaining()).toEqual({ tokens: 200, costUsd: 0.75 });
    const sibling = team.child();
    sibling.charge({ tokens: 400 });
    expect(member.breach()?.code).toBe('BUDGET_TOKENS');
    expect(team.breach()?.code).toBe('BUDGET_TOKENS');
  });

  it('travels as a plain remainder and rebuilds on the other side', () => {
    const deadline = Date.now() + 60_000;
    const team = new Budget({ maxSteps: 10, maxCostUsd: 2, deadline });
    team.charge({ steps: 3, costUsd: 0.5 });
    const wire = JSON.parse(JSON.stringify(team.remaining()));
    expect(wire).toEqual({ steps: 7, costUsd: 1.5, deadline });
    const remote = Budget.fromRemaining(wire);
    remote.charge({ steps: 7 });
    expect(remote.breach()?.code).toBe('BUDGET_STEPS');
  });

  it('reports a passed deadline and rejects invalid limits', () => {
    expect(new Budget({ deadline: Date.now() - 1 }).breach()?.code).toBe('DEADLINE_EXCEEDED');
    expect(() => new Budget({ maxTokens: -1 })).toThrow(/maxTokens/);
  });
});

describe('progress printer', () => {
  it('prints readable lines from events, using tool progress labels', async () => {
    const search = defineTool({
      name: 'search',
      description: 'd',
      input: z.object({ query: z.string() }),
      execute: ({ query }) => [query, query, query],
      // After execute, so TypeScript has inferred the output type when it reaches `done`.
      progress: {
        start: ({ query }) => `Searching for "${query}"`,
        done: (hits) => `Found ${hits.length} docs`,
      },
    });
    const agent = defineAgent({
      name: 'researcher',
      description: 'd',
      instructions: 'i',
      model: scriptedModel([{ toolCalls: [{ name: 'search', args: { query: 'budgets' } }] }, 'done']),
      tools: [search],
    });
    const events = new RunEvents();
    const lines: string[] = [];
    const stop = printProgress(events, { write: (line) => lines.push(line) });
    await run(agent, 'go', { events });
    stop();
    expect(lines[0]).toBe('[researcher] started');
    expect(lines[1]).toBe('[researcher] Searching for "budgets"…');
    expect(lines[2]).toBe('[researcher] Found 3 docs');
    expect(lines[3]).toMatch(/^\[researcher\] done \(2 steps, 30 tokens, \d+\.\d s\)$/);
    expect(describeEvent({ type: 'step.start', runId: 'r', agent: 'a', at: 0, step: 1 })).toBeUndefined();
  });
});
