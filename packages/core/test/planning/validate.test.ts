import {
  extractPlanJson,
  type PlanBounds,
  type PlanCapability,
  type PlanViolationCode,
  parseRef,
  resolveRefs,
  validatePlan,
} from '@baton/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

const searchOutput = {
  type: 'object',
  properties: {
    results: {
      type: 'array',
      items: { type: 'object', properties: { id: { type: 'string' }, title: { type: 'string' } } },
    },
  },
};

function bounds(extra: Partial<PlanBounds> = {}): PlanBounds {
  const capabilities = new Map<string, PlanCapability>([
    [
      'search',
      { name: 'search', input: z.object({ query: z.string().min(2) }), output: searchOutput, maxTokens: 500 },
    ],
    ['read', { name: 'read', input: z.object({ id: z.string() }), maxTokens: 1_000 }],
    [
      'send_email',
      { name: 'send_email', denied: 'its risk (destructive) is above what this run may do (read)' },
    ],
  ]);
  return { kind: 'tool', capabilities, maxSteps: 6, ...extra };
}

const codes = (verdict: ReturnType<typeof validatePlan>): PlanViolationCode[] =>
  verdict.valid ? [] : verdict.violations.map((violation) => violation.code);

const good = {
  goal: 'answer from the docs',
  steps: [
    { id: 's1', use: 'search', input: { query: 'budgets' }, produces: 'hits' },
    { id: 's2', use: 'search', input: { query: 'timeouts' }, produces: 'hits' },
    { id: 's3', use: 'read', input: { id: { $ref: 's1.results.0.id' } }, dependsOn: ['s1'], produces: 'doc' },
    { id: 's4', use: 'read', input: { id: { $ref: 's2.results[0].id' } }, produces: 'doc' },
  ],
};

