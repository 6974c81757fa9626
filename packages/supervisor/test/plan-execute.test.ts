import {
  Budget,
  defineAgent,
  defineTool,
  EventHub,
  type ModelRequest,
  memoryApprovals,
  memoryJournal,
  type Plan,
  type RunEvent,
  RunEvents,
  run,
} from '@baton/core';
import { scriptedModel } from '@baton/core/testing';
import { pipeline, planExecute, resumeTeam, type TeamEvent, teamTool } from '@baton/supervisor';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

const topic = z.object({ topic: z.string() });
const notes = z.object({ topic: z.string(), notes: z.array(z.string()) });

/** A member that answers from its input with a fixed JSON output (usage 10 + 5 tokens per call). */
function member(
  name: string,
  answer: (input: unknown) => unknown,
  options: { gate?: Gate; fail?: boolean } = {},
) {
  const model = scriptedModel(async (request: ModelRequest) => {
    const input = JSON.parse(/\{[\s\S]*\}/.exec(lastUser(request))?.[0] ?? '{}');
    if (options.gate) await options.gate.arrive(name);
    if (options.fail) return 'not json at all';
    return JSON.stringify(answer(input));
  });
  return defineAgent({
    name,
    description: `${name} member`,
    instructions: `You are ${name}.`,
    model,
    input: topic,
    output: notes,
    limits: { maxSteps: 2, outputRetries: 0, maxTokens: 1_000 },
  });
}

function lastUser(request: ModelRequest): string {
  return [...request.messages].reverse().find((message) => message.role === 'user')?.content ?? '';
}

/** Opens once `count` members have arrived: proves they ran at the same time, by order, not by clock. */
class Gate {
  private waiting: (() => void)[] = [];
  readonly arrived: string[] = [];
  constructor(private readonly count: number) {}
  arrive(name: string): Promise<void> {
    this.arrived.push(name);
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      if (this.waiting.length >= this.count) for (const release of this.waiting) release();
    });
  }
}

function plannerModel(plans: (prompt: string, call: number) => Plan | unknown) {
  return scriptedModel((request: ModelRequest, call: number) =>
    JSON.stringify(plans(lastUser(request), call)),
  );
}

function collect(hub: EventHub<RunEvent | TeamEvent>): (RunEvent | TeamEvent)[] {
  const seen: (RunEvent | TeamEvent)[] = [];
  hub.on('*', (event) => seen.push(event));
  return seen;
}

const research = (topicName: string, id: string) => ({
  id,
  use: `researcher_${topicName}`,
  input: { topic: topicName },
  produces: `notes on ${topicName}`,
});

