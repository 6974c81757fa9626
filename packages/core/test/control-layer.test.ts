/**
 * The control layer's promises for a single run (issue 10): honest statuses when a timer or an abort
 * stops tools, cost that is unknown rather than $0, every billed token counted, retries that are not
 * loops, timers that hold past Node's 32-bit limit, nested runs charged to their caller and cancelled
 * with it, and a stream that cancels its run when nobody reads it.
 */
import {
  BatonError,
  Budget,
  currentRunScope,
  defineAgent,
  defineTool,
  MAX_TIMER_MS,
  type RunEvent,
  RunEvents,
  run,
  setLongTimeout,
  stream,
  ToolError,
} from '@baton/core';
import { scriptedModel } from '@baton/core/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { usageOf } from '../src/providers/openai/normalize.js';

const base = { description: 'd', instructions: 'i' };

/** A tool that never finishes on its own; it resolves when its signal aborts and records that. */
function hangingTool(aborted: string[] = []) {
  return defineTool({
    name: 'hang',
    description: 'waits',
    input: z.object({ n: z.number() }),
    execute: (_args, { signal }) =>
      new Promise((_resolve, reject) => {
        signal.addEventListener('abort', () => {
          aborted.push('hang');
          reject(signal.reason);
        });
      }),
  });
}

describe('statuses say what happened', () => {
  it('a run whose timer fires while tools run ends `timeout`, never `no_progress`', async () => {
    const model = scriptedModel(() => ({ toolCalls: [{ name: 'hang', args: { n: 1 } }] }));
    const agent = defineAgent({
      ...base,
      name: 'slow',
      model,
      tools: [hangingTool()],
      // One step without progress would already stop the run: the timeout must still win.
      limits: { timeoutMs: 50, noProgressSteps: 1 },
    });
    const result = await run(agent, 'go');
    expect(result.status).toBe('timeout');
    expect(result.error?.code).toBe('TIMEOUT');
    expect(result.partial.toolResults).toMatchObject([{ tool: 'hang', ok: false }]);
  });

  it('randomized: timers firing at any point of the loop give `timeout` or `completed`, nothing else', async () => {
    const statuses = new Set<string>();
    for (let index = 0; index < 60; index++) {
      let call = 0;
      const model = scriptedModel(() =>
        call++ < 3 ? { toolCalls: [{ name: 'work', args: { n: call } }], delayMs: index % 3 } : 'done',
      );
      const work = defineTool({
        name: 'work',
        description: 'w',
        input: z.object({ n: z.number() }),
        execute: ({ n }, { signal }) =>
          new Promise((resolve, reject) => {
            const timer = setTimeout(() => resolve({ n }), (index * 7) % 5);
            signal.addEventListener('abort', () => {
              clearTimeout(timer);
              reject(signal.reason);
            });
          }),
      });
      const agent = defineAgent({
        ...base,
        name: 'r',
        model,
        tools: [work],
        limits: { timeoutMs: 1 + (index % 12), noProgressSteps: 1 },
      });
      const result = await run(agent, 'go');
      statuses.add(result.status);
      expect(['timeout', 'completed', 'no_progress']).toContain(result.status);
      if (result.status === 'no_progress') {
        // Only honest when every tool really finished without anything new, never when the timer fired.
        expect(result.partial.toolResults.every((record) => record.ok)).toBe(true);
      }
    }
    expect(statuses.has('timeout')).toBe(true);
  });

  it('an abort while tools run ends `aborted`, and the tools see it', async () => {
    const aborted: string[] = [];
    const model = scriptedModel(() => ({ toolCalls: [{ name: 'hang', args: { n: 1 } }] }));
    const agent = defineAgent({
      ...base,
      name: 'a',
      model,
      tools: [hangingTool(aborted)],
      limits: { noProgressSteps: 1 },
    });
    const controller = new AbortController();
    const events = new RunEvents();
    // Abort once the tool is really running (tool.start is emitted just before it is called).
    events.on('tool.start', () => {
      setTimeout(() => controller.abort(new BatonError('ABORTED', 'the user pressed stop')), 5);
    });
    const result = await run(agent, 'go', { signal: controller.signal, events });
    expect(result.status).toBe('aborted');
    expect(result.error?.message).toBe('the user pressed stop');
    expect(aborted).toEqual(['hang']);
  });

  it('`approval.requested` is emitted when a run pauses with no one to ask', async () => {
    const wipe = defineTool({
      name: 'wipe',
      description: 'deletes',
      input: z.object({}),
      risk: 'destructive',
      execute: () => 'wiped',
    });
    const model = scriptedModel([{ toolCalls: [{ name: 'wipe', args: {} }] }]);
    const agent = defineAgent({ ...base, name: 'w', model, tools: [wipe] });
    const seen: RunEvent[] = [];
    const events = new RunEvents();
    events.on('approval.requested', (event) => seen.push(event));
    const result = await run(agent, 'go', { events });
    expect(result.status).toBe('awaiting_approval');
    expect(seen).toMatchObject([{ type: 'approval.requested', tool: 'wipe', toolCallId: 'call_1_0' }]);
  });
});

