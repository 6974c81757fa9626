import { bundledCorpus, inlineCitations } from '@baton/agents';
import { describe, expect, it } from 'vitest';
import { main } from '../src/with-supervisor/main.js';
import { capture } from './capture.js';

describe('examples/with-supervisor', () => {
  it('the manager delegates research, writing and review (and one revision), then reports — offline', async () => {
    const io = capture();
    const result = await main({
      topic: 'dead-letter queues and crash recovery',
      out: io.out,
      progress: io.progress,
    });

    expect(result.status).toBe('completed');
    expect(result.stopReason.kind).toBe('completed');
    expect(result.transcript.map((h) => `${h.from}->${h.to}`)).toEqual([
      'user->manager',
      'manager->researcher',
      'manager->writer',
      'manager->reviewer',
      'manager->writer',
      'manager->reviewer',
    ]);
    // Each delegation was typed: the writer's second input is a revision of its first draft.
    expect(result.transcript[4]?.input).toMatchObject({ revision: { round: 1 } });
    expect(result.members.reviewer).toMatchObject({ invocations: 2, status: 'completed' });

    const report = io.stdout();
    expect(report).toContain('## Recommendations');
    const cited = inlineCitations(report);
    expect(cited.length).toBeGreaterThan(1);
    for (const id of cited) expect(bundledCorpus().has(id), id).toBe(true);
    expect(report).toMatch(/^manager +completed +1 /m);
    expect(report).toContain('Verdict: approved by the reviewer');
  });
});
