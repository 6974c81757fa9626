import {
  type Draft,
  draftSchema,
  offlineModel,
  type ResearchFindings,
  researchContract,
  researcher,
  reviewContract,
  reviewer,
  type Verdict,
  verdictSchema,
  writeContract,
  writer,
} from '@baton/agents';
import { type Agent, defineAgent, defineTool, type HandoffContract, run, ToolError } from '@baton/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

/**
 * A delegation tool shaped like the ones the supervisor generates: named `delegate_to_<worker>`, with
 * the worker's contract input as its schema, running the worker and returning its output.
 */
function delegateTo<I, O>(worker: Agent<I, O>, contract: HandoffContract<I, O>) {
  return defineTool({
    name: `delegate_to_${worker.name}`,
    description: worker.description,
    input: contract.input,
    maxResultTokens: 8_000,
    execute: async (args, context) => {
      const result = await run(worker, args, { signal: context.signal });
      if (result.status !== 'completed')
        throw new ToolError(result.status.toUpperCase(), result.partial.summary);
      return result.output;
    },
  });
}

function manager<O>(output?: z.ZodType<O>) {
  return defineAgent<string, O>({
    name: 'manager',
    description: 'Runs the research team.',
    instructions: 'Delegate research, writing and review, then report.',
    model: offlineModel('manager'),
    tools: [
      delegateTo(researcher({ model: offlineModel('researcher') }), researchContract),
      delegateTo(writer({ model: offlineModel('writer') }), writeContract),
      delegateTo(reviewer({ model: offlineModel('reviewer') }), reviewContract),
    ],
    ...(output ? { output } : {}),
    limits: { maxSteps: 10 },
  });
}

describe('offline manager', () => {
  it('delegates research → write → review, sends the draft back once, and reports the approved draft', async () => {
    const result = await run(manager(), 'dead-letter queues and crash recovery');
    expect(result.status).toBe('completed');
    const order = result.partial.toolResults.map(
      (record) => `${record.tool.replace('delegate_to_', '')}:${record.ok}`,
    );
    expect(order).toEqual([
      'researcher:true',
      'writer:true',
      'reviewer:true',
      'writer:true',
      'reviewer:true',
    ]);
    const research = result.partial.toolResults[0]?.data as ResearchFindings;
    expect(research.topic).toBe('dead-letter queues and crash recovery');
    const revisionArgs = result.partial.toolResults[3]?.args as {
      revision: { round: number; issues: unknown[] };
    };
    expect(revisionArgs.revision.round).toBe(1);
    expect(result.partial.toolResults[4]?.data).toMatchObject({ decision: 'approve' });
    const report = result.output as string;
    expect(report).toMatch(/^# Dead-letter Queues and Crash Recovery\n/);
    expect(report).toContain('## Recommendations');
    expect(report).toContain('- [dead-letter-queues] Dead-letter queues');
    expect(report).toContain('Review: approved');
    expect(report).toContain('Synthesized by the Baton offline model');
  });

  it('answers with JSON for the team output schema', async () => {
    const result = await run(manager(draftSchema), 'idempotency keys');
    expect(result.status).toBe('completed');
    const draft = draftSchema.parse(result.output);
    expect(draft.sections.at(-1)?.heading).toBe('Recommendations');
    expect(draft.citations).toContain('idempotency');
  });
});

describe('offline critic and judge', () => {
  const critic = defineAgent<{ candidate: Draft }, Verdict>({
    name: 'critic',
    description: 'Critiques a draft.',
    instructions: 'Critique the candidate.',
    model: offlineModel('critic'),
    output: verdictSchema,
  });

  it('a debate converges: critique, revision against it, approval', async () => {
    const research = (
      await run(researcher({ model: offlineModel('researcher') }), { topic: 'approval gates' })
    ).output!;
    const request = { topic: research.topic, findings: research.findings, sources: research.sources };
    const first = (await run(writer({ model: offlineModel('writer') }), request)).output!;
    const critique = (await run(critic, { candidate: first })).output!;
    expect(critique.decision).toBe('revise');
    expect(critique.issues.map((issue) => issue.rule)).toContain('closing-section');

    const second = (
      await run(writer({ model: offlineModel('writer') }), {
        ...request,
        revision: { round: 1, issues: critique.issues, previousDraft: first },
      })
    ).output!;
    const approval = (await run(critic, { candidate: second })).output!;
    expect(approval.decision).toBe('approve');

    const judgeSchema = z.object({ winner: z.number().int(), approved: z.boolean(), rationale: z.string() });
    const judge = defineAgent<{ candidates: Draft[] }, z.output<typeof judgeSchema>>({
      name: 'judge',
      description: 'Picks the best candidate.',
      instructions: 'Judge.',
      model: offlineModel('judge'),
      output: judgeSchema,
    });
    const verdict = await run(judge, { candidates: [first, second] });
    expect(verdict.output).toMatchObject({ winner: 2, approved: true });
  });

  it('a critic without an output schema answers in text that says what it is', async () => {
    const agent = defineAgent({
      name: 'critic',
      description: 'Critiques.',
      instructions: 'Critique.',
      model: offlineModel('critic'),
    });
    const result = await run(agent, 'Agents are very useful. They do stuff.');
    expect(result.output).toMatch(/^REVISE \(score \d+(\.\d)?\/10; critic played by the Baton offline model/);
    expect(result.output).toContain('[major]');
  });
});