describe('accounting: unknown is unknown, and every billed token counts', () => {
  it('a model with no price has unknown cost, not $0', async () => {
    const model = scriptedModel(['hello'], { id: 'my-local-llama' });
    const result = await run(defineAgent({ ...base, name: 'u', model }), 'hi');
    expect(result.status).toBe('completed');
    expect(result.costUsd).toBe(0);
    expect(result.unpriced).toEqual({ steps: 1, models: ['my-local-llama'] });
  });

  it('a priced model leaves nothing unknown', async () => {
    const model = scriptedModel(['hello'], { price: { input: 1, output: 2 } });
    const result = await run(defineAgent({ ...base, name: 'p', model }), 'hi');
    expect(result.unpriced).toBeUndefined();
    expect(result.costUsd).toBeGreaterThan(0);
  });

  it('a cost limit with an unpriced model is a clear error at the first call, not a silent $0', async () => {
    const model = scriptedModel(() => ({ toolCalls: [{ name: 'noop', args: {} }] }), { id: 'mystery' });
    const noop = defineTool({ name: 'noop', description: 'n', input: z.object({}), execute: () => 'ok' });
    const agent = defineAgent({ ...base, name: 'c', model, tools: [noop], limits: { maxCostUsd: 0.5 } });
    const result = await run(agent, 'go');
    expect(result.status).toBe('failed');
    expect(result.steps).toBe(1);
    expect(result.error).toMatchObject({ code: 'PRICE_UNKNOWN', category: 'user' });
    expect(result.error?.message).toContain('no known price');
  });

  it("a plan-execute agent's planning call (a side step) with no price under a cost limit fails the same way", async () => {
    const model = scriptedModel(() => '{"steps":[]}', { id: 'mystery' });
    const noop = defineTool({ name: 'noop', description: 'n', input: z.object({}), execute: () => 'ok' });
    const agent = defineAgent({
      ...base,
      name: 'planner',
      model,
      tools: [noop],
      planner: 'plan-execute',
      limits: { maxCostUsd: 0.5 },
    });
    const result = await run(agent, 'go');
    expect(result.status).toBe('failed');
    expect(result.error).toMatchObject({ code: 'PRICE_UNKNOWN', category: 'user' });
    expect(result.steps).toBe(1);
    expect(result.unpriced).toEqual({ steps: 1, models: ['mystery'] });
  });

  it('a team cost limit with an unpriced member model fails the member the same way', async () => {
    const team = new Budget({ maxCostUsd: 1 });
    const model = scriptedModel(['answer'], { id: 'mystery' });
    const result = await run(defineAgent({ ...base, name: 'm', model }), 'go', { budget: team });
    expect(result.error?.code).toBe('PRICE_UNKNOWN');
    expect(team.breach()?.code).toBe('PRICE_UNKNOWN');
  });

  it('reasoning tokens reported beside completion tokens (xAI) count as output', () => {
    const usage = usageOf({
      prompt_tokens: 12,
      completion_tokens: 2,
      total_tokens: 334,
      completion_tokens_details: { reasoning_tokens: 320 },
    });
    expect(usage).toEqual({ inputTokens: 12, outputTokens: 322, reasoningTokens: 320 });
    // OpenAI counts them inside completion_tokens already: nothing to add.
    const openai = usageOf({
      prompt_tokens: 12,
      completion_tokens: 330,
      total_tokens: 342,
      completion_tokens_details: { reasoning_tokens: 320 },
    });
    expect(openai).toEqual({ inputTokens: 12, outputTokens: 330, reasoningTokens: 320 });
  });
});

