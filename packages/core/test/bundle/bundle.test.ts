import {
  agentConfigHash,
  bundleOf,
  defineAgent,
  defineTool,
  diffBundles,
  makeBundle,
  memoryJournal,
  run,
} from '@baton/core';
import { scriptedModel } from '@baton/core/testing';
import { pipeline, teamBundleOf } from '@baton/supervisor';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

const search = (description = 'Searches the corpus') =>
  defineTool({
    name: 'search',
    description,
    input: z.object({ query: z.string(), limit: z.number().int().optional() }),
    execute: () => [],
  });

function agent(overrides: Record<string, unknown> = {}) {
  return defineAgent({
    name: 'researcher',
    description: 'Finds sources',
    instructions: 'Find three sources.',
    model: scriptedModel(['done'], { id: 'gpt-4.1-mini', provider: 'openai' }),
    tools: [search()],
    limits: { maxSteps: 8 },
    temperature: 0.2,
    ...overrides,
  });
}

describe('agent bundles', () => {
  it('is the same for the same configuration, built twice, whatever the key order', () => {
    const a = bundleOf(agent());
    const b = bundleOf(agent());
    expect(a.hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(b.hash).toBe(a.hash);
    const reordered = defineAgent({
      temperature: 0.2,
      limits: { maxSteps: 8 },
      tools: [search()],
      model: scriptedModel(['other replies do not matter'], { provider: 'openai', id: 'gpt-4.1-mini' }),
      instructions: 'Find three sources.',
      description: 'Finds sources',
      name: 'researcher',
    });
    expect(bundleOf(reordered).hash).toBe(a.hash);
    // The covered JSON is plain data: equal values hash equal after a round trip through a file.
    const copy = JSON.parse(JSON.stringify(a.covers)) as Record<string, unknown>;
    expect(makeBundle('agent', 'researcher', copy).hash).toBe(a.hash);
  });

  it('changes with instructions, a tool schema or description, the model, its parameters, limits and guardrails', () => {
    const base = bundleOf(agent()).hash;
    const changed = {
      instructions: agent({ instructions: 'Find four sources.' }),
      schema: agent({
        tools: [
          defineTool({
            name: 'search',
            description: 'Searches the corpus',
            input: z.object({ query: z.string(), limit: z.number().int().max(5).optional() }),
            execute: () => [],
          }),
        ],
      }),
      description: agent({ tools: [search('Searches the web')] }),
      model: agent({ model: scriptedModel(['done'], { id: 'gpt-4.1', provider: 'openai' }) }),
      temperature: agent({ temperature: 0.7 }),
      limits: agent({ limits: { maxSteps: 9 } }),
      guardrails: agent({ guardrails: { input: [{ name: 'no-pii', check: () => ({ action: 'pass' }) }] } }),
    };
    const hashes = Object.fromEntries(Object.entries(changed).map(([what, a]) => [what, bundleOf(a).hash]));
    for (const [what, hash] of Object.entries(hashes)) expect(hash, what).not.toBe(base);
    expect(new Set(Object.values(hashes)).size).toBe(Object.keys(hashes).length);
  });

  it('is immutable and names what changed', () => {
    const a = bundleOf(agent());
    expect(Object.isFrozen(a)).toBe(true);
    expect(Object.isFrozen(a.covers)).toBe(true);
    expect(() => {
      (a.covers as Record<string, unknown>).instructions = 'x';
    }).toThrow();
    // Freezing the covered copy leaves the agent's own objects alone.
    const fresh = agent();
    const parameters = fresh.tools.get('search')?.spec.parameters as object;
    const frozenBefore = Object.isFrozen(parameters);
    bundleOf(fresh);
    expect(Object.isFrozen(parameters)).toBe(frozenBefore);

    const b = bundleOf(agent({ instructions: 'Find four sources.', limits: { maxSteps: 9 } }));
    const changes = diffBundles(a, b);
    expect(changes.map((change) => change.path).sort()).toEqual(['instructions', 'limits.maxSteps']);
    expect(changes.find((change) => change.path === 'limits.maxSteps')).toMatchObject({
      before: 8,
      after: 9,
    });
    expect(diffBundles(a, bundleOf(agent()))).toEqual([]);
  });

  it('is on the run result and in the journal run.started entry, beside the resume config hash', async () => {
    const a = agent();
    const journal = memoryJournal();
    const result = await run(a, 'go', { journal, runId: 'r-1' });
    expect(result.bundle).toBe(bundleOf(a).hash);
    const started = (await journal.read('r-1'))
      .map((entry) => entry.record)
      .find((record) => record.type === 'run.started');
    expect(started).toMatchObject({ bundle: bundleOf(a).hash, configHash: agentConfigHash(a) });
  });
});

describe('team bundles', () => {
  const writer = (instructions = 'Write the brief.') =>
    defineAgent({
      name: 'writer',
      description: 'Writes',
      instructions,
      model: scriptedModel(['brief'], { id: 'gpt-4.1-mini', provider: 'openai' }),
    });

  it('covers the topology and every member, and changes when a member changes', () => {
    const team = (w = writer()) => pipeline({ name: 'brief', stages: [{ agent: agent() }, { agent: w }] });
    const a = teamBundleOf(team());
    const b = teamBundleOf(team());
    expect(a?.hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(b?.hash).toBe(a?.hash);
    expect(a?.kind).toBe('team');
    expect(Object.keys(a?.covers.members as object)).toEqual(['researcher', 'writer']);

    const edited = teamBundleOf(team(writer('Write a longer brief.')));
    expect(edited?.hash).not.toBe(a?.hash);
    const changes = diffBundles(a as never, edited as never);
    expect(changes.map((change) => change.path)).toContain('members.writer.covers.instructions');

    const reordered = teamBundleOf(
      pipeline({ name: 'brief', stages: [{ agent: writer() }, { agent: agent() }] }),
    );
    expect(reordered?.hash).not.toBe(a?.hash);
  });

  it('is on the invoke_workflow and invoke_agent spans (baton.bundle)', async () => {
    const exporter = new InMemorySpanExporter();
    const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).getTracer(
      't',
    );
    const team = pipeline({ name: 'brief', stages: [{ agent: agent() }, { agent: writer() }] });
    await team.run('go', { tracer });
    const spans = exporter.getFinishedSpans();
    const workflow = spans.find((span) => span.name === 'invoke_workflow brief');
    expect(workflow?.attributes['baton.bundle']).toBe(teamBundleOf(team)?.hash);
    const members = teamBundleOf(team)?.covers.members as Record<string, { hash: string }>;
    const researcher = spans.find((span) => span.name === 'invoke_agent researcher');
    expect(researcher?.attributes['baton.bundle']).toBe(members.researcher?.hash);
  });

  it('is on the team result and in its journal', async () => {
    const team = pipeline({ name: 'brief', stages: [{ agent: agent() }, { agent: writer() }] });
    const journal = memoryJournal();
    const result = await team.run('go', { journal, runId: 't-1' });
    expect(result.status).toBe('completed');
    expect(result.bundle).toBe(teamBundleOf(team)?.hash);
    const records = (await journal.read('t-1')).map((entry) => entry.record);
    expect(records.find((record) => record.type === 'run.started')).toMatchObject({
      kind: 'team',
      bundle: result.bundle,
    });
  });
});
