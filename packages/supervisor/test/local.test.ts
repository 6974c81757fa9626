import { type AgentLike, defineAgent, parseToolResult, RunEvents } from '@baton/core';
import { scriptedModel } from '@baton/core/testing';
import { debate, pipeline, supervisor, type TeamEvent } from '@baton/supervisor';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { critic, researcher, reviewer, served, settledGenerator, writer } from './fixtures/members.js';
import {
  endlessDebate,
  expectDebateAtRoundLimit,
  expectNamedFailure,
  expectPingPongStopped,
  expectRevisedAndApproved,
  expectTeamBudgetStop,
  hangingTeam,
  pingPong,
  researchPipeline,
  researchSupervisor,
} from './fixtures/scenarios.js';

const local = (name: keyof typeof served): AgentLike => served[name].make();

describe('orchestrators with local members', () => {
  it('pipeline: research → write → review, with one revise round, then approval', async () => {
    expectRevisedAndApproved(await researchPipeline(local).run({ topic: 'agents' }));
  });

  it('a two-agent ping-pong stops at its message limit', async () => {
    expectPingPongStopped(await pingPong(local).run({ count: 0 }));
  });

  it('a debate that never converges stops at its round limit', async () => {
    expectDebateAtRoundLimit(await endlessDebate(local).run('Write a motto'));
  });

  it('the team budget stops a team whose members each stay under their own limits', async () => {
    const limited = (name: keyof typeof served) => {
      const agent = served[name].make();
      return 'with' in agent ? agent.with({ limits: { maxTokens: 400 } }) : agent;
    };
    expectTeamBudgetStop(await researchPipeline(limited, { budgetTokens: 500 }).run({ topic: 'agents' }));
  });

  it('a failing member is named with its error and span id', async () => {
    const team = researchPipeline(local, { reviewer: reviewer({ failWith: 'invalid api key' }) });
    expectNamedFailure(await team.run({ topic: 'agents' }));
  });

  it('timeout() stops a team whose member hangs, cancelling the member', async () => {
    const started = performance.now();
    const result = await hangingTeam(local, 300).run({ count: 0 });
    expect(result.status).toBe('timeout');
    expect(result.stopReason).toMatchObject({ kind: 'timeout', condition: 'timeout(300)' });
    expect(result.members.sleeper?.status).toBe('timeout');
    // The sleeper would run for ten minutes: ending within many times the 300 ms proves the cancel.
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it('a handoff that breaks the next stage contract is the sender fault', async () => {
    const contract = served.reviewer.contract;
    const team = pipeline({
      name: 'broken',
      stages: [{ agent: researcher() }, { agent: reviewer(), contract }],
    });
    const result = await team.run({ topic: 'agents' });
    expect(result.status).toBe('failed');
    expect(result.stopReason).toMatchObject({ kind: 'handoff_invalid', agent: 'researcher' });
    expect(result.transcript.at(-1)?.error).toMatchObject({
      code: 'HANDOFF_INVALID',
      details: { side: 'input' },
    });
  });

  it('holds handoffs to the context budget', async () => {
    const echo = defineAgent({
      name: 'echo',
      description: 'Echoes',
      instructions: 'Echo.',
      model: scriptedModel((request) => request.messages.at(-1)?.content ?? ''),
      output: z.object({ text: z.string() }),
    });
    const big = defineAgent({
      name: 'big',
      description: 'Talks a lot',
      instructions: 'Talk.',
      model: scriptedModel(() => JSON.stringify({ text: 'blah '.repeat(5_000) })),
      output: z.object({ text: z.string() }),
    });
    const result = await pipeline({
      name: 'ctx',
      stages: [{ agent: big }, { agent: echo }],
      contextTokens: 200,
    }).run('go');
    expect(result.status).toBe('completed');
    expect(result.transcript[1]?.compacted).toBe(true);
    expect(JSON.stringify(result.transcript[1]?.input).length).toBeLessThan(1_000);
  });

  it('emits team events and member events into one sink', async () => {
    const events = new RunEvents() as unknown as import('@baton/core').EventHub<
      import('@baton/core').RunEvent | TeamEvent
    >;
    const types: string[] = [];
    events.on('*', (event) => {
      if (event.type.startsWith('team.') || event.type === 'run.start') types.push(event.type);
    });
    await pingPong(local).run({ count: 0 }, { events });
    expect(types[0]).toBe('team.start');
    expect(types).toContain('team.handoff');
    expect(types).toContain('run.start');
    expect(types.at(-1)).toBe('team.end');
  });
});

describe('supervisor', () => {
  it('delegates through typed tools, in parallel, and synthesizes', async () => {
    const result = await researchSupervisor(local).run('Write about agents');
    expect(result.status).toBe('completed');
    expect(result.output).toBe('Synthesis from 2 delegations.');
    expect(result.transcript.map((h) => h.to).sort()).toEqual(['manager', 'researcher', 'writer']);
    const researcherRun = result.transcript.find((h) => h.to === 'researcher');
    expect(researcherRun?.input).toEqual({ topic: 'agents' });
    expect(result.members.manager?.steps).toBe(2);
  });

  it('rejects unknown and self delegation with the list of valid workers', async () => {
    const model = scriptedModel([
      {
        toolCalls: [
          { name: 'delegate_to_manager', args: { task: 'me' } },
          { name: 'delegate_to_nobody', args: {} },
        ],
      },
      'gave up',
    ]);
    const manager = defineAgent({ name: 'manager', description: 'd', instructions: 'i', model });
    const team = supervisor({ name: 's', manager, workers: [researcher(), writer()] });
    const result = await team.run('x');
    expect(result.status).toBe('completed');
    const replies = model.requests[1]?.messages.filter((m) => m.role === 'tool') ?? [];
    for (const reply of replies) {
      expect(parseToolResult(reply.content)?.result).toMatchObject({
        ok: false,
        error: {
          code: 'TOOL_UNKNOWN',
          message: expect.stringContaining('Valid tools: delegate_to_researcher, delegate_to_writer'),
        },
      });
    }
    expect(() => supervisor({ name: 's', manager, workers: [manager as AgentLike] })).toThrow(
      /never delegates to itself/,
    );
  });

  it('re-plans after two stalls and stops after three, synthesizing what was found', async () => {
    const oracle = defineAgent({
      name: 'oracle',
      description: 'Always says the same',
      instructions: 'i',
      input: z.object({ question: z.string() }),
      model: scriptedModel(() => JSON.stringify({ answer: 'budgets' })),
      output: z.object({ answer: z.string() }),
    });
    let asked = 0;
    const model = scriptedModel((request) => {
      if (request.tools?.length === 0 || !request.tools)
        return 'Final: budgets matter (from what was found).';
      return { toolCalls: [{ name: 'delegate_to_oracle', args: { question: `q${asked++}` } }] };
    });
    const manager = defineAgent({
      name: 'manager',
      description: 'd',
      instructions: 'i',
      model,
      limits: { maxSteps: 10 },
    });
    const result = await supervisor({ name: 'stall', manager, workers: [oracle] }).run('what matters?');
    expect(result.status).toBe('stopped');
    expect(result.stopReason.kind).toBe('stalled');
    expect(result.output).toBe('Final: budgets matter (from what was found).');
    // 1 new answer, then 3 stalls.
    expect(result.members.oracle?.invocations).toBe(4);
    const thirdReply = model.requests[3]?.messages.at(-1)?.content ?? '';
    expect(parseToolResult(thirdReply)?.result).toMatchObject({
      ok: true,
      data: { note: expect.stringContaining('Re-plan') },
    });
    // The synthesis saw the findings.
    const synthesis = model.requests.at(-1)?.messages.find((m) => m.role === 'user')?.content ?? '';
    expect(synthesis).toContain('"answer":"budgets"');
  });

  it('asks for a final answer instead of new work when the team budget runs low', async () => {
    let delegations = 0;
    const model = scriptedModel(
      (request) => {
        if (!request.tools) return 'Final answer within budget.';
        return { toolCalls: [{ name: 'delegate_to_researcher', args: { topic: `t${delegations++}` } }] };
      },
      { usage: { inputTokens: 100, outputTokens: 0 } },
    );
    const manager = defineAgent({ name: 'manager', description: 'd', instructions: 'i', model });
    const result = await supervisor({
      name: 'budget',
      manager,
      workers: [researcher()],
      budget: { maxTokens: 1_000 },
    }).run('go');
    expect(result.status).toBe('budget_exceeded');
    expect(result.stopReason.kind).toBe('budget');
    expect(result.output).toBe('Final answer within budget.');
    expect(result.usage.inputTokens + result.usage.outputTokens).toBeLessThan(1_300);
  });
});

describe('debate', () => {
  it('ends on approval', async () => {
    const result = await debate({
      name: 'approve',
      generator: settledGenerator(),
      critics: [critic('critic-a', 2)],
      maxRounds: 5,
      converged: () => false,
    }).run('Motto?');
    expect(result.status).toBe('completed');
    expect(result.stopReason).toMatchObject({
      kind: 'approved',
      message: 'approved in round 2 by every critic',
    });
  });

  it('ends on convergence', async () => {
    const result = await debate({
      name: 'settle',
      generator: settledGenerator(),
      critics: [critic('c1')],
      maxRounds: 5,
    }).run('Motto?');
    expect(result.status).toBe('completed');
    expect(result.stopReason.kind).toBe('converged');
    expect(result.rounds).toBe(3);
    expect(result.output).toBe('The settled answer: budgets and timeouts.');
  });

  it('requires critics with different perspectives', () => {
    expect(() =>
      debate({
        name: 'd',
        generator: settledGenerator(),
        critics: [
          { agent: critic('a'), perspective: 'tone' },
          { agent: critic('b'), perspective: 'Tone' },
        ],
        maxRounds: 2,
      }),
    ).toThrow(/different perspectives/);
  });
});
