import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './cli.js';

interface RunJson {
  runId: string;
  traceId: string;
  status: string;
  usage: { inputTokens: number; outputTokens: number };
}
interface LsJson {
  runs: {
    runId: string;
    traceId: string;
    kind: string;
    name: string;
    status?: string;
    durationMs?: number;
    inputTokens?: number;
    outputTokens?: number;
  }[];
}

// Several CLI processes per test: a loaded machine needs more than the default test timeout.
describe('baton trace ls and the retention of .baton/traces', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'baton-trace-ls-'));
  const traces = join(cwd, '.baton', 'traces');
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));
  const traceFiles = () =>
    new Set(
      readdirSync(traces)
        .filter((file) => file !== 'index.jsonl')
        .map((file) => file.split('.')[0]),
    );

  async function run(env: Record<string, string> = {}): Promise<RunJson> {
    const { code, stdout, stderr } = await runCli(['run', 'research', '--json'], { cwd, env });
    expect(code, stderr).toBe(0);
    return JSON.parse(stdout) as RunJson;
  }

  it('lists the runs newest first with team, status, start, duration and tokens', async () => {
    const empty = await runCli(['trace', 'ls'], { cwd });
    expect(empty.code).toBe(0);
    expect(empty.stdout).toContain('No runs recorded in');
    expect(empty.stdout).toMatch(/Run a team: .* run research/);

    const first = await run();
    const second = await run();
    const listed = await runCli(['trace', 'ls', '--json'], { cwd });
    expect(listed.code, listed.stderr).toBe(0);
    const { runs } = JSON.parse(listed.stdout) as LsJson;
    // Team runs only: their members' agent runs are part of them.
    expect(runs.map((entry) => entry.runId)).toEqual([second.runId, first.runId]);
    expect(runs[0]).toMatchObject({
      traceId: second.traceId,
      kind: 'workflow',
      name: 'research',
      status: 'completed',
      inputTokens: second.usage.inputTokens,
      outputTokens: second.usage.outputTokens,
    });
    expect(runs[0]?.durationMs).toBeGreaterThan(0);

    const text = await runCli(['trace', 'ls'], { cwd });
    const lines = text.stdout.split('\n');
    expect(lines[0]).toMatch(/^RUN\s+TEAM\s+STATUS\s+STARTED\s+DURATION\s+TOKENS$/);
    expect(lines[1]).toContain(second.runId);
    expect(lines[1]).toContain('completed');
    expect(lines[1]).toContain(
      (second.usage.inputTokens + second.usage.outputTokens).toLocaleString('en-US'),
    );
    expect(lines[2]).toContain(first.runId);
    expect(text.stdout).toMatch(new RegExp(`2 runs in .*Show one: .* trace ${second.runId}`));
  }, 300_000);

  it('BATON_TRACE_KEEP bounds the traces a run leaves behind; trace prune applies a retention now', async () => {
    const third = await run({ BATON_TRACE_KEEP: '2' });
    // The oldest went when the third run's spans were written: two traces, the two newest runs.
    expect(traceFiles().size).toBe(2);
    const { runs } = JSON.parse((await runCli(['trace', 'ls', '--json'], { cwd })).stdout) as LsJson;
    expect(runs).toHaveLength(2);
    expect(runs[0]?.runId).toBe(third.runId);
    expect(traceFiles()).toEqual(new Set(runs.map((entry) => entry.traceId)));

    const dry = await runCli(['trace', 'prune', '--keep', '1', '--dry-run'], { cwd });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('2 traces; would remove 1 trace');
    expect(dry.stdout).toMatch(/Remove them: .* trace prune --keep 1$/m);
    expect(traceFiles().size).toBe(2);

    const pruned = await runCli(['trace', 'prune', '--keep', '1'], { cwd });
    expect(pruned.code, pruned.stderr).toBe(0);
    expect(pruned.stdout).toContain('removed 1 trace');
    expect(traceFiles()).toEqual(new Set([third.traceId]));
    const after = JSON.parse((await runCli(['trace', 'ls', '--json'], { cwd })).stdout) as LsJson;
    expect(after.runs.map((entry) => entry.runId)).toEqual([third.runId]);

    const bad = await runCli(['trace', 'prune', '--max-age', 'a while'], { cwd });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--max-age must be an age like 30d, 12h or 90m');
  }, 300_000);
});
