import { bundledCorpus, inlineCitations } from '@baton/agents';
import { describe, expect, it } from 'vitest';
import { main } from '../src/with-pipeline/main.js';
import { capture } from './capture.js';

describe('examples/with-pipeline', () => {
  it('researches, writes, gets a revise verdict, revises, and is approved — offline', async () => {
    const io = capture();
    const result = await main({ topic: 'idempotency and retries', out: io.out, progress: io.progress });

    expect(result.status).toBe('completed');
    expect(result.transcript.map((h) => `${h.from}->${h.to}`)).toEqual([
      'user->researcher',
      'researcher->writer',
      'writer->reviewer',
      'reviewer->writer',
      'writer->reviewer',
    ]);
    // The revision carried the reviewer's issues back to the writer.
    const writerInput = result.transcript[3]?.input as
      | { revision?: { round: number; issues: unknown[] } }
      | undefined;
    const revision = writerInput?.revision;
    expect(revision?.round).toBe(1);
    expect(revision?.issues.length).toBeGreaterThan(0);
    expect(result.output?.verdict?.decision).toBe('approve');

    const report = io.stdout();
    const corpus = bundledCorpus();
    const cited = inlineCitations(report);
    expect(cited.length).toBeGreaterThan(1);
    for (const id of cited) expect(corpus.has(id), `[${id}] resolves to a corpus document`).toBe(true);
    expect(report).toContain('## Sources');
    expect(report).toMatch(/Citations: \d+, all resolve to corpus documents/);
    expect(report).toContain('Verdict: approved by the reviewer');
    expect(report).toMatch(/^researcher +completed +1 +\d+ +[\d,]+ +\$0\.0000/m);
    expect(report).toMatch(/^writer +completed +2 /m);
    expect(report).toContain(`Trace: ${result.traceId}`);
    expect(report).toContain('offline model');
    // Progress came from the typed events: tool calls and handoffs.
    expect(io.lines).toContain('[research] round 2: reviewer → writer');
    expect(io.lines.some((line) => line.startsWith('[researcher] search_corpus('))).toBe(true);
  });
});
