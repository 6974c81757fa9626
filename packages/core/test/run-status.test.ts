import { Budget, defineAgent, defineTool, type RunEvent, RunEvents, run } from '@baton/core';
import { scriptedModel } from '@baton/core/testing';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

const lookup = defineTool({
  name: 'lookup',
  description: 'Looks a word up',
  input: z.object({ word: z.string() }),
  execute: ({ word }) => ({ word, meaning: `meaning of ${word}` }),
});

describe('every run status, with the scripted model', () => {
  it('completed: tool call, tool result, final answer', async () => {
    const model = scriptedModel([
      { toolCalls: [{ name: 'lookup', args: { word: 'baton' } }] },
      'A baton is passed.',
    ]);
    const agent = defineAgent({ name: 'a', description: 'd', instructions: 'i', model, tools: [lookup] });
    const result = await run(agent, 'What is a baton?');
    expect(result.status).toBe('completed');
    expect(result.output).toBe('A baton is passed.');
    expect(result.steps).toBe(2);
    expect(result.usage).toEqual({ inputTokens: 20, outputTokens: 10 });
    expect(result.partial.toolResults).toMatchObject([{ tool: 'lookup', ok: true, data: { word: 'baton' } }]);
    expect(result.error).toBeUndefined();
    // The second request carried the tool result, paired with its call id and marked untrusted.
    const toolMessage = model.requests[1]?.messages.at(-1);
    expect(toolMessage).toMatchObject({ role: 'tool', toolCallId: 'call_1_0', toolName: 'lookup' });
    expect(toolMessage?.content).toContain('<untrusted_data source="tool:lookup">');
  });

  it('max_steps: a model that never stops calling tools', async () => {
    let n = 0;
    const model = scriptedModel(() => ({ toolCalls: [{ name: 'lookup', args: { word: `w${n++}` } }] }));
    const agent = defineAgent({
      name: 'a',
      description: 'd',
      instructions: 'i',
      model,
      tools: [lookup],
      limits: { maxSteps: 3 },
    });
    const result = await run(agent, 'go');
    expect(result.status).toBe('max_steps');
    expect(result.steps).toBe(3);
    expect(result.error).toMatchObject({ code: 'MAX_STEPS', category: 'limit' });
    expect(result.partial.toolResults).toHaveLength(3);
    expect(result.partial.summary).toContain('reached its step limit');
    expect(result.output).toBeUndefined();
  });

  it('timeout: a tool that never returns is aborted and the run ends on its timeout', async () => {
    let toolSignal: AbortSignal | undefined;
    const hang = defineTool({
      name: 'hang',
      description: 'Never returns',
      input: z.object({}),
      execute: (_input, context) => {
        toolSignal = context.signal;
        return new Promise<never>(() => undefined);
      },
    });
    const model = scriptedModel([{ toolCalls: [{ name: 'hang' }] }]);
    const agent = defineAgent({
      name: 'a',
      description: 'd',
      instructions: 'i',
      model,
      tools: [hang],
      limits: { timeoutMs: 300 },
    });
    const started = performance.now();
    const result = await run(agent, 'go');
    const elapsed = performance.now() - started;
    expect(result.status).toBe('timeout');
    expect(result.error?.code).toBe('TIMEOUT');
    // The abort reached the tool: that is what ended a call that would otherwise never return.
    expect(toolSignal?.aborted).toBe(true);
    // A hang would last forever: ending at all, within many times the 300 ms timeout, is the proof
    // (the exact overshoot depends on the machine's load, not on the loop).
    expect(elapsed).toBeLessThan(10_000);
    expect(result.partial.toolResults[0]).toMatchObject({ tool: 'hang', ok: false });
  });

  it('timeout: a model call in flight is aborted through its signal', async () => {
    // The model would answer after ten minutes: only the aborted signal can end the call sooner.
    const model = scriptedModel([{ text: 'late', delayMs: 600_000 }]);
    const agent = defineAgent({
      name: 'a',
      description: 'd',
      instructions: 'i',
      model,
      limits: { timeoutMs: 150 },
    });
    const started = performance.now();
    const result = await run(agent, 'go');
    expect(result.status).toBe('timeout');
    expect(model.requests[0]?.signal?.aborted).toBe(true);
    // Many times the 150 ms timeout, far below the model's ten minutes.
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it('budget_exceeded (tokens): the run stops before the step that would go over', async () => {
    let n = 0;
    const model = scriptedModel(() => ({ toolCalls: [{ name: 'lookup', args: { word: `w${n++}` } }] }), {
      usage: { inputTokens: 400, outputTokens: 100 },
    });
    const agent = defineAgent({
      name: 'a',
      description: 'd',
      instructions: 'i',
      model,
      tools: [lookup],
      limits: { maxTokens: 1_200, maxSteps: 10 },
    });
    const result = await run(agent, 'go');
    expect(result.status).toBe('budget_exceeded');
    expect(result.error?.code).toBe('BUDGET_TOKENS');
    expect(result.steps).toBe(3);
    expect(result.usage.inputTokens + result.usage.outputTokens).toBe(1_500);
  });

  it('budget_exceeded (cost): priced usage adds up to the cost limit', async () => {
    let n = 0;
    const model = scriptedModel(() => ({ toolCalls: [{ name: 'lookup', args: { word: `w${n++}` } }] }), {
      usage: { inputTokens: 1_000, outputTokens: 1_000 },
      price: { input: 1, output: 4 },
    });
    const agent = defineAgent({
      name: 'a',
      description: 'd',
      instructions: 'i',
      model,
      tools: [lookup],
      limits: { maxCostUsd: 0.012 },
    });
    const result = await run(agent, 'go');
    expect(result.status).toBe('budget_exceeded');
    expect(result.error?.code).toBe('BUDGET_COST');
    expect(result.steps).toBe(3);
    expect(result.costUsd).toBeCloseTo(0.015, 10);
  });

  it('budget_exceeded (shared ledger): a child run draws from its parent ledger', async () => {
    const team = new Budget({ maxTokens: 100 });
    team.charge({ tokens: 90 });
    const model = scriptedModel([{ toolCalls: [{ name: 'lookup', args: { word: 'x' } }] }, 'done']);
    const agent = defineAgent({ name: 'a', description: 'd', instructions: 'i', model, tools: [lookup] });
    const result = await run(agent, 'go', { budget: team });
    expect(result.status).toBe('budget_exceeded');
    expect(result.steps).toBe(1);
    expect(team.used.tokens).toBe(105);
    expect(team.used.steps).toBe(1);
  });

  it('repeated_action: the same tool with the same canonical arguments twice', async () => {
    const model = scriptedModel([
      { toolCalls: [{ name: 'lookup', args: { word: 'loop' } }] },
      { toolCalls: [{ name: 'lookup', args: { word: 'loop' } }] },
      'never reached',
    ]);
    const agent = defineAgent({ name: 'a', description: 'd', instructions: 'i', model, tools: [lookup] });
    const result = await run(agent, 'go');
    expect(result.status).toBe('repeated_action');
    expect(result.error).toMatchObject({ code: 'REPEATED_ACTION', details: { tool: 'lookup', count: 2 } });
    expect(result.partial.toolResults).toHaveLength(1);
  });

  it('no_progress: steps whose results bring nothing new', async () => {
    const constant = defineTool({
      name: 'status',
      description: 'Reports a status',
      input: z.object({ attempt: z.number() }),
      execute: () => 'still pending',
    });
    let n = 0;
    const model = scriptedModel(() => ({ toolCalls: [{ name: 'status', args: { attempt: n++ } }] }));
    const agent = defineAgent({
      name: 'a',
      description: 'd',
      instructions: 'i',
      model,
      tools: [constant],
      limits: { noProgressSteps: 2 },
    });
    const result = await run(agent, 'go');
    expect(result.status).toBe('no_progress');
    expect(result.error?.code).toBe('NO_PROGRESS');
    // Step 1 brings the first result (new), steps 2 and 3 repeat it.
    expect(result.steps).toBe(3);
  });

  it('failed: an output that never matches its schema, after one corrective retry', async () => {
    const model = scriptedModel(['not json', '{"score": "high"}']);
    const agent = defineAgent({
      name: 'a',
      description: 'd',
      instructions: 'i',
      model,
      output: z.object({ score: z.number() }),
    });
    const result = await run(agent, 'rate it');
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('OUTPUT_INVALID');
    expect(result.error?.message).toContain('score');
    expect(result.steps).toBe(2);
    expect(model.requests[1]?.messages.at(-1)?.content).toContain('does not match the required format');
    expect(result.partial.text).toBe('{"score": "high"}');
  });

  it('aborted: the caller aborts mid-run', async () => {
    const controller = new AbortController();
    // Far slower than any delay of the abort timer on a loaded machine: the abort always lands mid-call.
    const model = scriptedModel([{ text: 'slow', delayMs: 600_000 }]);
    const agent = defineAgent({ name: 'a', description: 'd', instructions: 'i', model });
    setTimeout(() => controller.abort(), 50);
    const result = await run(agent, 'go', { signal: controller.signal });
    expect(result.status).toBe('aborted');
    expect(result.error?.code).toBe('ABORTED');
  });

  it('failed: a provider error ends the run with that error, typed', async () => {
    const { BatonError } = await import('@baton/core');
    const model = scriptedModel([{ error: new BatonError('PROVIDER_AUTH', 'bad key') }]);
    const agent = defineAgent({ name: 'a', description: 'd', instructions: 'i', model });
    const result = await run(agent, 'go');
    expect(result.status).toBe('failed');
    expect(result.error).toMatchObject({ code: 'PROVIDER_AUTH', category: 'provider', retryable: false });
  });

  it('completed is refused until a required tool has returned ok', async () => {
    const model = scriptedModel([
      'I did it (I did not).',
      { toolCalls: [{ name: 'lookup', args: { word: 'x' } }] },
      'Now it is done.',
    ]);
    const agent = defineAgent({
      name: 'a',
      description: 'd',
      instructions: 'i',
      model,
      tools: [lookup],
      requiredTools: ['lookup'],
    });
    const result = await run(agent, 'go');
    expect(result.status).toBe('completed');
    expect(result.steps).toBe(3);
    expect(model.requests[1]?.messages.at(-1)?.content).toContain('you must call "lookup"');

    const liar = scriptedModel(['done', 'done, really']);
    const stubborn = agent.with({ model: liar });
    const refused = await run(stubborn, 'go');
    expect(refused.status).toBe('failed');
    expect(refused.error?.code).toBe('REQUIRED_TOOL_MISSING');
    expect(refused.partial.missing).toEqual(['lookup']);
  });

  it('emits run.start and run.end around every run, even failed ones', async () => {
    const events = new RunEvents();
    const seen: RunEvent['type'][] = [];
    events.on('*', (event) => seen.push(event.type));
    const agent = defineAgent({ name: 'a', description: 'd', instructions: 'i', model: scriptedModel([]) });
    const result = await run(agent, 'go', { events });
    expect(result.status).toBe('failed');
    expect(seen[0]).toBe('run.start');
    expect(seen.at(-1)).toBe('run.end');
  });
});
