/**
 * Durable single-agent runs (issue 11): a journaled run that crashes resumes from its records without
 * asking the model again for recorded steps or running a recorded tool again; a call that may have run
 * is surfaced as a possible duplicate (and a `once` tool waits for a person); paused states are used
 * once, refused when edited, and end `timeout` when their time is spent; approvals are durable records.
 */
import {
  type BatonError,
  defineAgent,
  defineTool,
  type JournalRecord,
  type JournalWriter,
  memoryApprovals,
  memoryJournal,
  type RunJournal,
  type RunState,
  resume,
  run,
  type ToolContext,
} from '@baton/core';
import { scriptedModel } from '@baton/core/testing';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

/** A journal whose process "dies" after `limit` appends: later appends fail, nothing more is recorded. */
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

/** Counts executions per idempotency key: the side channel that says whether an effect repeated. */
function sideEffects() {
  const executions: string[] = [];
  const contexts: ToolContext[] = [];
  const send = defineTool({
    name: 'send_email',
    description: 'sends an email',
    input: z.object({ to: z.string() }),
    risk: 'write',
    execute: (_args, context) => {
      executions.push(context.idempotencyKey);
      contexts.push(context);
      return { sent: true };
    },
  });
  return { send, executions, contexts };
}

const base = { description: 'd', instructions: 'i' };

describe('a journaled run resumes from its records', () => {
  it('after a crash between steps, recorded steps replay and recorded tools never run again', async () => {
    const journal = memoryJournal();
    const { send, executions } = sideEffects();
    const script = [
      { toolCalls: [{ name: 'send_email', args: { to: 'a@x' } }] },
      { toolCalls: [{ name: 'send_email', args: { to: 'b@x' } }] },
      'both sent',
    ];
    const first = scriptedModel(script);
    const agent = defineAgent({ ...base, name: 'mailer', model: first, tools: [send] });
    // started, step 1, intent, outcome, step 2 — then the process dies before step 2's tool.
    const crashed = await run(agent, 'send two', { runId: 'r-crash', journal: dyingAfter(journal, 5) });
    expect(crashed.status).toBe('failed');
    expect(crashed.error?.code).toBe('JOURNAL_UNAVAILABLE');
    expect(executions).toEqual(['r-crash:call_1_0']);

    const second = scriptedModel(script.slice(2));
    const resumed = await resume(agent.with({ model: second }), 'r-crash', { journal });
    expect(resumed.status).toBe('completed');
    expect(resumed.output).toBe('both sent');
    // Step 1 and 2 were replayed: the second model was asked only for step 3.
    expect(second.requests).toHaveLength(1);
    expect(executions).toEqual(['r-crash:call_1_0', 'r-crash:call_2_0']);
    expect(resumed.steps).toBe(3);
    // The run was charged for everything it did, replayed steps included.
    expect(resumed.usage).toEqual({ inputTokens: 30, outputTokens: 15 });
  });

  it('a run whose journal dies before its end is recorded ends failed, not silently completed', async () => {
    const agent = defineAgent({ ...base, name: 'answerer', model: scriptedModel(['the answer']) });
    // Only `run.started` is written: the step and the end are not.
    const result = await run(agent, 'ask', { runId: 'r-end', journal: dyingAfter(memoryJournal(), 1) });
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('JOURNAL_UNAVAILABLE');
    expect(result.error?.message).toContain('the process died');
  });

  it('a call interrupted after it started is run again only as a possible duplicate, with the same key', async () => {
    const journal = memoryJournal();
    const { send, executions, contexts } = sideEffects();
    const script = [{ toolCalls: [{ name: 'send_email', args: { to: 'a@x' } }] }, 'sent'];
    const agent = defineAgent({ ...base, name: 'mailer', model: scriptedModel(script), tools: [send] });
    // started, step 1, intent — the tool runs, then the process dies before its outcome is recorded.
    await run(agent, 'send', { runId: 'r-dup', journal: dyingAfter(journal, 3) });
    expect(executions).toEqual(['r-dup:call_1_0']);
    expect(contexts[0]?.possibleDuplicate).toBe(false);

    const resumed = await resume(agent.with({ model: scriptedModel(script.slice(1)) }), 'r-dup', { journal });
    expect(resumed.status).toBe('completed');
    expect(executions).toEqual(['r-dup:call_1_0', 'r-dup:call_1_0']);
    expect(contexts[1]?.possibleDuplicate).toBe(true);
  });

  it('a `once` tool interrupted mid-call waits for a person before it runs again', async () => {
    const journal = memoryJournal();
    const approvals = memoryApprovals();
    let payments = 0;
    const pay = defineTool({
      name: 'pay',
      description: 'pays',
      input: z.object({ amount: z.number() }),
      risk: 'write',
      once: true,
      execute: () => {
        payments++;
        return { paid: true };
      },
    });
    const script = [{ toolCalls: [{ name: 'pay', args: { amount: 10 } }] }, 'paid'];
    const agent = defineAgent({ ...base, name: 'payer', model: scriptedModel(script), tools: [pay] });
    await run(agent, 'pay', { runId: 'r-once', journal: dyingAfter(journal, 3) });
    expect(payments).toBe(1);

    const again = agent.with({ model: scriptedModel(script.slice(1)) });
    const paused = await resume(again, 'r-once', { journal, approvals });
    expect(paused.status).toBe('awaiting_approval');
    expect(payments).toBe(1);
    const [request] = await approvals.list({ status: 'pending' });
    expect(request).toMatchObject({
      runId: 'r-once',
      toolCallId: 'call_1_0~rerun',
      reason: 'possible_duplicate',
    });
    // A person checked: the payment did not go through; run it again.
    await approvals.decide('r-once', 'call_1_0~rerun', { decision: 'approve' }, 'ops@example');
    const done = await resume(again, 'r-once', { journal, approvals });
    expect(done.status).toBe('completed');
    expect(payments).toBe(2);
  });

  it('a finished run resumed again returns its recorded result and runs nothing', async () => {
    const journal = memoryJournal();
    const { send, executions } = sideEffects();
    const model = scriptedModel([{ toolCalls: [{ name: 'send_email', args: { to: 'a@x' } }] }, 'done']);
    const agent = defineAgent({ ...base, name: 'mailer', model, tools: [send] });
    const first = await run(agent, 'go', { runId: 'r-fin', journal });
    const again = await resume(agent, 'r-fin', { journal });
    expect(again).toEqual(first);
    expect(executions).toHaveLength(1);
  });

  it('refuses a journal written by another configuration, naming both hashes, unless told to migrate', async () => {
    const journal = memoryJournal();
    const agent = defineAgent({ ...base, name: 'a', model: scriptedModel(['x']) });
    await run(agent, 'go', { runId: 'r-hash', journal: dyingAfter(journal, 1) });
    const changed = agent.with({ instructions: 'different instructions' });
    await expect(resume(changed, 'r-hash', { journal })).rejects.toMatchObject({
      code: 'JOURNAL_CONFIG_MISMATCH',
      details: { journaled: expect.any(String), current: expect.any(String) },
    });
    const migrated = await resume(changed.with({ model: scriptedModel(['y']) }), 'r-hash', {
      journal,
      migrate: true,
    });
    expect(migrated.status).toBe('completed');
  });
});

