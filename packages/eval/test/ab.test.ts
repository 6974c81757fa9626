import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  abMarkdown,
  defineSuite,
  inputFor,
  RecordingSession,
  runAb,
  runVariant,
  saveRecording,
  type Variant,
} from '../src/index.js';

describe('runAb', () => {
  it('compares two variants of the research team on the same cases, with McNemar and bootstrap CIs', async () => {
    const baseline: Variant = { name: 'baseline', team: 'research', model: 'offline', bundle: 'sha256:aaa' };
    // The worse arm: the researcher gets two steps, too few to search, read and answer.
    const terse: Variant = {
      name: 'terse',
      team: 'research',
      model: 'offline',
      limits: { researcher: { maxSteps: 2 } },
    };
    // One case replays recorded tool results to both arms.
    const dir = mkdtempSync(join(tmpdir(), 'baton-ab-'));
    const recorder = new RecordingSession();
    const input = inputFor(baseline, { topic: 'dead letter queues for failed messages' });
    const recorded = await runVariant(baseline, input, { hooks: recorder });
    saveRecording(join(dir, 'dlq.json'), recorder.recording({ id: recorded.runId, input, team: 'research' }));
    const suite = defineSuite({
      name: 'ab-mini',
      target: baseline,
      cases: [
        {
          id: 'retries',
          topic: 'retries with exponential backoff and jitter',
          checks: [{ kind: 'citations' }],
        },
        {
          id: 'dlq',
          input,
          checks: [{ kind: 'citations' }],
          replay: { recording: 'dlq.json', mode: 'full' },
        },
        { id: 'kill', topic: 'a kill switch for production agents', checks: [{ kind: 'citations' }] },
      ],
    });

    const report = await runAb(suite, baseline, terse, {
      samples: 2,
      seed: 5,
      iterations: 500,
      baseDir: dir,
    });
    expect(report.perVariant).toBe(6);
    expect(report.a).toMatchObject({ label: 'baseline', bundle: 'sha256:aaa' });
    expect(report.a.summary.successRate).toBe(1);
    expect(report.b.summary.successRate).toBe(0);
    expect(report.mcnemar).toMatchObject({ b: 6, c: 0, discordant: 6 });
    expect(report.mcnemar.pValue).toBeCloseTo(2 / 64, 10);
    expect(report.verdict).toContain('baseline is better on success rate');
    expect(report.deltas.passRate).toMatchObject({ mean: -1, low: -1, high: -1, n: 3, seed: 5 });
    expect(report.deltas.steps?.mean).toBeLessThan(0);
    expect(report.deltas.costUsd).toMatchObject({ mean: 0 });
    expect(report.warning).toContain('200–500 per variant');
    // The recorded case replayed its tool results in both arms (A/B replays tools only: the models run).
    const dlq = report.cases.find((c) => c.id === 'dlq');
    expect(dlq).toMatchObject({ a: [true, true], b: [false, false] });
    // Baseline: every tool call (a search and a read per sample) came from the recording, none ran live.
    expect(dlq?.replay?.a).toEqual({ hits: 4, misses: 0 });
    // The terse researcher stops after its search: fewer calls, still from the recording.
    expect(dlq?.replay?.b.misses).toBe(0);
    expect(dlq?.replay?.b.hits).toBeGreaterThan(0);

    // Same seed, same intervals.
    const again = await runAb(suite, baseline, terse, { samples: 2, seed: 5, iterations: 500, baseDir: dir });
    expect(again.deltas.passRate).toEqual(report.deltas.passRate);
    expect(again.deltas.steps).toEqual(report.deltas.steps);
    expect(again.mcnemar).toEqual(report.mcnemar);

    const markdown = abMarkdown(report);
    expect(markdown).toContain(
      '**McNemar (exact):** b = 6 (A pass, B fail), c = 0 (A fail, B pass), p = 0.0313',
    );
    expect(markdown).toContain('> ⚠️ Only 6 sample(s) per variant');
    expect(markdown).toContain('| success rate | -1.000 | -1.000 | -1.000 |');
  });

  it('an arm equal to the other gives no discordant pair', async () => {
    const v: Variant = { team: 'research', model: 'offline' };
    const suite = defineSuite({
      name: 'same',
      target: v,
      cases: [{ id: 'idem', topic: 'idempotency keys for tool calls', checks: [{ kind: 'citations' }] }],
    });
    const report = await runAb(suite, v, v, { iterations: 200 });
    expect(report.mcnemar).toMatchObject({ discordant: 0, pValue: 1 });
    expect(report.verdict).toContain('No discordant pair');
    expect(report.deltas.steps).toMatchObject({ mean: 0 });
  });
});