describe('loop detection and retries', () => {
  it('retrying a call after a retryable failure is not a repeated action', async () => {
    let attempts = 0;
    const flaky = defineTool({
      name: 'fetch_page',
      description: 'f',
      input: z.object({ url: z.string() }),
      execute: () => {
        attempts++;
        if (attempts === 1)
          throw new ToolError('UPSTREAM_TIMEOUT', 'the site timed out', { retryable: true });
        return 'page';
      },
    });
    const model = scriptedModel([
      { toolCalls: [{ name: 'fetch_page', args: { url: 'https://a' } }] },
      { toolCalls: [{ name: 'fetch_page', args: { url: 'https://a' } }] },
      'got it',
    ]);
    const result = await run(defineAgent({ ...base, name: 'f', model, tools: [flaky] }), 'go');
    expect(result.status).toBe('completed');
    expect(attempts).toBe(2);
  });

  it('hammering the same failing call is still caught', async () => {
    let attempts = 0;
    const down = defineTool({
      name: 'fetch_page',
      description: 'f',
      input: z.object({ url: z.string() }),
      execute: () => {
        attempts++;
        throw new ToolError('UPSTREAM_TIMEOUT', 'the site timed out', { retryable: true });
      },
    });
    const model = scriptedModel(() => ({ toolCalls: [{ name: 'fetch_page', args: { url: 'https://a' } }] }));
    const agent = defineAgent({
      ...base,
      name: 'h',
      model,
      tools: [down],
      limits: { maxSteps: 20, noProgressSteps: 20 },
    });
    const result = await run(agent, 'go');
    expect(result.status).toBe('repeated_action');
    // The first call, maxRetryRepeats (2) retries, then the next identical call is refused.
    expect(attempts).toBe(3);
  });

  it('a repeat after a non-retryable failure is a repeated action, as before', async () => {
    const bad = defineTool({
      name: 'lookup',
      description: 'l',
      input: z.object({ id: z.string() }),
      execute: () => {
        throw new ToolError('NOT_FOUND', 'no such id');
      },
    });
    const model = scriptedModel(() => ({ toolCalls: [{ name: 'lookup', args: { id: 'x' } }] }));
    const result = await run(defineAgent({ ...base, name: 'n', model, tools: [bad] }), 'go');
    expect(result.status).toBe('repeated_action');
  });
});

