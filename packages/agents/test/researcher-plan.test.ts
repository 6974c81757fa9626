import { createCorpus, offlineModel, type ResearchFindings, researcher } from '@baton/agents';
import { type RunEvent, RunEvents, run } from '@baton/core';
import { scriptedModel } from '@baton/core/testing';
import { describe, expect, it } from 'vitest';

const topic = 'retries, timeouts and budgets for AI agents in production';

describe('the researcher in plan-execute mode, offline', () => {
  it('plans every search and read up front, runs them in two waves, and answers in 2 model steps', async () => {
    const events = new RunEvents();
    const seen: RunEvent[] = [];
    events.on('*', (event) => seen.push(event));
    const agent = researcher({ model: offlineModel('researcher'), planner: 'plan-execute' });
    const result = await run(agent, { topic }, { events });

    expect(result.status).toBe('completed');
    expect(result.steps).toBe(2);
    const created = seen.find((event) => event.type === 'plan.created');
    expect(created?.type === 'plan.created' ? created.plan?.steps.map((step) => step.use) : []).toEqual([
      'search_corpus',
      'search_corpus',
      'search_corpus',
      'search_corpus',
      'read_document',
      'read_document',
      'read_document',
      'read_document',
    ]);
    const findings = result.output as ResearchFindings;
    expect(findings.findings.length).toBeGreaterThanOrEqual(3);
    // Every cited id is a document the run read (the grounding check passed).
    const read = new Set(
      result.partial.toolResults
        .filter((record) => record.tool === 'read_document')
        .map((record) => (record.args as { id: string }).id),
    );
    for (const finding of findings.findings)
      for (const source of finding.sources) expect(read.has(source)).toBe(true);
    expect(seen.find((event) => event.type === 'grounding.checked')).toMatchObject({ ok: true });

    const react = await run(researcher({ model: offlineModel('researcher') }), { topic });
    expect(react.status).toBe('completed');
    expect(result.steps).toBeLessThan(react.steps);
  });

  it('re-plans when the plan reads more than the topic search found, and still answers', async () => {
    const corpus = createCorpus([
      {
        id: 'circuit-breakers',
        title: 'Circuit breakers for tool calls',
        text: 'A circuit breaker stops calling a tool that keeps failing and lets it recover before the next call. Circuit breakers protect agents from cascading tool failures in production.',
      },
      {
        id: 'breaker-tuning',
        title: 'Tuning circuit breakers',
        text: 'Tune a circuit breaker with a failure threshold, an open interval and a probe before it closes again. A breaker that opens too eagerly hides healthy tools from the agent.',
      },
    ]);
    const events = new RunEvents();
    const seen: RunEvent[] = [];
    events.on('*', (event) => seen.push(event));
    const agent = researcher({ model: offlineModel('researcher'), planner: 'plan-execute', corpus });
    const result = await run(agent, { topic: 'circuit breakers' }, { events });
    expect(result.status).toBe('completed');
    const replanned = seen.find((event) => event.type === 'plan.replanned');
    expect(
      replanned?.type === 'plan.replanned' ? replanned.failed.map((failure) => failure.code) : [],
    ).toEqual(['REFERENCE_UNRESOLVED', 'REFERENCE_UNRESOLVED']);
    const read = result.partial.toolResults.filter((record) => record.tool === 'read_document' && record.ok);
    expect(read.map((record) => (record.args as { id: string }).id).sort()).toEqual([
      'breaker-tuning',
      'circuit-breakers',
    ]);
  });

  it('sends back findings that cite a document the run never saw', async () => {
    const fake = JSON.stringify({
      topic,
      summary: 'made up',
      findings: [{ claim: 'Budgets matter a great deal in production systems.', sources: ['invented-doc'] }],
      sources: [{ id: 'invented-doc', title: 'Invented' }],
    });
    const model = scriptedModel([
      { toolCalls: [{ name: 'search_corpus', args: { query: 'budgets' } }] },
      fake,
      fake,
      fake,
    ]);
    const result = await run(researcher({ model }), { topic });
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('OUTPUT_UNGROUNDED');
    expect(researcher({ model, grounding: false }).config.grounding).toBeUndefined();
  });
});
