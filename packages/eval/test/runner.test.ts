import { describe, expect, it } from 'vitest';
import { defineSuite, evalMarkdown, runSuite } from '../src/index.js';

const suite = defineSuite({
  name: 'mini',
  target: { team: 'research', model: 'offline' },
  threshold: 0.75,
  cases: [
    {
      id: 'retries',
      topic: 'retries with exponential backoff and jitter',
      checks: [
        { kind: 'citations', include: ['retries-and-backoff'] },
        { kind: 'tool-called', agent: 'researcher', tool: 'search_corpus' },
      ],
    },
    {
      id: 'wrong-expectation',
      topic: 'idempotency keys for tool calls',
      // A genuine failure: this report cites idempotency, not the retries document.
      checks: [
        { kind: 'citations', include: ['retries-and-backoff'] },
        { kind: 'contains', path: 'draft.title', text: 'Idempotency' },
      ],
    },
  ],
});

describe('runSuite', () => {
  it('runs each case, aggregates success, steps, tokens, cost and latency, and gates on the threshold', async () => {
    const progress: string[] = [];
    const report = await runSuite(suite, {
      samples: 2,
      onCase: (c, i, n) => progress.push(`${i + 1}/${n} ${c.id}`),
    });
    expect(progress).toEqual(['1/2 retries', '2/2 wrong-expectation']);
    expect(report.kind).toBe('baton.eval-report');
    expect(report.cases.map((c) => [c.id, c.passed, c.samples.length])).toEqual([
      ['retries', 2, 2],
      ['wrong-expectation', 0, 2],
    ]);
    const failing = report.cases[1]?.samples[0];
    expect(failing?.checks.map((check) => [check.kind, check.passed])).toEqual([
      ['status', true],
      ['citations', false],
      ['contains', true],
    ]);
    expect(failing?.checks[1]?.reason).toContain('does not cite retries-and-backoff');
    const s = report.summary;
    expect(s).toMatchObject({ cases: 2, samples: 4, passed: 2, successRate: 0.5, casesPassed: 1 });
    expect(s.checks.citations).toEqual({ passed: 2, total: 4 });
    expect(s.steps.mean).toBeGreaterThan(3);
    expect(s.steps.total).toBe(report.cases.flatMap((c) => c.samples).reduce((sum, x) => sum + x.steps, 0));
    expect(s.tokens.mean).toBeGreaterThan(1000);
    // The offline model prices its steps at $0: known, not unknown.
    expect(s.costUsd?.total).toBe(0);
    expect(s.latencyMs.p95).toBeGreaterThanOrEqual(s.latencyMs.p50);
    expect(report.threshold).toBe(0.75);
    expect(report.ok).toBe(false);
    expect((await runSuite(suite, { threshold: 0.5, only: ['retries'] })).ok).toBe(true);

    const markdown = evalMarkdown(report);
    expect(markdown).toContain('**FAIL**: success rate 50.0% (2/4 runs, 1/2 cases), threshold 75.0%');
    expect(markdown).toContain('### ❌ wrong-expectation');
    expect(markdown).toContain('does not cite retries-and-backoff');
  });

  it('runs a single agent as the target', async () => {
    const report = await runSuite(
      defineSuite({
        name: 'agent',
        target: { agent: 'researcher', model: 'offline' },
        cases: [
          {
            id: 'researcher-only',
            topic: 'rate limits from providers',
            checks: [
              { kind: 'tool-called', agent: 'researcher', tool: 'search_corpus' },
              { kind: 'schema', schema: { type: 'object', required: ['findings', 'sources'] } },
              { kind: 'regex', path: 'sources', pattern: 'rate-limits' },
            ],
          },
        ],
      }),
    );
    expect(report.ok).toBe(true);
    expect(report.cases[0]?.samples[0]).toMatchObject({ passed: true, status: 'completed' });
    await expect(runSuite(suite, { samples: 0 })).rejects.toMatchObject({ code: 'INPUT_INVALID' });
  });

  it('a suite that is not valid is refused with EVAL_SUITE_INVALID', () => {
    expect(() =>
      defineSuite({ name: 'x', target: { team: 'research' }, cases: [{ id: 'a', topic: 't', checks: [] }] }),
    ).toThrow(expect.objectContaining({ code: 'EVAL_SUITE_INVALID' }));
    expect(() =>
      defineSuite({
        name: 'x',
        target: { team: 'research' },
        cases: [
          { id: 'a', topic: 't', checks: [{ kind: 'status', equals: 'completed' }] },
          { id: 'a', topic: 'u', checks: [{ kind: 'status', equals: 'completed' }] },
        ],
      }),
    ).toThrow(/duplicate case id "a"/);
  });

  it('a variant that sets limits for a member the team lacks is an error, not a silent no-op', async () => {
    await expect(
      runSuite(suite, {
        variant: { team: 'research', model: 'offline', limits: { publisher: { maxSteps: 1 } } },
      }),
    ).rejects.toMatchObject({ code: 'EVAL_SUITE_INVALID' });
  });
});
