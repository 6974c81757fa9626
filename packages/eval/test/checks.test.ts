import { describe, expect, it } from 'vitest';
import { type Check, checkSchema, evaluateCheck, type TargetRun, type Variant } from '../src/index.js';

const variant: Variant = { team: 'research', model: 'offline' };

const goodReport = {
  topic: 'idempotency keys',
  draft: {
    title: 'Idempotency keys',
    summary: 'Keys make retried tool calls safe.',
    sections: [
      {
        heading: 'Overview',
        body: 'A caller attaches a unique key to each logical operation, and the receiver stores the key with the outcome [idempotency]. This brief explains why that matters for agents that retry tool calls after timeouts and crashes.',
        citations: ['idempotency'],
      },
      {
        heading: 'Keys from the operation',
        body: 'Derive the key from the logical operation, not from the attempt [idempotency]. A key built from the run id and the tool call id survives retries and redeliveries, so a second delivery returns the stored outcome [idempotency].',
        citations: ['idempotency'],
      },
      {
        heading: 'Recommendations',
        body: 'Attach a key derived from the run id and the tool call id to every side effect, and store the outcome with it, so that a retry or a redelivery returns the stored outcome instead of acting twice [idempotency].',
        citations: ['idempotency'],
      },
    ],
    citations: ['idempotency'],
  },
  verdict: { decision: 'approve', score: 10, issues: [] },
  sources: [{ id: 'idempotency', title: 'Idempotent tool calls and idempotency keys' }],
};

function run(overrides: Partial<TargetRun> = {}): TargetRun {
  return {
    runId: 'run-1',
    status: 'completed',
    output: goodReport,
    steps: 7,
    rounds: 2,
    usage: { inputTokens: 1000, outputTokens: 200 },
    costUsd: 0.002,
    latencyMs: 150,
    toolCalls: [
      { agent: 'researcher', tool: 'search_corpus', args: { query: 'idempotency keys' }, ok: true },
      { agent: 'researcher', tool: 'read_document', args: { id: 'idempotency' }, ok: true },
      { agent: 'researcher', tool: 'read_document', args: { id: 'missing' }, ok: false, code: 'NOT_FOUND' },
    ],
    transcript: [],
    ...overrides,
  };
}

async function check(value: Check, target = run()) {
  return evaluateCheck(checkSchema.parse(value), {
    run: target,
    input: { topic: 'idempotency keys' },
    variant,
  });
}

