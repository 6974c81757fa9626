/**
 * Durable team runs in one process (issue 11): a journaled team interrupted mid-run resumes without
 * running a member whose result was recorded, a member that needs a person pauses the whole team with the
 * pending calls listed, and the team resumes once they are decided. Cross-process cases (SIGKILL, NATS,
 * the CLI) are in the bus and CLI suites.
 */
import {
  type Agent,
  defineAgent,
  defineTool,
  type JournalRecord,
  type JournalWriter,
  memoryApprovals,
  memoryJournal,
  type RunJournal,
} from '@baton/core';
import { scriptedModel } from '@baton/core/testing';
import { pipeline, resumeTeam, supervisor } from '@baton/supervisor';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

/** A journal whose process "dies" after `limit` appends (shared by the team and its local members). */
function dyingAfter(journal: RunJournal, limit: number): RunJournal {
  let appended = 0;
  return {
    ...journal,
    async open(runId, writer): Promise<JournalWriter> {
      const inner = await journal.open(runId, writer);
      return {
        runId,
        existing: inner.existing,
        async append(record: JournalRecord) {
          if (appended >= limit) throw new Error('the process died');
          appended++;
          return inner.append(record);
        },
      };
    },
  };
}

const base = { description: 'a member', instructions: 'i' };

/**
 * A stage that answers on the next turn of the event loop, as a model reached over the network does (the
 * journal writes what a run recorded when it waits); `calls` counts the model calls it really made.
 */
function stage(name: string, calls: { [name: string]: number }): Agent<string, string> {
  return defineAgent({
    ...base,
    name,
    model: scriptedModel(async () => {
      await new Promise((resolve) => setImmediate(resolve));
      calls[name] = (calls[name] ?? 0) + 1;
      return `${name} done`;
    }),
  });
}

describe('a journaled team resumes from its records', () => {
  it('a pipeline interrupted mid-way resumes: recorded members do not run again', async () => {
    const journal = memoryJournal();
    const calls: Record<string, number> = {};
    const team = pipeline({
      name: 'three',
      stages: [{ agent: stage('a', calls) }, { agent: stage('b', calls) }, { agent: stage('c', calls) }],
    });
    // The journal dies part-way through stage b: the team stops at its next step.
    const crashed = await team.run('go', { runId: 'team-1', journal: dyingAfter(journal, 9) });
    expect(crashed.status).toBe('failed');
    const recorded = (await journal.read('team-1')).flatMap((entry) =>
      entry.record.type === 'handoff.done' ? [entry.record.member] : [],
    );
    expect(recorded).toContain('a');
    const before = { ...calls };

    const resumed = await resumeTeam(team, 'team-1', { journal });
    expect(resumed.status).toBe('completed');
    expect(resumed.output).toBe('c done');
    // A member whose result was recorded did not run again.
    for (const member of recorded) expect(calls[member], member).toBe(before[member]);
    expect(resumed.transcript.map((record) => record.to)).toEqual(['a', 'b', 'c']);
    expect(resumed.members.a?.steps).toBe(1);

    // Resumed again, the finished team returns its recorded result and runs nothing.
    const settled = { ...calls };
    const again = await resumeTeam(team, 'team-1', { journal });
    expect(again.status).toBe('completed');
    expect(calls).toEqual(settled);
  });

  it('resuming an unknown team run is a typed error, not a new run', async () => {
    const team = pipeline({ name: 'one', stages: [{ agent: stage('a', {}) }] });
    await expect(resumeTeam(team, 'never-ran', { journal: memoryJournal() })).rejects.toMatchObject({
      code: 'RUN_UNKNOWN',
    });
  });

  it('a team started by another configuration is refused, naming both hashes', async () => {
    const journal = memoryJournal();
    const calls: Record<string, number> = {};
    await pipeline({ name: 'p', stages: [{ agent: stage('a', calls) }] }).run('go', {
      runId: 'team-cfg',
      journal: dyingAfter(journal, 2),
    });
    const changed = pipeline({
      name: 'p',
      stages: [{ agent: stage('a', calls) }, { agent: stage('b', calls) }],
    });
    await expect(resumeTeam(changed, 'team-cfg', { journal })).rejects.toMatchObject({
      code: 'JOURNAL_CONFIG_MISMATCH',
    });
  });
});

