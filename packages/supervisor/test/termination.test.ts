import {
  and,
  costBudget,
  external,
  maxMessages,
  maxRounds,
  or,
  type StopSignal,
  type TeamProgress,
  textMention,
  timeout,
  tokenBudget,
  verdict,
} from '@baton/supervisor';
import { describe, expect, it } from 'vitest';

const at = (partial: Partial<TeamProgress>): TeamProgress => ({
  rounds: 0,
  messages: 0,
  tokens: 0,
  costUsd: 0,
  elapsedMs: 0,
  ...partial,
});

describe('termination conditions', () => {
  it('fire at their limits and name themselves', () => {
    expect(maxRounds(3).check(at({ rounds: 2 }))).toBeUndefined();
    expect(maxRounds(3).check(at({ rounds: 3 }))).toMatchObject({ condition: 'maxRounds(3)' });
    expect(maxMessages(4).check(at({ messages: 4 }))?.condition).toBe('maxMessages(4)');
    expect(tokenBudget(100).check(at({ tokens: 120 }))?.message).toBe('120 tokens used of 100');
    expect(costBudget(0.5).check(at({ costUsd: 0.5 }))?.condition).toBe('costBudget(0.5)');
    const mention = textMention('APPROVED');
    expect(mention.check(at({ last: { agent: 'r', text: 'not yet', output: null } }))).toBeUndefined();
    expect(mention.check(at({ last: { agent: 'r', text: 'APPROVED!', output: null } }))?.message).toBe(
      'r mentioned "APPROVED"',
    );
    const approved = verdict((p) => (p.last?.output as { ok?: boolean })?.ok === true, 'reviewer approves');
    expect(approved.check(at({ last: { agent: 'r', text: '', output: { ok: true } } }))?.condition).toBe(
      'reviewer approves',
    );
  });

  it('are latched until reset', () => {
    const condition = maxMessages(2);
    expect(condition.check(at({ messages: 2 }))).toBeDefined();
    expect(condition.check(at({ messages: 0 }))).toBeDefined();
    condition.reset();
    expect(condition.check(at({ messages: 0 }))).toBeUndefined();
  });

  it('or fires on the first; and fires once all have fired, even at different times', () => {
    const either = or(maxMessages(5), textMention('DONE'));
    expect(
      either.check(at({ messages: 1, last: { agent: 'a', text: 'DONE', output: 'DONE' } }))?.condition,
    ).toBe('textMention("DONE")');
    const both = and(maxMessages(3), textMention('DONE'));
    expect(
      both.check(at({ messages: 1, last: { agent: 'a', text: 'DONE', output: 'DONE' } })),
    ).toBeUndefined();
    expect(both.check(at({ messages: 3, last: { agent: 'a', text: 'more', output: 'more' } }))).toMatchObject(
      {
        condition: 'and(maxMessages(3), textMention("DONE"))',
      },
    );
    both.reset();
    expect(both.check(at({ messages: 0 }))).toBeUndefined();
  });

  it('timeout is a real timer that fires on its own, and reset disarms it', async () => {
    const condition = timeout(30);
    const fired: StopSignal[] = [];
    condition.start?.((signal) => fired.push(signal));
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(fired).toEqual([
      { condition: 'timeout(30)', message: 'the team ran for 30 ms', timedOut: true, interrupt: true },
    ]);
    condition.reset();
    expect(condition.check(at({}))).toBeUndefined();
    condition.start?.((signal) => fired.push(signal));
    condition.reset();
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(fired).toHaveLength(1);
  });

  it('external fires when its signal aborts, also inside a combination', () => {
    const controller = new AbortController();
    const fired: StopSignal[] = [];
    const condition = or(maxRounds(10), external(controller.signal, 'user pressed stop'));
    condition.start?.((signal) => fired.push(signal));
    controller.abort();
    expect(fired[0]).toMatchObject({ condition: 'user pressed stop', interrupt: true });
  });

  it('reject invalid limits at definition time', () => {
    expect(() => maxRounds(0)).toThrow(/maxRounds/);
    expect(() => timeout(-5)).toThrow(/timeout/);
    expect(() => textMention('')).toThrow(/textMention/);
    expect(() => or()).toThrow(/at least one/);
  });
});
