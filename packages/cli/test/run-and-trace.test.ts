import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundledCorpus, inlineCitations } from '@baton/agents';
import { formatDuration } from '@baton/teams';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './cli.js';

/**
 * A span's duration as the tree prints it: `840 ms`, or `1.47 s` / `12.3 s` once it passes a second
 * (which any span may do on a loaded machine).
 */
const DURATION = String.raw`(?:\d+ ms|\d+\.\d+ s)`;
/** One line of the span tree: `pattern` with `{d}` standing for a duration. */
const treeLine = (pattern: string) => new RegExp(pattern.replaceAll('{d}', DURATION), 'm');

describe('baton run / baton trace (offline)', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'baton-cli-'));
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));
  let traceId = '';
  let runId = '';

  it('`baton run research` prints progress, a cited report, the verdict, the per-agent table and a trace id; exit 0', async () => {
    const { code, stdout, stderr } = await runCli(
      ['run', 'research', '--topic', 'idempotency keys and retries'],
      { cwd },
    );
    expect(code, stderr).toBe(0);

    // Progress (stderr): team handoffs and member tool calls; the model line is printed once, in the summary.
    expect(stderr).not.toContain('Model:');
    expect(stderr).toMatch(/\[research\] round 1: user → researcher/);
    expect(stderr).toMatch(/\[researcher\] search_corpus\(/);
    expect(stderr).toMatch(/\[research\] round 2: reviewer → writer/);
    expect(stderr).toMatch(/\[research\] completed: all 3 stages completed/);

    // The report (stdout): every citation resolves to a document of the bundled corpus.
    expect(stdout).toMatch(/^# Idempotency Keys and Retries$/m);
    const cited = inlineCitations(stdout);
    expect(cited.length).toBeGreaterThan(1);
    for (const id of cited) expect(bundledCorpus().has(id), `[${id}]`).toBe(true);
    expect(stdout).toMatch(/Citations: \d+, all resolve to corpus documents/);
    expect(stdout).toContain('Verdict: approved by the reviewer');
    // The per-agent table.
    expect(stdout).toMatch(/^agent +status +runs +steps +tokens +cost +time$/m);
    for (const agent of ['researcher', 'writer', 'reviewer'])
      expect(stdout).toMatch(new RegExp(`^${agent} +completed +\\d+ +\\d+ +[\\d,]+ +\\$0\\.0000 +\\d`, 'm'));
    expect(stdout).toMatch(/^Stopped: completed — all 3 stages completed \(2 rounds\)$/m);
    expect(stdout).toContain('Model: the Baton offline model');
    traceId = /^Trace: ([0-9a-f]{32}) +\(.* trace \1\)$/m.exec(stdout)?.[1] ?? '';
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    runId = /\[research\] started \(run ([\w-]+),/.exec(stderr)?.[1] ?? '';
    expect(runId).not.toBe('');
  });

  it('the duration pattern matches every form a printed duration takes', () => {
    for (const ms of [0, 840, 999.6, 1_470, 9_999, 12_345, 600_000]) {
      expect(formatDuration(ms)).toMatch(new RegExp(`^${DURATION}$`));
    }
  });

  it('`baton trace <traceId>`, `<runId>` and `last` print the span tree with durations and attributes', async () => {
    const byTrace = await runCli(['trace', traceId], { cwd });
    expect(byTrace.code, byTrace.stderr).toBe(0);
    const tree = byTrace.stdout;
    expect(tree).toContain(`Trace ${traceId} · `);
    expect(tree).toMatch(treeLine('^invoke_workflow research +{d} +completed · stop: completed · 2 rounds'));
    expect(tree).toMatch(treeLine(String.raw`^├─ handoff researcher +{d} +from user · research\.topic@1$`));
    expect(tree).toMatch(
      treeLine(
        String.raw`^│ {2}└─ invoke_agent researcher +{d} +completed · 3 steps · [\d,]+ in / [\d,]+ out tokens · baton-offline-v1/researcher$`,
      ),
    );
    expect(tree).toMatch(
      treeLine(
        String.raw`^│ {5}├─ chat baton-offline-v1/researcher +{d} +baton-offline-v1/researcher · [\d,]+ in`,
      ),
    );
    expect(tree).toMatch(treeLine('^│ {5}├─ execute_tool search_corpus +{d} +ok$'));
    expect(tree).toMatch(/invoke_agent reviewer/);

    const byRun = await runCli(['trace', runId], { cwd });
    expect(byRun.stdout).toContain(`Run ${runId} · team research · completed`);
    expect(byRun.stdout).toContain(tree);
    const last = await runCli(['trace', 'last'], { cwd });
    expect(last.stdout).toBe(byRun.stdout);
  });

  it('`baton run debate --json` prints one JSON document with the result and the report', async () => {
    const { code, stdout, stderr } = await runCli(
      ['run', 'debate', '--json', '--topic', 'prompt injection'],
      { cwd },
    );
    expect(code, stderr).toBe(0);
    const parsed = JSON.parse(stdout) as {
      status: string;
      stopReason: { kind: string };
      members: Record<string, unknown>;
      report: { markdown: string; citations: { resolved: boolean }[]; verdict: string };
    };
    expect(parsed.status).toBe('completed');
    expect(parsed.stopReason.kind).toBe('approved');
    expect(Object.keys(parsed.members).sort()).toEqual(['drafter', 'editor', 'fact-checker', 'judge']);
    expect(parsed.report.citations.length).toBeGreaterThan(0);
    expect(parsed.report.citations.every((citation) => citation.resolved)).toBe(true);
    expect(parsed.report.verdict).toMatch(/^approved by the judge/);
    expect(stderr).toBe('');
  });
});