describe('paused states are single-use and tamper-evident', () => {
  function destructive() {
    let wipes = 0;
    const wipe = defineTool({
      name: 'wipe',
      description: 'deletes everything',
      input: z.object({ table: z.string() }),
      risk: 'destructive',
      execute: () => {
        wipes++;
        return { wiped: true };
      },
    });
    const model = scriptedModel([{ toolCalls: [{ name: 'wipe', args: { table: 'logs' } }] }, 'wiped'], {
      whenExhausted: 'repeat-last',
    });
    const agent = defineAgent({ ...base, name: 'janitor', model, tools: [wipe] });
    return { agent, count: () => wipes };
  }

  it('the same state resumed twice runs the destructive tool once (same process, no journal)', async () => {
    const { agent, count } = destructive();
    const paused = await run(agent, 'clean up');
    expect(paused.status).toBe('awaiting_approval');
    const state = paused.state as RunState;
    const decisions = { call_1_0: { decision: 'approve' as const } };
    expect((await resume(agent, state, { decisions })).status).toBe('completed');
    await expect(resume(agent, state, { decisions })).rejects.toMatchObject({ code: 'STATE_CONSUMED' });
    expect(count()).toBe(1);
  });

  it('with a journal, a second resume of the same state anywhere is refused', async () => {
    const { agent, count } = destructive();
    const journal = memoryJournal();
    const paused = await run(agent, 'clean up', { journal, runId: 'r-state' });
    const state = JSON.parse(JSON.stringify(paused.state)) as RunState;
    const decisions = { call_1_0: { decision: 'approve' as const } };
    const [a, b] = await Promise.allSettled([
      resume(agent, state, { journal, decisions }),
      resume(agent, state, { journal, decisions }),
    ]);
    const outcomes = [a, b].map((outcome) =>
      outcome.status === 'fulfilled' ? outcome.value.status : (outcome.reason as BatonError).code,
    );
    expect(outcomes.filter((status) => status === 'completed')).toHaveLength(1);
    expect(count()).toBe(1);
  });

  it('a state whose pending arguments were edited by hand is refused', async () => {
    const { agent, count } = destructive();
    const paused = await run(agent, 'clean up');
    const state = JSON.parse(JSON.stringify(paused.state)) as RunState;
    (state.pending?.toolCalls[0] as { arguments: unknown }).arguments = { table: 'users' };
    await expect(
      resume(agent, state, { decisions: { call_1_0: { decision: 'approve' } } }),
    ).rejects.toMatchObject({
      code: 'STATE_INVALID',
    });
    expect(count()).toBe(0);
  });

  it('a signed state edited in both places is refused by its signature', async () => {
    const { agent, count } = destructive();
    const paused = await run(agent, 'clean up', { stateKey: 'app-secret' });
    const state = JSON.parse(JSON.stringify(paused.state)) as RunState;
    expect(state.signature).toEqual(expect.any(String));
    (state.pending?.toolCalls[0] as { arguments: unknown }).arguments = { table: 'users' };
    const last = state.messages.findLast((message) => message.role === 'assistant');
    if (last?.role === 'assistant' && last.toolCalls?.[0]) last.toolCalls[0].arguments = { table: 'users' };
    await expect(
      resume(agent, state, { stateKey: 'app-secret', decisions: { call_1_0: { decision: 'approve' } } }),
    ).rejects.toMatchObject({ code: 'STATE_INVALID', message: expect.stringContaining('signature') });
    // The untouched state still resumes with the key.
    expect(
      (
        await resume(agent, paused.state as RunState, {
          stateKey: 'app-secret',
          decisions: { call_1_0: { decision: 'approve' } },
        })
      ).status,
    ).toBe('completed');
    expect(count()).toBe(1);
  });

  it('a state whose time was already spent ends `timeout` without running the tool', async () => {
    const { agent, count } = destructive();
    const paused = await run(agent.with({ limits: { timeoutMs: 1_000 } }), 'clean up');
    const state = { ...(paused.state as RunState), elapsedMs: 1_000 };
    const result = await resume(agent.with({ limits: { timeoutMs: 1_000 } }), state, {
      decisions: { call_1_0: { decision: 'approve' } },
    });
    expect(result.status).toBe('timeout');
    expect(count()).toBe(0);
  });

  it('an edited approval records the edited arguments as the ones executed', async () => {
    const { agent } = destructive();
    const paused = await run(agent, 'clean up');
    const result = await resume(agent, paused.state as RunState, {
      decisions: { call_1_0: { decision: 'edit', args: { table: 'tmp' } } },
    });
    expect(result.status).toBe('completed');
    expect(result.partial.toolResults[0]?.args).toEqual({ table: 'tmp' });
  });
});