describe('timers in range', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a delay past 2^31 ms waits its whole time instead of firing after 1 ms', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    let fired = 0;
    const thirtyDays = 30 * 24 * 60 * 60 * 1000;
    expect(thirtyDays).toBeGreaterThan(MAX_TIMER_MS);
    setLongTimeout(() => fired++, thirtyDays);
    vi.advanceTimersByTime(10);
    expect(fired).toBe(0);
    vi.advanceTimersByTime(MAX_TIMER_MS);
    expect(fired).toBe(0);
    vi.advanceTimersByTime(thirtyDays - MAX_TIMER_MS - 10);
    expect(fired).toBe(1);
  });

  it('a cleared long timer never fires, through its re-arms', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    let fired = 0;
    const timer = setLongTimeout(() => fired++, MAX_TIMER_MS * 2);
    vi.advanceTimersByTime(MAX_TIMER_MS + 5);
    timer.clear();
    vi.advanceTimersByTime(MAX_TIMER_MS * 2);
    expect(fired).toBe(0);
  });

  it('a 30-day run timeout and tool timeout do not fire early', async () => {
    const thirtyDays = 30 * 24 * 60 * 60 * 1000;
    const tool = defineTool({
      name: 'slowish',
      description: 's',
      input: z.object({}),
      timeoutMs: thirtyDays,
      execute: () => new Promise((resolve) => setTimeout(() => resolve('ok'), 20)),
    });
    const model = scriptedModel([{ toolCalls: [{ name: 'slowish', args: {} }] }, 'done']);
    const agent = defineAgent({
      ...base,
      name: 't',
      model,
      tools: [tool],
      limits: { timeoutMs: thirtyDays },
    });
    const result = await run(agent, 'go');
    expect(result.status).toBe('completed');
  });

  it('out-of-range limits are refused with the field named', () => {
    const model = scriptedModel(['x']);
    for (const [limits, field] of [
      [{ timeoutMs: Number.POSITIVE_INFINITY }, 'limits.timeoutMs'],
      [{ timeoutMs: Number.NaN }, 'limits.timeoutMs'],
      [{ maxTokens: Number.POSITIVE_INFINITY }, 'limits.maxTokens'],
      [{ maxRetryRepeats: -1 }, 'limits.maxRetryRepeats'],
    ] as const) {
      expect(() => defineAgent({ ...base, name: 'x', model, limits })).toThrowError(
        expect.objectContaining({ code: 'CONFIG_INVALID', details: expect.objectContaining({ field }) }),
      );
    }
    expect(() =>
      defineTool({
        name: 't',
        description: 'd',
        input: z.object({}),
        retry: { attempts: 2, maxDelayMs: Number.POSITIVE_INFINITY },
        execute: () => 'x',
      }),
    ).toThrowError(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});

describe('nested runs belong to the run that started them', () => {
  const inner = defineAgent({
    ...base,
    name: 'inner',
    model: scriptedModel(() => ({ text: 'inner answer', usage: { inputTokens: 200, outputTokens: 100 } })),
  });

  it('a run started from a tool draws from its caller’s lease and ledger', async () => {
    const ask = defineTool({
      name: 'ask_inner',
      description: 'asks another agent',
      input: z.object({}),
      // No options passed: the nested run finds its caller through the run scope.
      execute: async () => (await run(inner, 'question')).output,
    });
    const outer = defineAgent({
      ...base,
      name: 'outer',
      model: scriptedModel([{ toolCalls: [{ name: 'ask_inner', args: {} }] }, 'done']),
      tools: [ask],
    });
    const team = new Budget({ maxTokens: 10_000 });
    const result = await run(outer, 'go', { budget: team });
    expect(result.status).toBe('completed');
    // Own usage: two steps of 10 + 5; the nested run's 300 tokens were charged too.
    expect(result.usage).toEqual({ inputTokens: 20, outputTokens: 10 });
    expect(result.spent).toMatchObject({ steps: 3, tokens: 330 });
    expect(team.used).toMatchObject({ steps: 3, tokens: 330 });
  });

  it('the agent’s own token limit holds for what its tools start', async () => {
    const ask = defineTool({
      name: 'ask_inner',
      description: 'asks another agent',
      input: z.object({ n: z.number() }),
      execute: async () => (await run(inner, 'question')).output,
    });
    let n = 0;
    const outer = defineAgent({
      ...base,
      name: 'outer',
      model: scriptedModel(() => ({ toolCalls: [{ name: 'ask_inner', args: { n: n++ } }] })),
      tools: [ask],
      limits: { maxTokens: 700, maxSteps: 50 },
    });
    const result = await run(outer, 'go');
    expect(result.status).toBe('budget_exceeded');
    expect(result.spent?.tokens).toBeLessThan(700 + 300 + 15);
  });

  it('a run started from a tool stops when its caller stops', async () => {
    const innerAborted: string[] = [];
    const hangingInner = defineAgent({
      ...base,
      name: 'inner',
      model: scriptedModel([{ toolCalls: [{ name: 'hang', args: { n: 1 } }] }]),
      tools: [hangingTool(innerAborted)],
    });
    let scopeSeen: string | undefined;
    const ask = defineTool({
      name: 'ask_inner',
      description: 'asks',
      input: z.object({}),
      execute: async () => {
        scopeSeen = currentRunScope()?.agent;
        return (await run(hangingInner, 'question')).status;
      },
    });
    const outer = defineAgent({
      ...base,
      name: 'outer',
      model: scriptedModel([{ toolCalls: [{ name: 'ask_inner', args: {} }] }]),
      tools: [ask],
      limits: { timeoutMs: 100 },
    });
    const result = await run(outer, 'go');
    expect(scopeSeen).toBe('outer');
    expect(result.status).toBe('timeout');
    expect(innerAborted).toEqual(['hang']);
  });
});

describe('stream()', () => {
  it('leaving the loop early cancels the run', async () => {
    const aborted: string[] = [];
    const model = scriptedModel(() => ({ toolCalls: [{ name: 'hang', args: { n: 1 } }] }));
    const agent = defineAgent({ ...base, name: 's', model, tools: [hangingTool(aborted)] });
    const running = stream(agent, 'go');
    for await (const event of running) {
      if (event.type === 'tool.start') break;
    }
    const result = await running.result;
    expect(result.status).toBe('aborted');
    expect(result.error?.message).toContain('stream was closed');
    expect(aborted).toEqual(['hang']);
  });
});
