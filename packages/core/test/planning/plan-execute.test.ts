import {
  Budget,
  defineAgent,
  defineTool,
  type ModelRequest,
  memoryApprovals,
  memoryJournal,
  type RunEvent,
  RunEvents,
  resume,
  run,
  ToolError,
} from '@baton/core';
import { checkWireRules, scriptedModel } from '@baton/core/testing';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { json, kindOf, lastUser } from './script.js';

const exporter = new InMemorySpanExporter();
const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).getTracer(
  't',
);
afterEach(() => exporter.reset());

const search = defineTool({
  name: 'search',
  description: 'Searches the docs',
  input: z.object({ query: z.string().min(2) }),
  output: z.object({ results: z.array(z.object({ id: z.string(), title: z.string() })) }),
  execute: ({ query }) => ({ results: [{ id: `doc-${query}`, title: `About ${query}` }] }),
});

const read = defineTool({
  name: 'read',
  description: 'Reads a document',
  input: z.object({ id: z.string() }),
  execute: ({ id }) => ({ id, text: `text of ${id}` }),
});

function collect(events: RunEvents): RunEvent[] {
  const seen: RunEvent[] = [];
  events.on('*', (event) => seen.push(event));
  return seen;
}

const validPlan = {
  goal: 'answer about budgets',
  steps: [
    { id: 's1', use: 'search', input: { query: 'budgets' }, produces: 'hits on budgets' },
    {
      id: 's2',
      use: 'read',
      input: { id: { $ref: 's1.results.0.id' } },
      dependsOn: ['s1'],
      produces: 'the doc',
    },
  ],
};

