import { BatonMetric, defineAgent } from '@baton/core';
import { scriptedModel } from '@baton/core/testing';
import { pipeline, teamBundleOf } from '@baton/supervisor';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { histogram, installMeters, points } from './helpers.js';

let meters: ReturnType<typeof installMeters>;
beforeEach(() => {
  meters = installMeters();
});
afterEach(async () => {
  await meters.uninstall();
});

function member(name: string, reply: string) {
  return defineAgent({
    name,
    description: `The ${name}`,
    instructions: `You are the ${name}.`,
    model: scriptedModel([reply], {
      id: 'gpt-4.1-mini',
      provider: 'openai',
      usage: { inputTokens: 50, outputTokens: 10 },
    }),
  });
}

describe('team metrics', () => {
  it('records the team run by status with its bundle, and its members carry the team', async () => {
    const team = pipeline({
      name: 'brief',
      stages: [{ agent: member('researcher', 'notes') }, { agent: member('writer', 'the brief') }],
    });
    const result = await team.run('agents', { tenantId: 'acme' } as Parameters<typeof team.run>[1]);
    expect(result.status).toBe('completed');
    const bundle = teamBundleOf(team)?.hash;
    expect(bundle).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(result.bundle).toBe(bundle);

    const all = await meters.collect();
    const teams = points(all, BatonMetric.TEAM_RUNS);
    expect(teams).toHaveLength(1);
    expect(teams[0]?.value).toBe(1);
    expect(teams[0]?.attributes).toMatchObject({
      'baton.team': 'brief',
      'baton.run.status': 'completed',
      'baton.bundle': bundle,
      'baton.stop_reason': result.stopReason.kind,
    });
    const duration = histogram(all, BatonMetric.TEAM_DURATION)[0];
    expect(duration?.value.count).toBe(1);
    expect(duration?.value.sum).toBeCloseTo(result.durationMs / 1_000, 6);
    expect(histogram(all, BatonMetric.TEAM_TOKENS)[0]?.value.sum).toBe(120);
    expect(histogram(all, BatonMetric.TEAM_COST)[0]?.value.sum).toBeCloseTo(result.costUsd, 12);

    // Each member's run: its own bundle (the one the team's bundle covers), and the team it ran in.
    const covered = teamBundleOf(team)?.covers.members as Record<string, { hash: string }>;
    const members = points(all, BatonMetric.RUNS);
    expect(members.map((point) => point.attributes['gen_ai.agent.name']).sort()).toEqual([
      'researcher',
      'writer',
    ]);
    for (const point of members) {
      expect(point.attributes['baton.team']).toBe('brief');
      expect(point.attributes['baton.bundle']).toBe(
        covered[point.attributes['gen_ai.agent.name'] as string]?.hash,
      );
    }
  });
});
