import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BIN_BUILT, type CliResult, runCli } from './cli.js';

const REPO = fileURLToPath(new URL('../../..', import.meta.url));

/** The CLI (built, as the suite runs it), offline: no provider keys. */
function baton(args: readonly string[], cwd = REPO): Promise<CliResult> {
  return runCli(args, { cwd, timeoutMs: 120_000 });
}

interface Report {
  ok: boolean;
  summary: {
    cases: number;
    samples: number;
    successRate: number;
    checks: Record<string, { passed: number; total: number }>;
  };
  cases: {
    id: string;
    samples: { passed: boolean; replay?: { mode: string; hits: number; misses: number } }[];
  }[];
}

describe('baton eval (built CLI)', () => {
  it('the repo golden set passes with the offline model: exit 0, JSON and Markdown reports', async () => {
    expect(existsSync(BIN_BUILT), 'packages/cli/dist/bin.js exists: run `npx tsc -b` first').toBe(true);
    const out = join(mkdtempSync(join(tmpdir(), 'baton-eval-')), 'eval-research.json');
    const result = await baton(['eval', 'evals/research.json', '--out', out]);
    expect(result.stderr).toMatch(/\[10\/10\] pass timeouts/);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(readFileSync(out, 'utf8')) as Report;
    expect(report.ok).toBe(true);
    expect(report.summary).toMatchObject({ cases: 10, samples: 10, successRate: 1 });
    // Every kind of check runs somewhere in the golden set, and every one of them passed.
    expect(Object.keys(report.summary.checks).sort()).toEqual(
      [
        'citations',
        'contains',
        'exact',
        'judge',
        'metric',
        'regex',
        'schema',
        'status',
        'tool-called',
      ].sort(),
    );
    for (const count of Object.values(report.summary.checks)) expect(count.passed).toBe(count.total);
    const markdown = readFileSync(out.replace(/\.json$/, '.md'), 'utf8');
    expect(markdown).toContain('**PASS**: success rate 100.0% (10/10 runs, 10/10 cases)');
    expect(result.stdout).toContain('# Eval: research');
  }, 180_000);

  it('exits 1 when a variant falls below the threshold', async () => {
    const result = await baton([
      'eval',
      'evals/research.json',
      '--variant',
      'no-revisions',
      '--case',
      'retries',
      '--json',
    ]);
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as Report;
    expect(report.ok).toBe(false);
    expect(report.summary.successRate).toBe(0);
    // A suite or variant that is not valid is a usage error (exit 2), with the problem named.
    const missing = await baton(['eval', 'evals/no-such-suite.json']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('Cannot read evals/no-such-suite.json');
    const badVariant = await baton([
      'eval',
      'evals/research.json',
      '--variant',
      '{"team":"research","limits":{"nobody":{"maxSteps":1}}}',
    ]);
    expect(badVariant.code).toBe(2);
    expect(badVariant.stderr).toContain('sets limits for "nobody", which is not a member');
  }, 180_000);

  it('baton ab compares two variants with the statistics and the sample-size warning', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'baton-ab-')), 'ab.json');
    const result = await baton([
      'ab',
      'evals/research.json',
      '--a',
      'baseline',
      '--b',
      'terse-researcher',
      '--seed',
      '3',
      '--out',
      out,
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('warning: Only 10 sample(s) per variant');
    const report = JSON.parse(readFileSync(out, 'utf8')) as {
      mcnemar: { b: number; c: number; pValue: number };
      deltas: { steps: { mean: number; low: number; high: number; seed: number } };
      a: { label: string };
      b: { label: string };
    };
    expect(report.a.label).toBe('baseline');
    expect(report.b.label).toBe('terse-researcher');
    expect(report.mcnemar).toMatchObject({ b: 10, c: 0 });
    expect(report.mcnemar.pValue).toBeCloseTo(2 / 1024, 10);
    expect(report.deltas.steps.mean).toBeLessThan(0);
    expect(report.deltas.steps.seed).toBe(3);
    expect(result.stdout).toContain('**McNemar (exact):** b = 10');
    expect(readFileSync(out.replace(/\.json$/, '.md'), 'utf8')).toContain('Paired bootstrap, B − A');
  }, 180_000);

  it('baton eval add-case turns a recorded run and a journaled run into regression cases that pass', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'baton-add-case-'));
    const suite = join(dir, 'suite.json');
    writeFileSync(
      suite,
      JSON.stringify({
        name: 'regressions',
        target: { team: 'research', model: 'offline' },
        cases: [{ id: 'first', topic: 'structured output from models', checks: [{ kind: 'citations' }] }],
      }),
    );
    const state = join(dir, '.baton');
    // 1. A run recorded by `baton eval --record` (into .baton/recordings, where add-case looks by default).
    const recorded = await baton(['eval', suite, '--record', '--json'], dir);
    expect(recorded.code, recorded.stderr).toBe(0);
    const runId = (JSON.parse(recorded.stdout) as { cases: { samples: { runId: string }[] }[] }).cases[0]
      ?.samples[0]?.runId;
    expect(runId).toMatch(/^[\w-]+$/);
    const fromRecording = await baton(
      ['eval', 'add-case', runId as string, '--suite', suite, '--id', 'from-recording'],
      dir,
    );
    expect(fromRecording.code, fromRecording.stderr).toBe(0);
    expect(fromRecording.stdout).toContain('Added case "from-recording"');

    // 2. A run journaled by `baton run --journal`: the production path.
    const run = await baton(
      [
        'run',
        'research',
        '--topic',
        'multi-tenancy on a message bus',
        '--journal',
        '--dir',
        state,
        '--run-id',
        'prod-run-1',
        '-q',
      ],
      dir,
    );
    expect(run.code, run.stderr).toBe(0);
    const fromJournal = await baton(
      ['eval', 'add-case', 'prod-run-1', '--suite', suite, '--dir', state, '--contains', 'tenant'],
      dir,
    );
    expect(fromJournal.code, fromJournal.stderr).toBe(0);
    expect(fromJournal.stdout).toContain('from the journal');

    const cases = (JSON.parse(readFileSync(suite, 'utf8')) as { cases: { id: string }[] }).cases.map(
      (c) => c.id,
    );
    expect(cases).toEqual(['first', 'from-recording', 'prod-run-1']);
    const again = await baton(['eval', suite, '--json', '--case', 'from-recording', 'prod-run-1'], dir);
    expect(again.code, again.stderr).toBe(0);
    const report = JSON.parse(again.stdout) as Report;
    for (const c of report.cases) {
      expect(c.samples[0]).toMatchObject({ passed: true, replay: { mode: 'tools', misses: 0 } });
      expect(c.samples[0]?.replay?.hits).toBeGreaterThan(0);
    }
  }, 300_000);
});