describe('approvals are durable records', () => {
  it('a run pauses into the store; a decision made elsewhere is picked up by the resume', async () => {
    const journal = memoryJournal();
    const approvals = memoryApprovals();
    let wipes = 0;
    const wipe = defineTool({
      name: 'wipe',
      description: 'deletes',
      input: z.object({ table: z.string() }),
      risk: 'destructive',
      execute: ({ table }) => {
        wipes++;
        return { wiped: table };
      },
    });
    const model = scriptedModel([{ toolCalls: [{ name: 'wipe', args: { table: 'logs' } }] }, 'done'], {
      whenExhausted: 'repeat-last',
    });
    const agent = defineAgent({ ...base, name: 'janitor', model, tools: [wipe] });
    const paused = await run(agent, 'clean', { runId: 'r-appr', journal, approvals });
    expect(paused.status).toBe('awaiting_approval');
    expect(await approvals.list({ status: 'pending' })).toMatchObject([
      { runId: 'r-appr', toolCallId: 'call_1_0', tool: 'wipe', args: { table: 'logs' }, reason: 'risk' },
    ]);
    await approvals.decide('r-appr', 'call_1_0', { decision: 'edit', args: { table: 'tmp' } }, 'alice');
    const done = await resume(agent, 'r-appr', { journal, approvals });
    expect(done.status).toBe('completed');
    expect(wipes).toBe(1);
    expect(done.partial.toolResults[0]?.data).toEqual({ wiped: 'tmp' });
    const records = (await journal.read('r-appr')).map((entry) => entry.record.type);
    expect(records).toContain('approval.requested');
    expect(records).toContain('approval.decided');
    expect(records.at(-1)).toBe('run.finished');
  });

  it('an approval that waits too long expires as denied', async () => {
    const approvals = memoryApprovals();
    const journal = memoryJournal();
    const wipe = defineTool({
      name: 'wipe',
      description: 'deletes',
      input: z.object({}),
      risk: 'destructive',
      execute: () => 'wiped',
    });
    const agent = defineAgent({
      ...base,
      name: 'janitor',
      model: scriptedModel([{ toolCalls: [{ name: 'wipe', args: {} }] }]),
      tools: [wipe],
    });
    const paused = await run(agent, 'clean', { runId: 'r-exp', journal, approvals, approvalTimeoutMs: 1 });
    expect(paused.status).toBe('awaiting_approval');
    await new Promise((resolve) => setTimeout(resolve, 5));
    const result = await resume(agent, 'r-exp', { journal, approvals });
    expect(result.status).toBe('denied');
    expect(result.error?.message).toContain('expired');
  });
});
