import { defineAgent, defineTool, parseToolResult, run, ToolError, type ToolResult } from '@baton/core';
import { scriptedModel } from '@baton/core/testing';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

/** Runs one call of `tool` through a real agent and returns what the model was shown. */
async function callOnce(tool: ReturnType<typeof defineTool>, args: unknown = {}): Promise<ToolResult> {
  const model = scriptedModel([{ toolCalls: [{ name: tool.name, args }] }, 'ok']);
  const agent = defineAgent({ name: 't', description: 'd', instructions: 'i', model, tools: [tool] });
  await run(agent, 'go');
  const parsed = parseToolResult(String(model.requests[1]?.messages.at(-1)?.content));
  if (!parsed) throw new Error('no tool result in the conversation');
  return parsed.result;
}

describe('defineTool', () => {
  it('generates the JSON Schema the model sees, and marks strict-compatible schemas', () => {
    const tool = defineTool({
      name: 'weather',
      description: 'Weather for a city',
      input: z.object({ city: z.string().describe('City name'), unit: z.enum(['c', 'f']) }).strict(),
      execute: () => 'sunny',
    });
    expect(tool.spec).toEqual({
      name: 'weather',
      description: 'Weather for a city',
      parameters: {
        type: 'object',
        properties: {
          city: { type: 'string', description: 'City name' },
          unit: { type: 'string', enum: ['c', 'f'] },
        },
        required: ['city', 'unit'],
        additionalProperties: false,
      },
      strict: true,
    });
    const loose = defineTool({
      name: 'w2',
      description: 'd',
      input: z.object({ a: z.string().optional() }),
      execute: () => 1,
    });
    expect(loose.spec.strict).toBe(false);
  });

  it('throws at definition time, naming the field', () => {
    const base = { name: 'ok', description: 'd', input: z.object({}), execute: () => 1 };
    expect(() => defineTool({ ...base, name: 'has space' })).toThrow(/"name" must be/);
    expect(() => defineTool({ ...base, description: '' })).toThrow(/"description"/);
    expect(() => defineTool({ ...base, input: z.string() as never })).toThrow(/"input" must be a zod object/);
    expect(() => defineTool({ ...base, timeoutMs: -1 })).toThrow(/"timeoutMs"/);
    expect(() => defineTool({ ...base, retry: 0 })).toThrow(/"retry.attempts"/);
    expect(() => defineTool({ ...base, risk: 'write', cache: { ttlMs: 1_000 } })).toThrow(
      /"cache" must be only allowed on read tools/,
    );
    try {
      defineTool({ ...base, rateLimit: { perMinute: 0 } });
    } catch (error) {
      expect(error).toMatchObject({ code: 'CONFIG_INVALID', details: { field: 'rateLimit.perMinute' } });
    }
    expect(() => defineAgent({ name: 'a', description: 'd', instructions: 'i', model: {} as never })).toThrow(
      /"model"/,
    );
    expect(() =>
      defineAgent({
        name: 'a',
        description: 'd',
        instructions: 'i',
        model: scriptedModel([]),
        requiredTools: ['missing'],
      }),
    ).toThrow(/"requiredTools\[0\]" must be one of the agent's tools/);
    expect(() =>
      defineAgent({
        name: 'a',
        description: 'd',
        instructions: 'i',
        model: scriptedModel([]),
        limits: { maxSteps: 0 },
      }),
    ).toThrow(/"limits.maxSteps"/);
  });
});

describe('tool outcomes: each failure has its own clear message', () => {
  it('timeout aborts the tool signal and reports TOOL_TIMEOUT', async () => {
    let aborted = false;
    const slow = defineTool({
      name: 'slow',
      description: 'd',
      input: z.object({}),
      timeoutMs: 50,
      execute: (_input, { signal }) =>
        new Promise((_resolve, reject) =>
          signal.addEventListener('abort', () => {
            aborted = true;
            reject(signal.reason);
          }),
        ),
    });
    const result = await callOnce(slow);
    expect(result).toMatchObject({ ok: false, error: { code: 'TOOL_TIMEOUT', retryable: true } });
    expect(aborted).toBe(true);
  });

  it('retries retryable failures with backoff, then succeeds', async () => {
    let attempts = 0;
    const flaky = defineTool({
      name: 'flaky',
      description: 'd',
      input: z.object({}),
      retry: { attempts: 3, initialDelayMs: 5, maxDelayMs: 20 },
      execute: () => {
        attempts++;
        if (attempts < 3) throw new ToolError('UPSTREAM_503', 'upstream unavailable', { retryable: true });
        return 'finally';
      },
    });
    expect(await callOnce(flaky)).toEqual({ ok: true, data: 'finally' });
    expect(attempts).toBe(3);
  });

  it('does not retry non-retryable failures and keeps the tool code and hint', async () => {
    let attempts = 0;
    const missing = defineTool({
      name: 'missing',
      description: 'd',
      input: z.object({}),
      retry: 3,
      execute: () => {
        attempts++;
        throw new ToolError('NOT_FOUND', 'no such document', { hint: 'search first' });
      },
    });
    expect(await callOnce(missing)).toEqual({
      ok: false,
      error: { code: 'NOT_FOUND', message: 'no such document', retryable: false, hint: 'search first' },
    });
    expect(attempts).toBe(1);
  });

  it('a plain thrown error becomes TOOL_FAILED, never an exception in the loop', async () => {
    const broken = defineTool({
      name: 'broken',
      description: 'd',
      input: z.object({}),
      execute: () => {
        throw new TypeError('x is undefined');
      },
    });
    expect(await callOnce(broken)).toMatchObject({
      ok: false,
      error: { code: 'TOOL_FAILED', message: 'x is undefined' },
    });
  });

  it('an empty result says so', async () => {
    const empty = defineTool({ name: 'empty', description: 'd', input: z.object({}), execute: () => [] });
    expect(await callOnce(empty)).toMatchObject({ ok: false, error: { code: 'TOOL_EMPTY_RESULT' } });
  });

  it('an output that breaks its schema is the tool fault', async () => {
    const wrong = defineTool({
      name: 'wrong',
      description: 'd',
      input: z.object({}),
      output: z.object({ n: z.number() }),
      execute: () => ({ n: 'one' }) as never,
    });
    expect(await callOnce(wrong)).toMatchObject({ ok: false, error: { code: 'TOOL_OUTPUT_INVALID' } });
  });

  it('rate limits per run', async () => {
    const limited = defineTool({
      name: 'limited',
      description: 'd',
      input: z.object({ n: z.number() }),
      rateLimit: { perRun: 2 },
      execute: ({ n }) => n,
    });
    const model = scriptedModel([
      { toolCalls: [1, 2, 3].map((n) => ({ name: 'limited', args: { n } })) },
      'ok',
    ]);
    const agent = defineAgent({ name: 't', description: 'd', instructions: 'i', model, tools: [limited] });
    const result = await run(agent, 'go');
    expect(result.partial.toolResults.map((r) => r.ok)).toEqual([true, true, false]);
    expect(result.partial.toolResults[2]?.error).toMatchObject({
      code: 'TOOL_RATE_LIMITED',
      retryable: false,
    });
  });

  it('rate limits per minute across runs', async () => {
    const limited = defineTool({
      name: 'per_minute',
      description: 'd',
      input: z.object({ n: z.number() }),
      rateLimit: { perMinute: 2 },
      execute: ({ n }) => n,
    });
    expect((await callOnce(limited, { n: 1 })).ok).toBe(true);
    expect((await callOnce(limited, { n: 2 })).ok).toBe(true);
    const third = await callOnce(limited, { n: 3 });
    expect(third).toMatchObject({ ok: false, error: { code: 'TOOL_RATE_LIMITED', retryable: true } });
    expect(third.ok ? '' : third.error.hint).toMatch(/frees up in \d+ s/);
  });

  it('caches read results by canonical arguments', async () => {
    let calls = 0;
    const cached = defineTool({
      name: 'cached',
      description: 'd',
      input: z.object({ a: z.number(), b: z.number() }),
      cache: { ttlMs: 60_000, max: 10 },
      execute: ({ a, b }) => {
        calls++;
        return a + b;
      },
    });
    await callOnce(cached, { a: 1, b: 2 });
    expect(await callOnce(cached, { b: 2, a: 1 })).toEqual({ ok: true, data: 3 });
    expect(calls).toBe(1);
  });

  it('truncates large results to the token budget and says so', async () => {
    const big = defineTool({
      name: 'big',
      description: 'd',
      input: z.object({}),
      maxResultTokens: 50,
      execute: () => 'word '.repeat(2_000),
    });
    const model = scriptedModel([{ toolCalls: [{ name: 'big' }] }, 'ok']);
    const agent = defineAgent({ name: 't', description: 'd', instructions: 'i', model, tools: [big] });
    const result = await run(agent, 'go');
    const content = String(model.requests[1]?.messages.at(-1)?.content);
    expect(content).toMatch(/\[truncated: showing 50 of \d+ tokens/);
    expect(content.length).toBeLessThan(600);
    // The run keeps the full data; only the model's view is cut.
    expect(String(result.partial.toolResults[0]?.data).length).toBe(10_000);
  });
});