describe('a member that needs a person pauses the team', () => {
  function refundTeam(executions: string[]) {
    const refund = defineTool({
      name: 'refund',
      description: 'refunds an order',
      input: z.object({ order: z.string(), amount: z.number() }),
      risk: 'destructive',
      execute: ({ order, amount }, context) => {
        executions.push(`${context.idempotencyKey} ${order} ${amount}`);
        return { refunded: amount };
      },
    });
    const billing = defineAgent({
      ...base,
      name: 'billing',
      description: 'Refunds orders',
      model: scriptedModel((request) =>
        request.messages.at(-1)?.role === 'tool'
          ? 'refund issued'
          : { toolCalls: [{ name: 'refund', args: { order: 'A-1', amount: 40 } }] },
      ),
      tools: [refund],
    });
    const manager = defineAgent({
      ...base,
      name: 'manager',
      // Decides from the conversation, as a model does: a successful delegation result → the answer.
      model: scriptedModel((request) =>
        request.messages.some((message) => message.role === 'tool' && !message.isError)
          ? 'the customer was refunded'
          : { toolCalls: [{ name: 'delegate_to_billing', args: { task: 'refund order A-1' } }] },
      ),
    });
    return supervisor({ name: 'support', manager, workers: [billing] });
  }

  it('pauses with the pending call listed, then completes when it is decided; the refund runs once', async () => {
    const journal = memoryJournal();
    const approvals = memoryApprovals();
    const executions: string[] = [];
    const team = refundTeam(executions);
    const paused = await team.run('refund A-1', { runId: 'support-1', journal, approvals });
    expect(paused.status).toBe('awaiting_approval');
    expect(paused.stopReason.kind).toBe('awaiting_approval');
    expect(paused.pending).toMatchObject([
      { member: 'billing', tool: 'refund', args: { order: 'A-1', amount: 40 } },
    ]);
    expect(executions).toEqual([]);
    const [request] = await approvals.list({ status: 'pending' });
    expect(request).toMatchObject({ tool: 'refund', teamRunId: 'support-1' });

    // A person lowers the amount; the team resumes (here in the same process, through its journal).
    await approvals.decide(
      request?.runId as string,
      request?.toolCallId as string,
      {
        decision: 'edit',
        args: { order: 'A-1', amount: 25 },
      },
      'carol',
    );
    const done = await resumeTeam(refundTeam(executions), 'support-1', { journal, approvals });
    expect(done.status).toBe('completed');
    expect(done.output).toBe('the customer was refunded');
    expect(executions).toHaveLength(1);
    expect(executions[0]).toMatch(/ A-1 25$/);
    expect(done.transcript.map((record) => `${record.from}→${record.to}:${record.status}`)).toEqual([
      'user→manager:completed',
      'manager→billing:completed',
    ]);
  });

  it('a denied call ends the member denied and the team says so', async () => {
    const journal = memoryJournal();
    const approvals = memoryApprovals();
    const executions: string[] = [];
    const paused = await refundTeam(executions).run('refund A-1', { runId: 'support-2', journal, approvals });
    const pending = paused.pending?.[0];
    await approvals.decide(
      pending?.runId as string,
      pending?.toolCallId as string,
      { decision: 'deny', reason: 'fraud' },
      'dan',
    );
    const done = await resumeTeam(refundTeam(executions), 'support-2', { journal, approvals });
    expect(executions).toEqual([]);
    expect(done.members.billing?.status).toBe('denied');
  });
});

describe('a team resumed at any crash point accounts for everything recorded', () => {
  /** Dies right after the record `when` picks out has been written. */
  function dyingAt(journal: RunJournal, when: (runId: string, record: JournalRecord) => boolean): RunJournal {
    let dead = false;
    return {
      ...journal,
      async open(runId, writer): Promise<JournalWriter> {
        const inner = await journal.open(runId, writer);
        return {
          runId,
          existing: inner.existing,
          async append(record: JournalRecord) {
            if (dead) throw new Error('the process died');
            const entry = await inner.append(record);
            if (when(runId, record)) dead = true;
            return entry;
          },
        };
      },
    };
  }

  const managerTeam = () =>
    supervisor({
      name: 'sup',
      manager: defineAgent({
        ...base,
        name: 'manager',
        model: scriptedModel((request) =>
          request.messages.some((message) => message.role === 'tool')
            ? 'final'
            : { toolCalls: [{ id: 'd1', name: 'delegate_to_worker', args: { task: 'x' } }] },
        ),
      }),
      workers: [defineAgent({ ...base, name: 'worker', model: scriptedModel(() => 'worker done') })],
    });

  it.each([
    [
      'after the manager recorded its own end',
      (runId: string, record: JournalRecord) => runId === 'sup-1-manager' && record.type === 'run.finished',
    ],
    [
      'after the team recorded the manager’s handoff',
      (runId: string, record: JournalRecord) =>
        runId === 'sup-1' && record.type === 'handoff.done' && record.member === 'manager',
    ],
  ])(
    'a supervisor killed %s keeps its delegations in the transcript, members and ledger',
    async (_when, when) => {
      const uninterrupted = await managerTeam().run('go', { journal: memoryJournal(), runId: 'sup-0' });
      const journal = memoryJournal();
      await managerTeam().run('go', { journal: dyingAt(journal, when), runId: 'sup-1' });
      const resumed = await resumeTeam(managerTeam(), 'sup-1', { journal });
      expect(resumed.status).toBe('completed');
      expect(resumed.transcript.map((record) => record.to)).toEqual(['manager', 'worker']);
      expect(Object.keys(resumed.members).sort()).toEqual(Object.keys(uninterrupted.members).sort());
      expect(resumed.budget.used).toEqual(uninterrupted.budget.used);
    },
  );

  it('a pipeline stage that recorded its end before the team did is charged to the resumed ledger', async () => {
    const calls: Record<string, number> = {};
    const team = () =>
      pipeline({ name: 'p', stages: [{ agent: stage('a', calls) }, { agent: stage('b', calls) }] });
    const uninterrupted = await team().run('go', { journal: memoryJournal(), runId: 'p-0' });
    const journal = memoryJournal();
    await team().run('go', {
      journal: dyingAt(journal, (runId, record) => runId === 'p-1-h1' && record.type === 'run.finished'),
      runId: 'p-1',
    });
    const resumed = await resumeTeam(team(), 'p-1', { journal });
    expect(resumed.status).toBe('completed');
    expect(resumed.budget.used).toEqual(uninterrupted.budget.used);
  });
});
