import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN_BUILT, type CliResult, runCli } from './cli.js';

/** The CLI (built, as the suite runs it), offline: no provider keys. */
function baton(args: readonly string[], cwd: string): Promise<CliResult> {
  return runCli(args, { cwd, timeoutMs: 120_000 });
}

const dirs: string[] = [];
function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

interface FakeRun {
  status: string;
  seconds: number;
  steps: number;
  tokens: number;
  cost: number;
  tools?: { name: string; ok: boolean }[];
}

/** A trace directory as the span exporter writes it: one agent run per trace, tools under it. */
function writeTraces(dir: string, runs: FakeRun[], startMs: number): void {
  mkdirSync(dir, { recursive: true });
  const index: string[] = [];
  runs.forEach((run, i) => {
    const traceId = hex(i + 1, 32);
    const spanId = hex(i * 100 + 1, 16);
    const span = (
      name: string,
      id: string,
      parent: string | undefined,
      attributes: Record<string, unknown>,
      ms: number,
      ok: boolean,
    ) =>
      JSON.stringify({
        traceId,
        spanId: id,
        ...(parent ? { parentSpanId: parent } : {}),
        name,
        kind: 0,
        startMs: startMs + i * 1_000,
        durationMs: ms,
        status: { code: ok ? 0 : 2 },
        attributes,
        events: [],
        service: 'test',
        pid: 1,
      });
    const lines = [
      span(
        'invoke_agent researcher',
        spanId,
        undefined,
        {
          'baton.run.id': `run-${i}`,
          'baton.run.status': run.status,
          'baton.steps': run.steps,
          'baton.cost_usd': run.cost,
          'gen_ai.usage.input_tokens': run.tokens - 100,
          'gen_ai.usage.output_tokens': 100,
          'baton.bundle': `sha256:${'a'.repeat(64)}`,
        },
        run.seconds * 1_000,
        run.status === 'completed',
      ),
      ...(run.tools ?? []).map((tool, t) =>
        span(
          `execute_tool ${tool.name}`,
          hex(i * 100 + 2 + t, 16),
          spanId,
          { 'gen_ai.tool.name': tool.name, 'baton.tool.ok': tool.ok },
          5,
          tool.ok,
        ),
      ),
    ];
    writeFileSync(join(dir, `${traceId}.1.jsonl`), `${lines.join('\n')}\n`);
    index.push(
      JSON.stringify({
        runId: `run-${i}`,
        traceId,
        spanId,
        kind: 'agent',
        name: 'researcher',
        status: run.status,
        startMs: startMs + i * 1_000,
        pid: 1,
      }),
    );
  });
  writeFileSync(join(dir, 'index.jsonl'), `${index.join('\n')}\n`);
}

interface StatsJson {
  runs: number;
  alerts: number;
  rules: { id: string; value: number | null; state: string; detail: string }[];
}

describe('baton stats (built CLI)', () => {
  it('evaluates the seed thresholds over recorded runs: ALERT rows and exit 1 when one fires', async () => {
    expect(existsSync(BIN_BUILT), 'packages/cli/dist/bin.js exists: run `npx tsc -b` first').toBe(true);
    const cwd = tempDir('baton-stats-');
    const runs: FakeRun[] = [];
    // 10 runs: 8 completed, 1 failed, 1 waiting for approval (not ended): success 8/9 = 88.9 % < 90 %.
    for (let i = 0; i < 8; i++)
      runs.push({
        status: 'completed',
        seconds: 2,
        steps: 4,
        tokens: 3_000,
        cost: 0.02,
        tools: [{ name: 'search', ok: true }],
      });
    runs.push({
      status: 'failed',
      seconds: 20,
      steps: 12,
      tokens: 30_000,
      cost: 0.5,
      tools: [
        { name: 'fetch', ok: false },
        { name: 'fetch', ok: true },
      ],
    });
    runs.push({
      status: 'awaiting_approval',
      seconds: 1,
      steps: 2,
      tokens: 1_000,
      cost: 0.01,
      tools: [{ name: 'search', ok: true }],
    });
    writeTraces(join(cwd, '.baton', 'traces'), runs, Date.now() - 60_000);

    const json = await baton(['stats', '--json'], cwd);
    expect(json.code, json.stderr).toBe(1);
    const report = JSON.parse(json.stdout) as StatsJson;
    expect(report.runs).toBe(10);
    const state = Object.fromEntries(report.rules.map((rule) => [rule.id, rule.state]));
    expect(state).toEqual({
      success_rate: 'ALERT', // 8/9
      avg_steps: 'OK', // (8×4 + 12 + 2) / 10 = 4.6
      p99_latency: 'ALERT', // 20 s
      avg_tokens: 'OK', // (8×3000 + 30000 + 1000) / 10 = 5,500
      avg_cost: 'OK', // (8×0.02 + 0.5 + 0.01) / 10 = 0.067
      tool_error_rate: 'ALERT', // fetch 1/2
      escalation_rate: 'OK', // 1/10
    });
    const value = Object.fromEntries(report.rules.map((rule) => [rule.id, rule.value]));
    expect(value.success_rate).toBeCloseTo(8 / 9, 6);
    expect(value.avg_steps).toBeCloseTo(4.6, 6);
    expect(value.p99_latency).toBeCloseTo(20, 6);
    expect(value.avg_tokens).toBeCloseTo(5_500, 6);
    expect(value.avg_cost).toBeCloseTo(0.067, 6);
    expect(value.tool_error_rate).toBeCloseTo(0.5, 6);
    expect(value.escalation_rate).toBeCloseTo(0.1, 6);
    expect(report.alerts).toBe(3);

    const table = await baton(['stats'], cwd);
    expect(table.code).toBe(1);
    expect(table.stdout).toMatch(/^success rate +88\.9% +< 90\.0% +ALERT/m);
    expect(table.stdout).toMatch(/^avg steps \/ run +4\.60 +> 8\.00 +OK/m);
    expect(table.stdout).toMatch(/^tool error rate +50\.0% +> 5\.0% +ALERT +worst: fetch 1\/2/m);
    expect(table.stdout).toContain('3 alert(s)');
  });

  it('--since leaves old runs out; no runs is exit 0; a bad --since is a usage error (2)', async () => {
    const cwd = tempDir('baton-stats-since-');
    writeTraces(
      join(cwd, '.baton', 'traces'),
      [{ status: 'failed', seconds: 1, steps: 1, tokens: 10, cost: 0 }],
      Date.now() - 3 * 3_600_000,
    );
    const recent = await baton(['stats', '--since', '1h'], cwd);
    expect(recent.code, recent.stderr).toBe(0);
    expect(recent.stdout).toContain('No runs recorded');
    const wider = await baton(['stats', '--since', '1d', '--json'], cwd);
    expect(wider.code).toBe(1);
    expect((JSON.parse(wider.stdout) as StatsJson).runs).toBe(1);
    const bad = await baton(['stats', '--since', 'yesterday'], cwd);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--since');
  });

  it('reads the trace files `baton run` writes: a real team run is counted with its figures', async () => {
    const cwd = tempDir('baton-stats-run-');
    const ran = await baton(['run', 'research', '--topic', 'idempotency keys'], cwd);
    expect(ran.code, ran.stderr).toBe(0);
    const stats = await baton(['stats', '--json', '--kind', 'team'], cwd);
    const report = JSON.parse(stats.stdout) as StatsJson & { tools: Record<string, { calls: number }> };
    expect(report.runs).toBe(1);
    const value = Object.fromEntries(report.rules.map((rule) => [rule.id, rule.value]));
    expect(value.success_rate).toBe(1);
    expect(value.avg_steps).toBeGreaterThan(2);
    expect(value.avg_tokens).toBeGreaterThan(0);
    expect(report.tools.search_corpus?.calls).toBeGreaterThan(0);
    expect(stats.code).toBe(report.alerts > 0 ? 1 : 0);
  });
});