describe('checks: each kind passes and fails with a reason', () => {
  it('exact compares deeply, ignoring key order', async () => {
    const pass = await check({
      kind: 'exact',
      path: 'verdict',
      value: { score: 10, issues: [], decision: 'approve' },
    });
    expect(pass.passed).toBe(true);
    const fail = await check({ kind: 'exact', path: 'verdict.decision', value: 'revise' });
    expect(fail.passed).toBe(false);
    expect(fail.reason).toContain('expected "revise"');
    const missing = await check({ kind: 'exact', path: 'draft.nothing', value: 1 });
    expect(missing).toMatchObject({
      passed: false,
      reason: expect.stringContaining('no value at draft.nothing'),
    });
  });

  it('regex matches the text (or its JSON), and negate inverts it', async () => {
    expect(
      (await check({ kind: 'regex', path: 'draft.title', pattern: '^idempotency', flags: 'i' })).passed,
    ).toBe(true);
    const fail = await check({ kind: 'regex', path: 'draft.title', pattern: '^Retries' });
    expect(fail).toMatchObject({ passed: false, reason: expect.stringContaining('does not match') });
    expect(
      (await check({ kind: 'regex', path: 'draft.sections', pattern: 'TODO', negate: true })).passed,
    ).toBe(true);
    expect(
      (await check({ kind: 'regex', path: 'draft.sections', pattern: 'retries', negate: true })).passed,
    ).toBe(false);
  });

  it('contains is case-insensitive unless told otherwise', async () => {
    expect((await check({ kind: 'contains', path: 'draft.summary', text: 'RETRIED' })).passed).toBe(true);
    expect(
      (await check({ kind: 'contains', path: 'draft.summary', text: 'RETRIED', caseSensitive: true })).passed,
    ).toBe(false);
  });

  it('schema validates against a JSON Schema and names the failing field', async () => {
    const schema = {
      type: 'object',
      required: ['topic', 'sources'],
      properties: { topic: { type: 'string' }, sources: { type: 'array', minItems: 1 } },
    };
    expect((await check({ kind: 'schema', schema })).passed).toBe(true);
    const fail = await check({ kind: 'schema', schema }, run({ output: { topic: 'x', sources: [] } }));
    expect(fail).toMatchObject({ passed: false, reason: expect.stringContaining('sources') });
  });

  it('citations: enough, known, in every section, and the required ids', async () => {
    const pass = await check({ kind: 'citations', min: 1, include: ['idempotency'], everySection: true });
    expect(pass).toMatchObject({ passed: true, reason: '1 citation(s): idempotency' });
    expect((await check({ kind: 'citations', min: 2 })).reason).toContain('expected ≥ 2');
    expect((await check({ kind: 'citations', include: ['retries-and-backoff'] })).reason).toContain(
      'does not cite retries-and-backoff',
    );
    const invented = structuredClone(goodReport);
    invented.draft.sections[1]!.body += ' Jitter helps too [made-up].';
    const unknown = await check({ kind: 'citations' }, run({ output: invented }));
    expect(unknown).toMatchObject({
      passed: false,
      reason: expect.stringContaining('made-up, not among its sources'),
    });
    const uncited = structuredClone(goodReport);
    uncited.draft.sections[0]!.citations = [];
    uncited.draft.sections[0]!.body = 'No markers here.';
    const sectionFail = await check({ kind: 'citations', everySection: true }, run({ output: uncited }));
    expect(sectionFail).toMatchObject({
      passed: false,
      reason: expect.stringContaining('"Overview" cites nothing'),
    });
    expect((await check({ kind: 'citations' }, run({ output: 'Plain text [idempotency].' }))).passed).toBe(
      true,
    );
    expect((await check({ kind: 'citations' }, run({ output: 42 }))).passed).toBe(false);
  });

  it('tool-called counts ok calls by agent and argument subset', async () => {
    expect(
      (
        await check({
          kind: 'tool-called',
          tool: 'read_document',
          agent: 'researcher',
          args: { id: 'idempotency' },
        })
      ).passed,
    ).toBe(true);
    const wrongAgent = await check({ kind: 'tool-called', tool: 'read_document', agent: 'writer' });
    expect(wrongAgent).toMatchObject({
      passed: false,
      reason: expect.stringContaining('0 matching call(s)'),
    });
    // The failed read does not count as a call unless `ok: false` says failures count.
    expect(
      (await check({ kind: 'tool-called', tool: 'read_document', args: { id: 'missing' } })).passed,
    ).toBe(false);
    expect(
      (await check({ kind: 'tool-called', tool: 'read_document', args: { id: 'missing' }, ok: false }))
        .passed,
    ).toBe(true);
    expect((await check({ kind: 'tool-called', tool: 'search_corpus', max: 0 })).passed).toBe(false);
  });

  it('status and metric bound the run', async () => {
    expect((await check({ kind: 'status', equals: 'completed' })).passed).toBe(true);
    const stopped = await check(
      { kind: 'status', equals: 'completed' },
      run({ status: 'stopped', reason: 'max rounds' }),
    );
    expect(stopped).toMatchObject({
      passed: false,
      reason: 'status stopped, expected completed (max rounds)',
    });
    expect((await check({ kind: 'metric', metric: 'tokens', max: 1200 })).passed).toBe(true);
    expect((await check({ kind: 'metric', metric: 'steps', max: 6 })).reason).toBe('steps 7 (above 6)');
    const unknownCost = await check({ kind: 'metric', metric: 'costUsd', max: 1 }, run({ costUsd: null }));
    expect(unknownCost).toMatchObject({ passed: false, reason: expect.stringContaining('unknown') });
  });

  it('judge: the offline judge scores a good report high and a weak one low', async () => {
    const rubric = 'Cited, structured, with recommendations.';
    const pass = await check({ kind: 'judge', rubric, minScore: 8 });
    expect(pass.passed).toBe(true);
    expect(pass.score).toBeGreaterThanOrEqual(8);
    expect(pass.reason).toContain('offline rule-based judge');
    const weak = structuredClone(goodReport);
    weak.draft.sections = [weak.draft.sections[0]!];
    weak.draft.sections[0]!.body += ' It cites [nowhere] too.';
    const fail = await check({ kind: 'judge', rubric, minScore: 8 }, run({ output: weak }));
    expect(fail.passed).toBe(false);
    expect(fail.score).toBeLessThan(8);
    expect(fail.reason).toMatch(/score [\d.]+\/10 \(needs 8/);
  });

  it('a suite check that is not valid is refused by the schema', () => {
    expect(checkSchema.safeParse({ kind: 'regex', pattern: '' }).success).toBe(false);
    expect(checkSchema.safeParse({ kind: 'nope' }).success).toBe(false);
    expect(checkSchema.safeParse({ kind: 'judge', rubric: 'x', minScore: 11 }).success).toBe(false);
  });
});
