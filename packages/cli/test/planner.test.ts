import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './cli.js';

describe('baton run --planner (offline)', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'baton-planner-'));
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));

  it('runs the research team with a plan-first researcher: its plan is a progress line, 2 model steps', async () => {
    const { code, stdout, stderr } = await runCli(
      ['run', 'research', '--planner', 'plan-execute', '--topic', 'idempotency keys and retries', '--json'],
      { cwd },
    );
    expect(code, stderr).toBe(0);
    const result = JSON.parse(stdout) as {
      status: string;
      members: Record<string, { steps: number; status: string }>;
    };
    expect(result.status).toBe('completed');
    expect(result.members.researcher).toMatchObject({ status: 'completed', steps: 2 });
  });

  it('prints the plan as progress, and refuses an unknown planner or one over NATS (exit 2)', async () => {
    const { code, stderr } = await runCli(['run', 'research', '--planner', 'plan-execute'], { cwd });
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(/\[researcher\] plan: \d+ steps \(search_corpus ×\d+, read_document ×\d+\)/);
    const bad = await runCli(['run', 'research', '--planner', 'sideways'], { cwd });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--planner must be react or plan-execute (got "sideways")');
    const remote = await runCli(
      ['run', 'research', '--planner', 'plan-execute', '--nats', 'nats://127.0.0.1:1'],
      { cwd },
    );
    expect(remote.code).toBe(2);
    expect(remote.stderr).toContain('--planner applies to local members');
  });
});
