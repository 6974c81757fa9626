import { offlineModel, researcher } from '@baton/agents';
import { InProcessBus, serveAgent } from '@baton/bus';
import { BatonError } from '@baton/core';
import type { TeamResult } from '@baton/supervisor';
import {
  AGENT_NAMES,
  catalogueTeam,
  localMembers,
  remoteMembers,
  researchTeam,
  servableAgent,
  TEAM_NAMES,
} from '@baton/teams';
import { afterEach, describe, expect, it } from 'vitest';

const topic = 'loop detection and no-progress limits';

/** The handoffs of a team run, as `from->to:status`. */
const route = (result: TeamResult) => result.transcript.map((h) => `${h.from}->${h.to}:${h.status}`);

describe('team catalogue', () => {
  const buses: InProcessBus[] = [];
  afterEach(async () => {
    for (const bus of buses.splice(0)) await bus.close();
  });

  it.each(TEAM_NAMES)(
    '%s runs the same with local members and with remote members over a bus',
    async (name) => {
      const entry = catalogueTeam(name);
      const local = await entry.create().run(entry.input(topic));
      expect(local.status).toBe('completed');

      // Every member served on a bus (serialized and validated like the wire), called through remoteAgent.
      const bus = new InProcessBus();
      buses.push(bus);
      for (const member of entry.members) {
        const { contract, create } = servableAgent(member);
        await serveAgent(bus, create(), { contract, heartbeatMs: 0 });
      }
      const remote = await entry.create({ members: remoteMembers(bus) }).run(entry.input(topic));
      expect(remote.status).toBe('completed');
      expect(route(remote)).toEqual(route(local));
      expect(remote.stopReason).toEqual(local.stopReason);
      expect(remote.usage).toEqual(local.usage);
    },
  );

  it('shares one budget across the members and stops before it is overspent', async () => {
    // The researcher alone spends about 8k tokens; writer and reviewer about 2k each.
    const result = await researchTeam({ budget: { maxTokens: 10_000 } }).run({
      topic: 'retries and backoff',
    });
    expect(result.status).toBe('budget_exceeded');
    expect(result.stopReason.kind).toBe('budget');
    expect(result.members.researcher?.status).toBe('completed');
    expect(result.usage.inputTokens + result.usage.outputTokens).toBeLessThan(16_000);
  });

  it('stops on its timeout, cancelling the member at work, and says so', async () => {
    // A researcher whose model takes ten minutes per call: the team's 100 ms timer fires in the middle of it.
    const slow = researcher({ model: offlineModel('researcher', { latencyMs: 600_000 }) });
    const members = (name: string) => (name === 'researcher' ? slow : localMembers(name));
    const started = performance.now();
    const result = await researchTeam({ members, timeoutMs: 100 }).run({ topic: 'retries and backoff' });
    expect(result.status).toBe('timeout');
    expect(result.stopReason).toMatchObject({ kind: 'timeout', condition: 'timeout(100)' });
    expect(result.members.researcher?.status).toMatch(/^(timeout|aborted)$/);
    // Only cancelling the researcher's call ends the team this soon: many times the 100 ms, far below
    // the ten minutes the call would take.
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it('unknown teams and agents are errors that list the valid names', () => {
    expect(() => catalogueTeam('nope')).toThrow(/Unknown team "nope"/);
    try {
      servableAgent('nope');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(BatonError);
      expect((error as BatonError).code).toBe('AGENT_UNKNOWN');
      expect((error as BatonError).hint).toBe(`Valid agents: ${AGENT_NAMES.join(', ')}`);
    }
  });
});