describe('baton bundle (built CLI)', () => {
  it('show prints a stable hash and what it covers; --json round-trips through diff', async () => {
    const cwd = tempDir('baton-bundle-');
    const first = await baton(['bundle', 'show', 'research', '--json'], cwd);
    expect(first.code, first.stderr).toBe(0);
    const bundle = JSON.parse(first.stdout) as {
      hash: string;
      kind: string;
      covers: { members: Record<string, { hash: string }> };
    };
    expect(bundle.hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(bundle.kind).toBe('team');
    expect(Object.keys(bundle.covers.members).sort()).toEqual(['researcher', 'reviewer', 'writer']);
    const again = await baton(['bundle', 'show', 'research', '--json'], cwd);
    expect(JSON.parse(again.stdout).hash).toBe(bundle.hash);

    const text = await baton(['bundle', 'show', 'researcher'], cwd);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^agent researcher$/m);
    expect(text.stdout).toMatch(/^bundle sha256:[0-9a-f]{64}$/m);
    expect(text.stdout).toMatch(/^ {2}tools: .*search_corpus/m);
    expect(bundle.covers.members.researcher?.hash).toBe(/^bundle (\S+)$/m.exec(text.stdout)?.[1]);

    const file = join(cwd, 'research.json');
    writeFileSync(file, first.stdout);
    const same = await baton(['bundle', 'diff', file, 'research'], cwd);
    expect(same.code, same.stderr).toBe(0);
    expect(same.stdout).toContain('Same bundle');
  });

  it('diff lists the changed fields and exits 1; an edited bundle file is refused (2)', async () => {
    const cwd = tempDir('baton-bundle-diff-');
    const teams = await baton(['bundle', 'diff', 'research', 'research-supervisor', '--json'], cwd);
    expect(teams.code, teams.stderr).toBe(1);
    const diff = JSON.parse(teams.stdout) as { same: boolean; changes: { path: string }[] };
    expect(diff.same).toBe(false);
    expect(diff.changes.map((change) => change.path)).toContain('topology.kind');

    const agents = await baton(['bundle', 'diff', 'researcher', 'writer'], cwd);
    expect(agents.code).toBe(1);
    expect(agents.stdout).toMatch(/^ {2}~ instructions: /m);

    const shown = await baton(['bundle', 'show', 'writer', '--json'], cwd);
    const edited = JSON.parse(shown.stdout) as { covers: Record<string, unknown> };
    edited.covers.instructions = 'Write anything.';
    const file = join(cwd, 'edited.json');
    writeFileSync(file, JSON.stringify(edited));
    const refused = await baton(['bundle', 'diff', file, 'writer'], cwd);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('does not match what it covers');
    expect(readFileSync(file, 'utf8')).toContain('Write anything.');
  });

  it('an unknown name is a usage error listing the valid ones', async () => {
    const result = await baton(['bundle', 'show', 'nobody'], tempDir('baton-bundle-unknown-'));
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/Unknown team or agent "nobody"\. Teams: .*research/);
  });
});
