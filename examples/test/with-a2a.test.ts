import { TaskState } from '@a2a-js/sdk';
import { bundledCorpus } from '@baton/agents';
import { describe, expect, it } from 'vitest';
import { main } from '../src/with-a2a/main.js';
import { capture } from './capture.js';

describe('examples/with-a2a', () => {
  it('serves a Baton team over A2A to the SDK client, and runs a pipeline with an A2A member — offline', async () => {
    const io = capture();
    const run = await main({ topic: 'idempotency and retries', out: io.out, progress: io.progress });
    expect(run.status).toBe('completed');

    // 1. The team over A2A, seen through the SDK's client.
    const { served } = run;
    expect(served.cardName).toBe('research');
    expect(served.protocolVersion).toBe('1.0');
    expect(served.streaming).toBe(true);
    expect(served.task.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    // The client watched the team work: member steps and tool calls, and the handoffs between members.
    expect(served.progress).toEqual(
      expect.arrayContaining([
        'TASK_STATE_WORKING: user → researcher',
        'TASK_STATE_WORKING: researcher → writer',
        'TASK_STATE_WORKING: writer → reviewer',
      ]),
    );
    expect(served.progress.some((line) => /researcher: search_corpus/.test(line))).toBe(true);
    expect(served.progress.at(-1)).toBe('TASK_STATE_COMPLETED');
    const report = served.report;
    expect(report?.topic).toBe('idempotency and retries');
    expect(report?.draft.sections.length).toBeGreaterThan(0);
    const corpus = bundledCorpus();
    expect(report?.sources.length).toBeGreaterThan(0);
    for (const source of report?.sources ?? []) expect(corpus.has(source.id)).toBe(true);

    // 2. The pipeline whose reviewer answered over A2A.
    const { pipeline } = run;
    expect(pipeline.status).toBe('completed');
    expect(pipeline.transcript.map((hop) => `${hop.from}->${hop.to}`).slice(0, 3)).toEqual([
      'user->researcher',
      'researcher->writer',
      'writer->reviewer',
    ]);
    const reviewer = pipeline.members.reviewer;
    expect(reviewer?.status).toBe('completed');
    // The remote Baton server reported its usage: real steps and tokens, not one unknown step.
    expect(reviewer?.steps).toBeGreaterThan(0);
    expect(reviewer?.usage.inputTokens).toBeGreaterThan(0);
    expect(['approve', 'revise']).toContain(pipeline.output?.verdict?.decision);

    const text = io.stdout();
    expect(text).toMatch(/Agent card: "research" — A2A 1\.0, streaming on/);
    expect(text).toMatch(/tasks\/get [0-9a-f-]{36}: TASK_STATE_COMPLETED/);
    expect(text).toMatch(/reviewer \(A2A\): completed, \d+ steps reported back/);
  });
});