describe('plan-execute team', () => {
  it('refuses an invalid plan with its violations, then runs independent steps at once and the dependent one after', async () => {
    const gate = new Gate(2);
    const budgets = member(
      'researcher_budgets',
      (input) => ({ topic: (input as { topic: string }).topic, notes: ['b1'] }),
      { gate },
    );
    const timeouts = member(
      'researcher_timeouts',
      (input) => ({ topic: (input as { topic: string }).topic, notes: ['t1'] }),
      { gate },
    );
    const writer = member('writer', (input) => ({
      topic: 'report',
      notes: [`wrote on ${(input as { topic: string }).topic}`],
    }));
    const prompts: string[] = [];
    const planner = plannerModel((prompt) => {
      prompts.push(prompt);
      if (!prompt.includes('That plan cannot run')) {
        return {
          goal: 'report',
          steps: [
            { id: 'w', use: 'writer', input: { topic: { $ref: 'b.topic' } }, produces: 'report' },
            { id: 'b', use: 'researcher_budgets', input: { topic: 'budgets' }, produces: 'notes' },
            { id: 'x', use: 'editor', input: { topic: 'x' }, produces: 'nothing' },
          ],
        };
      }
      return {
        goal: 'report',
        steps: [
          research('budgets', 'b'),
          research('timeouts', 't'),
          {
            id: 'w',
            use: 'writer',
            input: { topic: { $ref: 't.topic' } },
            dependsOn: ['b', 't'],
            produces: 'report',
          },
        ],
      };
    });
    const exporter = new InMemorySpanExporter();
    const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).getTracer(
      't',
    );
    const team = planExecute({ name: 'planned', planner, members: [budgets, timeouts, writer] });
    const events = new EventHub<RunEvent | TeamEvent>();
    const seen = collect(events);
    const result = await team.run('Write a report on budgets and timeouts', { events, tracer });

    expect(result.status).toBe('completed');
    expect(result.output).toEqual({ topic: 'report', notes: ['wrote on timeouts'] });
    const verdicts = seen.filter((event) => event.type === 'plan.validated');
    expect(verdicts.map((event) => (event.type === 'plan.validated' ? event.valid : null))).toEqual([
      false,
      true,
    ]);
    const first = verdicts[0];
    const codes = first?.type === 'plan.validated' ? first.violations.map((violation) => violation.code) : [];
    expect(codes).toEqual(expect.arrayContaining(['forward_reference', 'unknown_member']));
    expect(prompts[1]).toContain('[unknown_member] x:');
    // Both researchers were running before either answered; the writer came after both.
    expect(gate.arrived.sort()).toEqual(['researcher_budgets', 'researcher_timeouts']);
    const order = result.transcript.map((record) => record.to);
    expect(order.indexOf('writer')).toBeGreaterThan(
      Math.max(order.indexOf('researcher_budgets'), order.indexOf('researcher_timeouts')),
    );
    expect(result.plan?.plans).toHaveLength(1);
    const names = exporter.getFinishedSpans().map((span) => span.name);
    expect(names.filter((name) => name === 'plan planned')).toHaveLength(2);
    expect(names.filter((name) => name === 'validate_plan planned')).toHaveLength(2);
    // One ledger: the planner's and every member's steps.
    expect(result.budget.used.steps).toBe(
      Object.values(result.members).reduce((sum, report) => sum + report.steps, 0),
    );
  });

  it('a failing member re-plans at most twice, then the team fails with the partial results', async () => {
    const good = member('researcher_budgets', () => ({ topic: 'budgets', notes: ['b1'] }));
    const broken = member('researcher_timeouts', () => ({}), { fail: true });
    let plans = 0;
    const planner = plannerModel(() => {
      plans++;
      return {
        goal: 'g',
        steps: [{ ...research('budgets', `b${plans}`) }, { ...research('timeouts', `t${plans}`) }],
      };
    });
    const team = planExecute({ name: 'fragile', planner, members: [good, broken] });
    const events = new EventHub<RunEvent | TeamEvent>();
    const seen = collect(events);
    const result = await team.run('task', { events });

    expect(result.status).toBe('failed');
    expect(result.stopReason).toMatchObject({ kind: 'member_failed', agent: 'researcher_timeouts' });
    expect(result.stopReason.message).toContain('after 2 re-plan(s)');
    expect(plans).toBe(3);
    expect(result.plan?.replans).toBe(2);
    expect(Object.keys(result.plan?.outputs ?? {})).toEqual(['b1', 'b2', 'b3']);
    expect(result.plan?.failed[0]).toMatchObject({
      step: 't3',
      use: 'researcher_timeouts',
      code: 'OUTPUT_INVALID',
    });
    expect(seen.filter((event) => event.type === 'plan.replanned')).toHaveLength(2);
  });

  it('a step delegates to a nested team with limits drawn from the parent ledger', async () => {
    const inner = pipeline({
      name: 'inner',
      stages: [{ agent: member('drafter', () => ({ topic: 'inner', notes: ['draft'] })) }],
    });
    const outer = member('researcher_budgets', () => ({ topic: 'budgets', notes: ['b1'] }));
    const planner = plannerModel(() => ({
      goal: 'g',
      steps: [
        research('budgets', 'b'),
        { id: 'n', use: 'drafting', input: { topic: { $ref: 'b.topic' } }, produces: 'a draft' },
      ],
    }));
    const team = planExecute({
      name: 'hierarchy',
      planner,
      members: [
        outer,
        { team: inner, name: 'drafting', description: 'A drafting team', limits: { maxTokens: 2_000 } },
      ],
      budget: { maxTokens: 50_000 },
    });
    const result = await team.run('task');
    expect(result.status).toBe('completed');
    expect(result.output).toEqual({ topic: 'inner', notes: ['draft'] });
    // The nested team's spending reached the parent ledger as it happened: planner + researcher + drafter.
    expect(result.budget.used.steps).toBe(3);
    expect(result.members.drafting?.steps).toBe(1);

    // A nested team whose own limit is too small is stopped by it (a lease of the parent's ledger): the
    // step fails and the parent team, far from its own budget, fails gracefully with what was done.
    const note = defineTool({
      name: 'note',
      description: 'Takes a note',
      input: z.object({ text: z.string() }),
      execute: ({ text }) => ({ text }),
    });
    const slowDrafter = defineAgent({
      name: 'drafter',
      description: 'Drafts in two steps',
      instructions: 'i',
      model: scriptedModel([
        { toolCalls: [{ name: 'note', args: { text: 'x' } }] },
        JSON.stringify({ topic: 'x', notes: [] }),
      ]),
      tools: [note],
      input: topic,
      output: notes,
    });
    const tight = planExecute({
      name: 'tight',
      planner,
      maxReplans: 0,
      budget: { maxTokens: 50_000 },
      members: [
        outer,
        {
          team: pipeline({ name: 'inner', stages: [{ agent: slowDrafter }] }),
          name: 'drafting',
          description: 'A drafting team',
          limits: { maxTokens: 10 },
        },
      ],
    });
    const stopped = await tight.run('task');
    expect(stopped.status).toBe('failed');
    expect(stopped.plan?.failed[0]).toMatchObject({ step: 'n', use: 'drafting', code: 'BUDGET_TOKENS' });
    expect(stopped.members.drafting?.steps).toBe(1);
    expect(stopped.budget.used.tokens).toBeLessThan(50_000);
  });

  it('an agent plan step runs a whole team through teamTool, on the run’s ledger', async () => {
    const inner = pipeline({
      name: 'inner',
      stages: [{ agent: member('drafter', () => ({ topic: 'inner', notes: ['draft'] })) }],
    });
    const tool = teamTool(inner, {
      name: 'draft_team',
      description: 'Runs the drafting team',
      input: topic,
      limits: { maxTokens: 5_000 },
    });
    const lookup = defineTool({
      name: 'lookup',
      description: 'Looks up',
      input: z.object({ q: z.string() }),
      execute: ({ q }) => ({ q, topic: `about ${q}` }),
    });
    const model = scriptedModel((request: ModelRequest) =>
      request.responseSchema?.name === 'plan'
        ? JSON.stringify({
            goal: 'g',
            steps: [
              { id: 's1', use: 'lookup', input: { q: 'budgets' }, produces: 'a topic' },
              { id: 's2', use: 'draft_team', input: { topic: { $ref: 's1.topic' } }, produces: 'a draft' },
            ],
          })
        : 'done',
    );
    const agent = defineAgent({
      name: 'lead',
      description: 'Leads',
      instructions: 'i',
      model,
      tools: [lookup, tool],
      planner: 'plan-execute',
    });
    const ledger = new Budget({ maxTokens: 100_000 });
    const events = new RunEvents();
    const result = await run(agent, 'task', { budget: ledger, events });
    expect(result.status).toBe('completed');
    expect(result.partial.toolResults[1]).toMatchObject({
      ok: true,
      data: { topic: 'inner', notes: ['draft'] },
    });
    // The agent's 2 steps and the nested drafter's 1, all on the one ledger.
    expect(ledger.used.steps).toBe(3);
    expect(result.spent?.steps).toBe(3);
  });

  it('pauses when a step waits for a person and resumes from its journal: the plan replays, nothing runs twice', async () => {
    const executions: string[] = [];
    let plannerCalls = 0;
    const build = () => {
      const refund = defineTool({
        name: 'refund',
        description: 'Refunds an order',
        input: z.object({ order: z.string() }),
        risk: 'destructive',
        execute: ({ order }, context) => {
          executions.push(`${context.idempotencyKey} ${order}`);
          return { refunded: order };
        },
      });
      const billing = defineAgent({
        name: 'billing',
        description: 'Refunds orders',
        instructions: 'i',
        model: scriptedModel((request: ModelRequest) =>
          request.messages.at(-1)?.role === 'tool'
            ? JSON.stringify({ topic: 'refund', notes: ['refunded A-1'] })
            : { toolCalls: [{ name: 'refund', args: { order: 'A-1' } }] },
        ),
        tools: [refund],
        input: topic,
        output: notes,
      });
      const lookup = member('researcher_orders', () => ({ topic: 'A-1', notes: ['order A-1, 40 EUR'] }));
      const planner = scriptedModel(() => {
        plannerCalls++;
        return JSON.stringify({
          goal: 'refund',
          steps: [
            { id: 'find', use: 'researcher_orders', input: { topic: 'A-1' }, produces: 'the order' },
            { id: 'pay', use: 'billing', input: { topic: { $ref: 'find.topic' } }, produces: 'the refund' },
          ],
        });
      });
      return planExecute({ name: 'refunds', planner, members: [lookup, billing] });
    };
    const journal = memoryJournal();
    const approvals = memoryApprovals();
    const paused = await build().run('refund order A-1', { runId: 'refunds-1', journal, approvals });
    expect(paused.status).toBe('awaiting_approval');
    expect(paused.pending).toMatchObject([{ member: 'billing', tool: 'refund' }]);
    expect(executions).toEqual([]);
    const [request] = await approvals.list({ status: 'pending' });
    await approvals.decide(
      request?.runId as string,
      request?.toolCallId as string,
      { decision: 'approve' },
      'carol',
    );

    const done = await resumeTeam(build(), 'refunds-1', { journal, approvals });
    expect(done.status).toBe('completed');
    expect(done.output).toEqual({ topic: 'refund', notes: ['refunded A-1'] });
    expect(executions).toHaveLength(1);
    // The planner answered once: the resumed team replayed its recorded plan.
    expect(plannerCalls).toBe(1);
  });
});