describe('plan-execute agent', () => {
  it('refuses an invalid plan (forward reference, unknown tool, cycle) with its violations; the planner fixes it', async () => {
    const invalid = {
      goal: 'answer',
      steps: [
        { id: 's1', use: 'read', input: { id: { $ref: 's2.results.0.id' } }, produces: 'doc' },
        { id: 's2', use: 'serch', input: { query: 'budgets' }, produces: 'hits' },
        { id: 's3', use: 'search', input: { query: 'loops' }, dependsOn: ['s4'], produces: 'x' },
        { id: 's4', use: 'search', input: { query: 'cycles' }, dependsOn: ['s3'], produces: 'y' },
      ],
    };
    const told: string[] = [];
    const model = scriptedModel((request: ModelRequest) => {
      if (kindOf(request) === 'plan') {
        const last = lastUser(request);
        if (last.startsWith('That plan cannot run')) {
          told.push(last);
          return json(validPlan);
        }
        return json(invalid);
      }
      return 'Budgets: see doc-budgets.';
    });
    const agent = defineAgent({
      name: 'planner',
      description: 'Plans',
      instructions: 'Answer from the docs.',
      model,
      tools: [search, read],
      planner: 'plan-execute',
    });
    const events = new RunEvents();
    const seen = collect(events);
    const result = await run(agent, 'What about budgets?', { events, tracer });

    expect(result.status).toBe('completed');
    expect(result.output).toBe('Budgets: see doc-budgets.');
    const verdicts = seen.filter((event) => event.type === 'plan.validated');
    expect(verdicts.map((event) => event.valid)).toEqual([false, true]);
    const codes = verdicts[0]?.violations.map((violation) => `${violation.code}@${violation.step}`) ?? [];
    expect(codes).toEqual(expect.arrayContaining(['forward_reference@s1', 'unknown_tool@s2', 'cycle@s3']));
    // The planner was told exactly those problems.
    expect(told[0]).toContain('[forward_reference] s1:');
    expect(told[0]).toContain('[unknown_tool] s2:');
    expect(told[0]).toContain('[cycle]');
    // Nothing ran before the plan was valid; then s1, then s2 with the reference resolved.
    expect(result.partial.toolResults.map((record) => [record.toolCallId, record.args])).toEqual([
      ['plan1_s1', { query: 'budgets' }],
      ['plan1_s2', { id: 'doc-budgets' }],
    ]);
    // 2 planning answers + the final answer: every one a step of the run.
    expect(result.steps).toBe(3);
    const spans = exporter.getFinishedSpans().map((span) => span.name);
    expect(spans.filter((name) => name === 'plan planner')).toHaveLength(2);
    expect(spans.filter((name) => name === 'validate_plan planner')).toHaveLength(2);
    const refused = exporter.getFinishedSpans().find((span) => span.name === 'validate_plan planner');
    expect(refused?.attributes['baton.plan.valid']).toBe(false);
    expect(refused?.attributes['baton.plan.violations']).toEqual(
      expect.arrayContaining(['forward_reference@s1', 'unknown_tool@s2']),
    );
    // The transcript the answer was written from is one both providers accept.
    const answerRequest = model.requests.at(-1) as ModelRequest;
    expect(checkWireRules(answerRequest.messages, answerRequest.tools ?? [])).toEqual({
      openai: [],
      anthropic: [],
    });
  });

  it('fails with PLAN_INVALID when the planner never produces a valid plan (bounded attempts)', async () => {
    const model = scriptedModel(() => json({ goal: 'g', steps: [{ id: 's1', use: 'nope', produces: 'x' }] }));
    const agent = defineAgent({
      name: 'stubborn',
      description: 'Plans badly',
      instructions: 'i',
      model,
      tools: [search],
      planner: 'plan-execute',
      planning: { maxAttempts: 2 },
    });
    const result = await run(agent, 'task');
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('PLAN_INVALID');
    expect(model.requests).toHaveLength(2);
    expect(result.partial.toolResults).toHaveLength(0);
  });

  it('a failing step re-plans at most twice (the default), then fails gracefully with the partial results', async () => {
    let flakyCalls = 0;
    const flaky = defineTool({
      name: 'flaky',
      description: 'Always down',
      input: z.object({ n: z.number() }),
      execute: () => {
        flakyCalls++;
        throw new ToolError('DOWN', 'the service is down');
      },
    });
    let plans = 0;
    const replanPrompts: string[] = [];
    const model = scriptedModel((request: ModelRequest) => {
      if (kindOf(request) !== 'plan') return 'should not answer';
      plans++;
      if (plans > 1) replanPrompts.push(lastUser(request));
      return json({
        goal: 'g',
        steps: [
          { id: `ok${plans}`, use: 'search', input: { query: `topic ${plans}` }, produces: 'hits' },
          { id: `f${plans}`, use: 'flaky', input: { n: plans }, produces: 'the rest' },
        ],
      });
    });
    const agent = defineAgent({
      name: 'persistent',
      description: 'Re-plans',
      instructions: 'i',
      model,
      tools: [search, flaky],
      planner: 'plan-execute',
    });
    const events = new RunEvents();
    const seen = collect(events);
    const result = await run(agent, 'task', { events, tracer });

    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('PLAN_FAILED');
    expect(result.error?.details).toMatchObject({ replans: 2, done: ['ok1', 'ok2', 'ok3'] });
    expect(plans).toBe(3);
    expect(flakyCalls).toBe(3);
    expect(seen.filter((event) => event.type === 'plan.replanned').map((event) => event.replan)).toEqual([
      1, 2,
    ]);
    expect(seen.find((event) => event.type === 'plan.finished')).toMatchObject({
      outcome: 'failed',
      replans: 2,
    });
    // The re-plan was told what was done and what failed.
    expect(replanPrompts[0]).toContain('f1 (flaky): DOWN — the service is down');
    expect(replanPrompts[0]).toContain('ok1 (search)');
    // Graceful: what was found is in the result.
    expect(result.partial.toolResults.filter((record) => record.ok)).toHaveLength(3);
    expect(result.partial.summary).toContain('search ×3');
    expect(exporter.getFinishedSpans().filter((span) => span.name === 'replan persistent')).toHaveLength(2);
  });

  it('a re-plan that avoids the failure completes, reading the outputs of steps done before', async () => {
    const empty = defineTool({
      name: 'archive',
      description: 'The archive',
      input: z.object({ id: z.string() }),
      execute: () => [],
    });
    const model = scriptedModel((request: ModelRequest) => {
      if (kindOf(request) === 'loop') return 'answered';
      if (!lastUser(request).includes('Part of the plan failed')) {
        return json({
          goal: 'g',
          steps: [
            { id: 's1', use: 'search', input: { query: 'budgets' }, produces: 'hits' },
            { id: 's2', use: 'archive', input: { id: { $ref: 's1.results.0.id' } }, produces: 'doc' },
          ],
        });
      }
      return json({
        goal: 'g',
        steps: [{ id: 's3', use: 'read', input: { id: { $ref: 's1.results.0.id' } }, produces: 'doc' }],
      });
    });
    const agent = defineAgent({
      name: 'adaptive',
      description: 'Adapts',
      instructions: 'i',
      model,
      tools: [search, read, empty],
      planner: 'plan-execute',
    });
    const result = await run(agent, 'task');
    expect(result.status).toBe('completed');
    expect(result.partial.toolResults.map((record) => [record.toolCallId, record.ok])).toEqual([
      ['plan1_s1', true],
      ['plan1_s2', false],
      ['plan2_s3', true],
    ]);
    expect(result.partial.toolResults[2]?.args).toEqual({ id: 'doc-budgets' });
  });

  it('runs independent steps concurrently and a dependent step only after them', async () => {
    const log: string[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const gates = new Map<string, () => void>();
    const slow = defineTool({
      name: 'slow',
      description: 'Waits until released',
      input: z.object({ id: z.string() }),
      execute: async ({ id }) => {
        log.push(`start ${id}`);
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        // Both independent steps must be running before either may finish: proven by order, not by time.
        await new Promise<void>((resolve) => {
          gates.set(id, resolve);
          if (gates.has('a') && gates.has('b')) for (const release of gates.values()) release();
          if (id === 'c') resolve();
        });
        inFlight--;
        log.push(`end ${id}`);
        return { id };
      },
    });
    const model = scriptedModel((request: ModelRequest) =>
      kindOf(request) === 'plan'
        ? json({
            goal: 'g',
            steps: [
              { id: 'a', use: 'slow', input: { id: 'a' }, produces: 'a' },
              { id: 'b', use: 'slow', input: { id: 'b' }, produces: 'b' },
              { id: 'c', use: 'slow', input: { id: 'c' }, dependsOn: ['a', 'b'], produces: 'c' },
            ],
          })
        : 'done',
    );
    const agent = defineAgent({
      name: 'parallel',
      description: 'Parallel',
      instructions: 'i',
      model,
      tools: [slow],
      planner: 'plan-execute',
    });
    const result = await run(agent, 'task');
    expect(result.status).toBe('completed');
    expect(maxInFlight).toBe(2);
    expect(log.slice(0, 2).sort()).toEqual(['start a', 'start b']);
    expect(log.indexOf('start c')).toBeGreaterThan(Math.max(log.indexOf('end a'), log.indexOf('end b')));
  });

  it('charges every planning call and the answer to the one ledger it was given', async () => {
    const model = scriptedModel(
      (request: ModelRequest) => (kindOf(request) === 'plan' ? json(validPlan) : 'answer'),
      { usage: { inputTokens: 100, outputTokens: 20 } },
    );
    const agent = defineAgent({
      name: 'ledgered',
      description: 'Charged',
      instructions: 'i',
      model,
      tools: [search, read],
      planner: 'plan-execute',
    });
    const ledger = new Budget({ maxTokens: 10_000 });
    const result = await run(agent, 'task', { budget: ledger });
    expect(result.status).toBe('completed');
    expect(result.steps).toBe(2);
    expect(ledger.used).toMatchObject({ steps: 2, tokens: 240 });
  });

  it('refuses a plan that cannot fit the token budget before anything runs', async () => {
    const model = scriptedModel((request: ModelRequest) =>
      kindOf(request) === 'plan'
        ? json({
            goal: 'g',
            steps: Array.from({ length: 8 }, (_, index) => ({
              id: `s${index}`,
              use: 'search',
              input: { query: `q${index}` },
              produces: 'hits',
            })),
          })
        : 'answer',
    );
    const agent = defineAgent({
      name: 'frugal',
      description: 'Small budget',
      instructions: 'i',
      model,
      tools: [search],
      planner: 'plan-execute',
      planning: { maxAttempts: 1 },
      limits: { maxTokens: 5_000 },
    });
    const result = await run(agent, 'task');
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('PLAN_INVALID');
    expect(JSON.stringify(result.error?.details)).toContain('over_budget');
    expect(result.partial.toolResults).toHaveLength(0);
  });

  it('pauses for approval in the middle of a plan and resumes the same plan', async () => {
    let deletions = 0;
    const remove = defineTool({
      name: 'delete_doc',
      description: 'Deletes a document',
      input: z.object({ id: z.string() }),
      risk: 'destructive',
      execute: ({ id }) => {
        deletions++;
        return { deleted: id };
      },
    });
    const model = scriptedModel((request: ModelRequest) =>
      kindOf(request) === 'plan'
        ? json({
            goal: 'g',
            steps: [
              { id: 's1', use: 'search', input: { query: 'stale' }, produces: 'hits' },
              {
                id: 's2',
                use: 'delete_doc',
                input: { id: { $ref: 's1.results.0.id' } },
                produces: 'deleted',
              },
            ],
          })
        : 'cleaned up',
    );
    const agent = defineAgent({
      name: 'janitor',
      description: 'Cleans',
      instructions: 'i',
      model,
      tools: [search, remove],
      planner: 'plan-execute',
      untrustedPolicy: 'off',
    });
    const approvals = memoryApprovals();
    const paused = await run(agent, 'clean', { approvals });
    expect(paused.status).toBe('awaiting_approval');
    expect(deletions).toBe(0);
    await approvals.decide(paused.runId, 'plan1_s2', { decision: 'approve' }, 'ops');
    const done = await resume(agent, paused.state as NonNullable<typeof paused.state>, { approvals });
    expect(done.status).toBe('completed');
    expect(deletions).toBe(1);
    // One plan only: the resumed run continued it instead of planning again.
    expect(model.requests.filter((request) => kindOf(request) === 'plan')).toHaveLength(1);
  });

  it('is a configuration error without tools, or with planning options on a ReAct agent', () => {
    const model = scriptedModel(['x']);
    expect(() =>
      defineAgent({ name: 'a', description: 'd', instructions: 'i', model, planner: 'plan-execute' }),
    ).toThrow(/at least one tool/);
    expect(() =>
      defineAgent({ name: 'a', description: 'd', instructions: 'i', model, tools: [search], planning: {} }),
    ).toThrow(/planner: "plan-execute"/);
    expect(() =>
      defineAgent({
        name: 'a',
        description: 'd',
        instructions: 'i',
        model,
        tools: [search],
        planner: 'plan-execute',
        planning: { maxReplans: -1 },
      }),
    ).toThrow(/planning.maxReplans/);
  });
});

describe('a journaled plan-execute run', () => {
  it('resumes after a crash mid-plan: the plan replays, done steps never run again', async () => {
    const journal = memoryJournal();
    const executions: string[] = [];
    const send = defineTool({
      name: 'send_email',
      description: 'Sends an email',
      input: z.object({ to: z.string() }),
      risk: 'write',
      execute: ({ to }, context) => {
        executions.push(`${context.idempotencyKey}->${to}`);
        return { sent: to };
      },
    });
    const plan = json({
      goal: 'two emails, in order',
      steps: [
        { id: 's1', use: 'send_email', input: { to: 'a@x' }, produces: 'first email' },
        { id: 's2', use: 'send_email', input: { to: 'b@x' }, dependsOn: ['s1'], produces: 'second email' },
      ],
    });
    const first = scriptedModel([plan]);
    const agent = defineAgent({
      name: 'mailer',
      description: 'Mails',
      instructions: 'i',
      model: first,
      tools: [send],
      planner: 'plan-execute',
    });
    // started, the plan step, s1's intent and outcome — then the process dies before s2's intent.
    let appended = 0;
    const dying = {
      ...journal,
      async open(runId: string, writer: Parameters<typeof journal.open>[1]) {
        const inner = await journal.open(runId, writer);
        return {
          runId,
          existing: inner.existing,
          async append(record: Parameters<typeof inner.append>[0]) {
            if (appended >= 4) throw new Error('the process died');
            appended++;
            return inner.append(record);
          },
        };
      },
    };
    const crashed = await run(agent, 'mail both', { runId: 'plan-crash', journal: dying });
    expect(crashed.status).toBe('failed');
    expect(executions).toEqual(['plan-crash:plan1_s1->a@x']);

    const second = scriptedModel(['both sent']);
    const resumed = await resume(agent.with({ model: second }), 'plan-crash', { journal });
    expect(resumed.status).toBe('completed');
    expect(resumed.output).toBe('both sent');
    // The plan was replayed from the journal: the new model was only asked for the answer.
    expect(second.requests).toHaveLength(1);
    expect(executions).toEqual(['plan-crash:plan1_s1->a@x', 'plan-crash:plan1_s2->b@x']);
  });
});

describe('references that resolve to the same call', () => {
  it('fail that step (not the run) and the re-plan reads the output it already has', async () => {
    const same = defineTool({
      name: 'lookup',
      description: 'Finds the doc for a topic',
      input: z.object({ topic: z.string() }),
      execute: () => ({ best: 'doc-1' }),
    });
    const model = scriptedModel((request: ModelRequest) => {
      if (kindOf(request) === 'loop') return 'answered';
      if (lastUser(request).includes('Part of the plan failed')) {
        return json({
          goal: 'g',
          steps: [{ id: 'c', use: 'search', input: { query: 'more' }, produces: 'x' }],
        });
      }
      return json({
        goal: 'g',
        steps: [
          { id: 'a', use: 'lookup', input: { topic: 'x' }, produces: 'doc' },
          { id: 'b', use: 'lookup', input: { topic: 'y' }, produces: 'doc' },
          { id: 'ra', use: 'read', input: { id: { $ref: 'a.best' } }, produces: 'text' },
          { id: 'rb', use: 'read', input: { id: { $ref: 'b.best' } }, produces: 'text' },
        ],
      });
    });
    const events = new RunEvents();
    const seen = collect(events);
    const agent = defineAgent({
      name: 'dedupe',
      description: 'd',
      instructions: 'i',
      model,
      tools: [same, read, search],
      planner: 'plan-execute',
    });
    const result = await run(agent, 'task', { events });
    expect(result.status).toBe('completed');
    const replanned = seen.find((event) => event.type === 'plan.replanned');
    expect(replanned?.type === 'plan.replanned' ? replanned.failed : []).toMatchObject([
      { step: 'rb', code: 'DUPLICATE_CALL' },
    ]);
    expect(result.partial.toolResults.filter((record) => record.tool === 'read')).toHaveLength(1);
  });
});
