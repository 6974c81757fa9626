import { defineAgent, defineTool, inMemoryCacheStore } from '@baton/core';
import { scriptedModel } from '@baton/core/testing';
import { pipeline } from '@baton/supervisor';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

/** Two stages whose agents look the same account up through one cacheable read tool. */
function lookupTeam() {
  const calls = { count: 0 };
  const lookup = defineTool({
    name: 'lookup',
    description: 'Looks up an account',
    input: z.object({ account: z.string() }),
    cache: { ttlMs: 60_000 },
    execute: ({ account }) => {
      calls.count++;
      return { account, balance: 42 };
    },
  });
  const stage = (name: string) =>
    defineAgent({
      name,
      description: name,
      instructions: 'Look the account up, then answer.',
      model: scriptedModel([
        { toolCalls: [{ name: 'lookup', args: { account: 'acme-1' } }] },
        `${name} done`,
      ]),
      tools: [lookup],
    });
  const team = pipeline({ name: 'ledger', stages: [{ agent: stage('first') }, { agent: stage('second') }] });
  return { team, calls };
}

describe("a team's cache options reach its local members", () => {
  it('one store for the team: the second member finds what the first one kept', async () => {
    const { team, calls } = lookupTeam();
    const store = inMemoryCacheStore();
    const result = await team.run('go', { cache: { store } });
    expect(result.status).toBe('completed');
    expect(calls.count).toBe(1);
    // The result is in the team's store, not in a default one.
    expect(await store.clear('tool/lookup/')).toBe(1);
  });

  it('tools: false makes every member fetch fresh data', async () => {
    const { team, calls } = lookupTeam();
    const result = await team.run('go', { cache: { store: inMemoryCacheStore(), tools: false } });
    expect(result.status).toBe('completed');
    expect(calls.count).toBe(2);
  });
});