describe('validatePlan', () => {
  it('accepts a DAG whose references read existing outputs (a reference is a dependency too)', () => {
    const verdict = validatePlan(good, bounds());
    expect(verdict.valid).toBe(true);
  });

  it('refuses a forward reference, naming the step and the step it reads', () => {
    const plan = {
      goal: 'g',
      steps: [
        { id: 's1', use: 'read', input: { id: { $ref: 's2.results.0.id' } }, produces: 'doc' },
        { id: 's2', use: 'search', input: { query: 'budgets' }, produces: 'hits' },
      ],
    };
    const verdict = validatePlan(plan, bounds());
    expect(codes(verdict)).toEqual(['forward_reference']);
    expect(verdict.valid ? '' : verdict.violations[0]?.message).toContain('"s2", which comes later');
    expect(verdict.valid ? '' : verdict.violations[0]?.step).toBe('s1');
  });

  it('refuses an unknown tool and suggests the closest name', () => {
    const verdict = validatePlan(
      { goal: 'g', steps: [{ id: 's1', use: 'serch', input: { query: 'x y' }, produces: 'hits' }] },
      bounds(),
    );
    expect(codes(verdict)).toEqual(['unknown_tool']);
    expect(verdict.valid ? '' : verdict.violations[0]?.message).toContain('did you mean "search"');
  });

  it('refuses a cycle once, with its path, not as forward references too', () => {
    const plan = {
      goal: 'g',
      steps: [
        { id: 'a', use: 'search', input: { query: 'xx' }, dependsOn: ['b'], produces: 'x' },
        { id: 'b', use: 'search', input: { query: 'yy' }, dependsOn: ['a'], produces: 'y' },
        { id: 'c', use: 'search', input: { query: 'zz' }, dependsOn: ['c'], produces: 'z' },
      ],
    };
    const verdict = validatePlan(plan, bounds());
    expect(codes(verdict).sort()).toEqual(['cycle', 'cycle']);
    const messages = verdict.valid ? [] : verdict.violations.map((violation) => violation.message);
    expect(messages.join('\n')).toMatch(/a → b → a|b → a → b/);
    expect(messages.join('\n')).toContain('c → c');
  });

  it('refuses references to missing steps and to output fields that do not exist', () => {
    const plan = {
      goal: 'g',
      steps: [
        { id: 's1', use: 'search', input: { query: 'budgets' }, produces: 'hits' },
        { id: 's2', use: 'read', input: { id: { $ref: 's1.reslts.0.id' } }, produces: 'doc' },
        { id: 's3', use: 'read', input: { id: { $ref: 's9' } }, produces: 'doc' },
        { id: 's4', use: 'read', input: { id: { $ref: 's1.results.title' } }, produces: 'doc' },
      ],
    };
    const verdict = validatePlan(plan, bounds());
    expect(codes(verdict)).toEqual(['unknown_output', 'unknown_reference', 'unknown_output']);
    const text = verdict.valid ? '' : verdict.violations.map((violation) => violation.message).join('\n');
    expect(text).toContain('has no "reslts" (its fields: results)');
    expect(text).toContain('is a list');
  });

  it('checks static inputs, the policy, the step cap, per-run rate limits and the budget', () => {
    const capabilities = new Map(bounds().capabilities);
    capabilities.set('search', { ...(capabilities.get('search') as PlanCapability), callsLeft: 1 });
    const plan = {
      goal: 'g',
      steps: [
        { id: 's1', use: 'search', input: { query: 'x' }, produces: 'hits' },
        { id: 's2', use: 'search', input: { query: 'longer' }, produces: 'hits' },
        { id: 's3', use: 'send_email', input: {}, produces: 'sent' },
      ],
    };
    const verdict = validatePlan(plan, {
      ...bounds(),
      capabilities,
      maxSteps: 2,
      tokensLeft: 900,
      baseTokens: 100,
    });
    expect(codes(verdict).sort()).toEqual(
      ['input_invalid', 'not_allowed', 'over_budget', 'rate_limit', 'too_many_steps'].sort(),
    );
  });

  it('refuses duplicate ids, ids of steps already done, and a repeat of a call that failed', () => {
    const plan = {
      goal: 'g',
      steps: [
        { id: 's1', use: 'search', input: { query: 'budgets' }, produces: 'hits' },
        { id: 's1', use: 'search', input: { query: 'other' }, produces: 'hits' },
        { id: 'old', use: 'read', input: { id: { $ref: 'done1.results.0.id' } }, produces: 'doc' },
      ],
    };
    const verdict = validatePlan(plan, {
      ...bounds(),
      done: new Map([
        ['done1', 'search'],
        ['old', 'read'],
      ]),
      failedCalls: new Set(['search:{"query":"budgets"}']),
    });
    expect(codes(verdict).sort()).toEqual(['duplicate_step', 'duplicate_step', 'repeats_failed_call'].sort());
  });

  it('reports a plan that is not a plan with the schema problems', () => {
    const verdict = validatePlan({ goal: 'g', steps: [{ id: '1x', use: 'search' }] }, bounds());
    expect(codes(verdict).every((code) => code === 'plan_schema')).toBe(true);
    expect(extractPlanJson('Here you go:\n```json\n{"goal":"g","steps":[]}\n```').ok).toBe(true);
    expect(extractPlanJson('no plan here')).toMatchObject({
      ok: false,
      violation: { code: 'plan_unreadable' },
    });
  });
});

describe('references', () => {
  it('resolve into outputs, and say precisely what is missing', () => {
    expect(parseRef('s1.results[2].id')).toEqual({ step: 's1', path: ['results', 2, 'id'] });
    const outputs = new Map<string, unknown>([['s1', { results: [{ id: 'a' }, { id: 'b' }] }]]);
    expect(resolveRefs({ ids: [{ $ref: 's1.results.1.id' }], n: 3 }, outputs)).toEqual({
      ok: true,
      value: { ids: ['b'], n: 3 },
    });
    const missing = resolveRefs({ id: { $ref: 's1.results.2.id' } }, outputs);
    expect(missing).toMatchObject({ ok: false });
    expect(missing.ok ? '' : missing.problem).toContain('s1.results has no "2" (an array of 2)');
  });
});

describe('duplicate calls', () => {
  it('refuses two steps making the same call, and a call the run already made', () => {
    const plan = {
      goal: 'g',
      steps: [
        { id: 's1', use: 'search', input: { query: 'budgets' }, produces: 'hits' },
        { id: 's2', use: 'search', input: { query: 'budgets' }, produces: 'the same hits' },
        { id: 's3', use: 'read', input: { id: 'doc-1' }, produces: 'doc' },
      ],
    };
    const verdict = validatePlan(plan, { ...bounds(), madeCalls: new Set(['read:{"id":"doc-1"}']) });
    expect(
      verdict.valid ? [] : verdict.violations.map((violation) => `${violation.code}@${violation.step}`),
    ).toEqual(['duplicate_call@s2', 'duplicate_call@s3']);
  });
});
