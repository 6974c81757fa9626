import { CRITIC_PERSPECTIVES } from '@baton/teams';
import { describe, expect, it } from 'vitest';
import { main } from '../src/with-debate/main.js';
import { capture } from './capture.js';

describe('examples/with-debate', () => {
  it('critics ask for a closing section, the drafter adds it, the judge approves in round 2 — offline', async () => {
    const io = capture();
    const result = await main({
      topic: 'approval gates for destructive tools',
      out: io.out,
      progress: io.progress,
    });

    expect(result.status).toBe('completed');
    expect(result.stopReason).toMatchObject({ kind: 'approved', message: 'approved in round 2 by judge' });
    expect(result.rounds).toBe(2);
    // Two critics, two different perspectives, every round.
    const perspectives = result.transcript
      .filter((h) => h.to === 'fact-checker' || h.to === 'editor')
      .map((h) => (h.input as { perspective: string }).perspective);
    expect(new Set(perspectives)).toEqual(new Set(Object.values(CRITIC_PERSPECTIVES)));
    // Round 1 critiques went back to the drafter, whose revision answered them.
    const second = result.transcript.find((h) => h.to === 'drafter' && h.round === 2)?.input as
      | { critiques?: { issues: string[] }[] }
      | undefined;
    expect(second?.critiques?.[0]?.issues[0]).toMatch(/closing section/);
    const draft = (result.output as { draft: { sections: { heading: string }[] } }).draft;
    expect(draft.sections.at(-1)?.heading).toBe('Recommendations');

    const report = io.stdout();
    expect(report).toMatch(/round 1 · fact-checker: revise — .*closing section/);
    expect(report).toMatch(/round 2 · judge: approve/);
    expect(report).toContain('Verdict: approved by the judge');
    expect(report).toMatch(/Citations: \d+, all resolve to corpus documents/);
    expect(report).toMatch(/^drafter +completed +2 /m);
  });
});
