import { describe, expect, it } from 'vitest';
import { main } from '../src/with-planning/main.js';
import { capture } from './capture.js';

describe('examples/with-planning', () => {
  it('compares ReAct and plan-execute, then runs a plan-execute team with a nested team — offline', async () => {
    const io = capture();
    const result = await main({ topic: 'retries, timeouts and budgets', out: io.out, progress: io.progress });

    expect(result.status).toBe('completed');
    // Plan-first: one planning call and one answer; ReAct took more model steps for the same findings.
    expect(result.planned.steps).toBe(2);
    expect(result.planned.steps).toBeLessThan(result.react.steps);
    expect(result.planned.output?.findings.length).toBeGreaterThan(0);

    const team = result.team;
    expect(team.status).toBe('completed');
    expect(team.plan?.plans).toHaveLength(1);
    expect(Object.keys(team.plan?.outputs ?? {})).toEqual(['research', 'draft']);
    // The nested drafting team spent on the parent's ledger: every member's steps are in it.
    const steps = Object.values(team.members).reduce((sum, report) => sum + report.steps, 0);
    expect(team.budget.used.steps).toBe(steps);

    const text = io.stdout();
    expect(text).toMatch(/^ReAct +completed +\d+/m);
    expect(text).toMatch(/^plan-execute +completed +2 /m);
    expect(text).toContain(
      'Plans refused by validation before anything ran: planned-research: forward_reference',
    );
    expect(text).toMatch(/Report: .+ — approve/);
    // Progress came from the typed plan events.
    expect(io.lines).toContain('[researcher] plan: 8 steps (search_corpus ×4, read_document ×4)');
    expect(
      io.lines.some((line) =>
        line.startsWith(
          '[planned-research] plan refused (1 problem): draft: depends on "research", which comes later',
        ),
      ),
    ).toBe(true);
  });
});
