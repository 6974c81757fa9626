/**
 * One cancel reaches every member, statuses agree with stop reasons, and an exhausted team ledger stops
 * members mid-run (issue 10), with local members. The remote side is in ledger.test.ts.
 */
import { type AgentLike, BatonError, defineAgent, defineTool, type Usage } from '@baton/core';
import { scriptedModel } from '@baton/core/testing';
import {
  debate,
  external,
  maxMessages,
  or,
  pipeline,
  type TeamResult,
  teamStatusFor,
  timeout,
} from '@baton/supervisor';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

const base = { description: 'a member', instructions: 'i' };

/** Records, per member, when its tool saw the cancel. */
class CancelLog {
  readonly started = new Set<string>();
  readonly aborted = new Map<string, string>();

  /** A critic whose only tool hangs until its signal aborts. */
  hanging(name: string): AgentLike {
    const hang = defineTool({
      name: 'hang',
      description: 'waits',
      input: z.object({}),
      execute: (_args, { signal }) =>
        new Promise((_resolve, reject) => {
          this.started.add(name);
          signal.addEventListener('abort', () => {
            this.aborted.set(name, (signal.reason as BatonError).code);
            reject(signal.reason);
          });
        }),
    });
    return defineAgent({
      ...base,
      name,
      model: scriptedModel([{ toolCalls: [{ name: 'hang', args: {} }] }]),
      tools: [hang],
    });
  }

  async untilStarted(names: string[]): Promise<void> {
    while (!names.every((name) => this.started.has(name))) await new Promise((r) => setTimeout(r, 2));
  }
}

const generator = defineAgent({ ...base, name: 'generator', model: scriptedModel(() => 'a draft') });

/** A critic that approves at once. */
function quickCritic(name: string, usage?: Usage): AgentLike {
  const reply = JSON.stringify({ approve: false, issues: ['more'] });
  return defineAgent({
    ...base,
    name,
    model: scriptedModel(() => ({ text: reply, ...(usage ? { usage } : {}) })),
  });
}

/** A critic that keeps calling a tool and spends `usage` per step. */
function spender(name: string, usage: Usage): AgentLike {
  const think = defineTool({
    name: 'think',
    description: 't',
    input: z.object({ n: z.number() }),
    execute: ({ n }) => ({ n }),
  });
  let n = 0;
  return defineAgent({
    ...base,
    name,
    model: scriptedModel(() => ({ toolCalls: [{ name: 'think', args: { n: n++ } }], usage, delayMs: 2 })),
    tools: [think],
    limits: { maxSteps: 100, noProgressSteps: 100 },
  });
}

const perspectives = ['correctness', 'clarity', 'risk'];

function critics(members: AgentLike[]) {
  return members.map((agent, index) => ({ agent, perspective: perspectives[index] as string }));
}

function expectAgreement(result: TeamResult): void {
  expect(result.status).toBe(teamStatusFor(result.stopReason));
}

describe('one cancel reaches every member', () => {
  it('aborting the caller cancels every in-flight member and returns `aborted` with what was found', async () => {
    const log = new CancelLog();
    const team = debate({
      name: 'panel',
      generator,
      critics: critics([log.hanging('c1'), log.hanging('c2'), log.hanging('c3')]),
      maxRounds: 3,
    });
    const controller = new AbortController();
    const running = team.run('task', { signal: controller.signal });
    await log.untilStarted(['c1', 'c2', 'c3']);
    controller.abort(new BatonError('ABORTED', 'Ctrl-C'));
    const result = await running;
    expect(result.status).toBe('aborted');
    expect(result.stopReason.kind).toBe('aborted');
    expect([...log.aborted.keys()].sort()).toEqual(['c1', 'c2', 'c3']);
    expect(result.members.c1?.status).toBe('aborted');
    // What was found before the cancel is kept: the generator's draft.
    expect(result.output).toBe('a draft');
    expectAgreement(result);
  });

  it('external() cancels in-flight members the same way', async () => {
    const log = new CancelLog();
    const stop = new AbortController();
    const team = pipeline({
      name: 'one',
      stages: [{ agent: log.hanging('worker') }],
      termination: external(stop.signal, 'stop-button'),
    });
    const running = team.run('go');
    await log.untilStarted(['worker']);
    stop.abort();
    const result = await running;
    expect(result.status).toBe('stopped');
    expect(result.stopReason).toMatchObject({ kind: 'condition', condition: 'stop-button' });
    expect(log.aborted.get('worker')).toBe('ABORTED');
    expectAgreement(result);
  });

  it('a team halted by a condition still times out when its members keep running', async () => {
    const log = new CancelLog();
    const team = debate({
      name: 'panel',
      generator,
      // After the generator and one critic, maxMessages(2) stops new work; two critics hang on.
      critics: critics([quickCritic('quick'), log.hanging('h1'), log.hanging('h2')]),
      maxRounds: 3,
      termination: or(maxMessages(2), timeout(150)),
    });
    const result = await team.run('task');
    expect(result.status).toBe('timeout');
    expect(result.stopReason).toMatchObject({ kind: 'timeout', condition: 'timeout(150)' });
    expect(log.aborted.get('h1')).toBe('TIMEOUT');
    expect(log.aborted.get('h2')).toBe('TIMEOUT');
    expectAgreement(result);
  });

  it('an exhausted team budget cancels members still running, not just the next handoff', async () => {
    const log = new CancelLog();
    const team = debate({
      name: 'panel',
      generator,
      critics: critics([
        spender('big', { inputTokens: 300, outputTokens: 100 }),
        log.hanging('h1'),
        log.hanging('h2'),
      ]),
      maxRounds: 3,
      budget: { maxTokens: 1_000 },
    });
    const result = await team.run('task');
    expect(result.status).toBe('budget_exceeded');
    expect(result.stopReason.kind).toBe('budget');
    expect(log.aborted.get('h1')).toBe('BUDGET_TOKENS');
    expect(result.members.h1?.status).toBe('budget_exceeded');
    // One ledger: everything the members spent is on it, within one step (400) of the limit.
    expect(result.budget.used.tokens).toBeGreaterThanOrEqual(1_000);
    expect(result.budget.used.tokens).toBeLessThanOrEqual(1_000 + 400);
    expectAgreement(result);
  });

  it('a 30-day timeout() arms without firing at once', async () => {
    const team = pipeline({
      name: 'p',
      stages: [{ agent: quickCritic('only') }],
      termination: timeout(30 * 24 * 60 * 60 * 1000),
    });
    const result = await team.run('go');
    expect(result.status).toBe('completed');
  });
});

describe('statuses agree with stop reasons', () => {
  it('every stop kind has exactly one status', () => {
    const kinds = [
      'completed',
      'approved',
      'converged',
      'condition',
      'max_rounds',
      'stalled',
      'budget',
      'timeout',
      'member_failed',
      'handoff_invalid',
      'aborted',
    ] as const;
    const statuses = kinds.map((kind) => teamStatusFor({ kind, message: '' }));
    expect(statuses).toEqual([
      'completed',
      'completed',
      'completed',
      'stopped',
      'stopped',
      'stopped',
      'budget_exceeded',
      'timeout',
      'failed',
      'failed',
      'aborted',
    ]);
  });

  it('a pipeline whose last step overshoots the budget still completes (work done is reported done)', async () => {
    const team = pipeline({
      name: 'p',
      stages: [{ agent: quickCritic('a', { inputTokens: 400, outputTokens: 200 }) }],
      budget: { maxTokens: 100 },
    });
    const result = await team.run('go');
    expect(result.status).toBe('completed');
    expectAgreement(result);
  });
});
