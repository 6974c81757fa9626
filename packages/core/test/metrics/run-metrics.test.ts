import { BatonMetric, bundleOf, defineAgent, defineTool, type Guard, metricsEnabled, run } from '@baton/core';
import { scriptedModel } from '@baton/core/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { histogram, installMeters, points } from './helpers.js';

let meters: ReturnType<typeof installMeters>;
beforeEach(() => {
  meters = installMeters();
});
afterEach(async () => {
  await meters.uninstall();
});

const lookup = defineTool({
  name: 'lookup',
  description: 'Looks up',
  input: z.object({ q: z.string() }),
  execute: ({ q }) => `found ${q}`,
});
const broken = defineTool({
  name: 'broken',
  description: 'Always fails',
  input: z.object({}),
  execute: () => {
    throw new Error('upstream down');
  },
});

function researcher(replies: Parameters<typeof scriptedModel>[0], extra: object = {}) {
  return defineAgent({
    name: 'researcher',
    description: 'Finds things',
    instructions: 'Find things.',
    model: scriptedModel(replies, {
      id: 'gpt-4.1-mini',
      provider: 'openai',
      usage: { inputTokens: 100, outputTokens: 20 },
    }),
    tools: [lookup, broken],
    ...extra,
  });
}

describe('run metrics', () => {
  it('records the run, its steps, latency, tokens, cost and every tool call with the agent, model, tenant and bundle', async () => {
    const agent = researcher([
      { toolCalls: [{ name: 'lookup', args: { q: 'a' }, id: 'c1' }] },
      { toolCalls: [{ name: 'broken', args: {}, id: 'c2' }] },
      'done',
    ]);
    const result = await run(agent, 'go', { tenantId: 'acme' });
    expect(result.status).toBe('completed');
    expect(result.bundle).toBe(bundleOf(agent).hash);
    const all = await meters.collect();

    const base = {
      'gen_ai.agent.name': 'researcher',
      'gen_ai.request.model': 'gpt-4.1-mini',
      'baton.tenant.id': 'acme',
      'baton.bundle': result.bundle,
    };
    const runs = points(all, BatonMetric.RUNS);
    expect(runs).toHaveLength(1);
    expect(runs[0]?.attributes).toEqual({ ...base, 'baton.run.status': 'completed' });
    expect(runs[0]?.value).toBe(1);

    const steps = histogram(all, BatonMetric.RUN_STEPS)[0];
    expect(steps?.value.count).toBe(1);
    expect(steps?.value.sum).toBe(3);
    const duration = histogram(all, BatonMetric.RUN_DURATION)[0];
    expect(duration?.value.sum).toBeCloseTo(result.durationMs / 1_000, 6);
    expect(histogram(all, BatonMetric.RUN_TOKENS)[0]?.value.sum).toBe(360);
    expect(histogram(all, BatonMetric.RUN_COST)[0]?.value.sum).toBeCloseTo(result.costUsd, 12);
    expect(result.costUsd).toBeGreaterThan(0);

    // One step-duration point per step, on the run's attributes (no status: it is known at the end only).
    const stepPoints = histogram(all, BatonMetric.STEP_DURATION);
    expect(stepPoints).toHaveLength(1);
    expect(stepPoints[0]?.attributes).toEqual(base);
    expect(stepPoints[0]?.value.count).toBe(3);

    const calls = points(all, BatonMetric.TOOL_CALLS);
    const byTool = Object.fromEntries(
      calls.map((point) => [
        `${point.attributes['gen_ai.tool.name']}:${point.attributes['baton.outcome']}`,
        point.value,
      ]),
    );
    expect(byTool).toEqual({ 'lookup:ok': 1, 'broken:error': 1 });
    const errors = points(all, BatonMetric.TOOL_ERRORS);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.attributes).toMatchObject({ ...base, 'gen_ai.tool.name': 'broken' });
    expect(typeof errors[0]?.attributes['error.type']).toBe('string');
  });

  it('counts runs by status across runs, and leaves the cost of unpriced runs out (unknown, not $0)', async () => {
    await run(researcher(['done']), 'a');
    await run(
      researcher([{ toolCalls: [{ name: 'lookup', args: { q: 'x' }, id: 'c' }] }], {
        limits: { maxSteps: 1 },
      }),
      'b',
    );
    const unpriced = defineAgent({
      name: 'local',
      description: 'A local model with no price',
      instructions: 'i',
      model: scriptedModel(['ok'], {
        id: 'my-local-model',
        provider: 'openai-compatible',
        usage: { inputTokens: 5, outputTokens: 5 },
      }),
    });
    const result = await run(unpriced, 'c');
    expect(result.unpriced).toBeDefined();
    const all = await meters.collect();
    const byStatus = Object.fromEntries(
      points(all, BatonMetric.RUNS).map((point) => [
        `${point.attributes['gen_ai.agent.name']}:${point.attributes['baton.run.status']}`,
        point.value,
      ]),
    );
    expect(byStatus).toEqual({ 'researcher:completed': 1, 'researcher:max_steps': 1, 'local:completed': 1 });
    const costed = histogram(all, BatonMetric.RUN_COST).map((point) => point.attributes['gen_ai.agent.name']);
    expect(costed).not.toContain('local');
    expect(points(all, BatonMetric.RUNS_UNPRICED)).toEqual([
      expect.objectContaining({
        value: 1,
        attributes: expect.objectContaining({ 'gen_ai.agent.name': 'local' }),
      }),
    ]);
  });

  it('counts a guard trip by guard, and approvals by decision', async () => {
    const noSecrets: Guard = {
      name: 'no-secrets',
      check: (value) =>
        String(value).includes('secret') ? { action: 'trip', reason: 'a secret' } : { action: 'pass' },
    };
    const guarded = researcher(['never'], { guardrails: { input: [noSecrets] } });
    const tripped = await run(guarded, 'the secret is 42');
    expect(tripped.status).toBe('guardrail_tripped');

    const remove = defineTool({
      name: 'remove',
      description: 'Deletes',
      input: z.object({ id: z.string() }),
      risk: 'destructive',
      execute: () => 'gone',
    });
    const cautious = () =>
      defineAgent({
        name: 'cleaner',
        description: 'Cleans',
        instructions: 'i',
        model: scriptedModel([{ toolCalls: [{ name: 'remove', args: { id: '1' }, id: 'r1' }] }, 'done']),
        tools: [remove],
      });
    const denied = await run(cautious(), 'go', { approve: () => ({ decision: 'deny', reason: 'no' }) });
    expect(denied.status).toBe('denied');
    const paused = await run(cautious(), 'go');
    expect(paused.status).toBe('awaiting_approval');

    const all = await meters.collect();
    const trips = points(all, BatonMetric.GUARD_TRIPS);
    expect(trips).toHaveLength(1);
    expect(trips[0]?.attributes).toMatchObject({
      'gen_ai.agent.name': 'researcher',
      'baton.guard': 'no-secrets',
    });
    const approvals = Object.fromEntries(
      points(all, BatonMetric.APPROVALS).map((point) => [
        point.attributes['baton.approval.decision'],
        point.value,
      ]),
    );
    expect(approvals).toEqual({ deny: 1, pending: 1 });
  });

  it('records nothing, and costs one check, without a MeterProvider', async () => {
    await meters.uninstall();
    expect(metricsEnabled()).toBe(false);
    const result = await run(
      researcher([{ toolCalls: [{ name: 'lookup', args: { q: 'a' }, id: 'c1' }] }, 'done']),
      'go',
    );
    expect(result.status).toBe('completed');
    // A provider registered afterwards gets instruments of its own on its first use.
    meters = installMeters();
    expect(metricsEnabled()).toBe(true);
    await run(researcher(['done']), 'go');
    const all = await meters.collect();
    expect(points(all, BatonMetric.RUNS).reduce((n, point) => n + point.value, 0)).toBe(1);
  });
});
