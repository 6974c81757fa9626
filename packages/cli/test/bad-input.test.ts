import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@baton/bus/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN_BUILT, runCli } from './cli.js';

const source = (path: string) => new URL(`../../${path}`, import.meta.url).href;

describe('baton: bad input gets a clear error and a non-zero exit, never a hang', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'baton-bad-'));
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));

  it('an unknown team lists the valid ones (exit 2)', async () => {
    const { code, stdout, stderr } = await runCli(['run', 'reserch'], { cwd });
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(
      'error: Unknown team "reserch". Valid teams: research, research-supervisor, debate',
    );
  });

  it('an unknown agent lists the valid ones (exit 2); a bad flag value names the flag', async () => {
    const agent = await runCli(['worker', 'poet', '--nats', 'nats://127.0.0.1:4222'], { cwd });
    expect(agent.code).toBe(2);
    expect(agent.stderr).toContain('error: Unknown agent "poet". Valid agents: researcher, writer, reviewer');
    const flag = await runCli(
      ['worker', 'writer', '--nats', 'nats://127.0.0.1:4222', '--concurrency', 'lots'],
      { cwd },
    );
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('error: --concurrency must be a positive integer (got "lots")');
    const missing = await runCli(['worker', 'writer'], { cwd });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('baton worker needs a NATS server: pass --nats <url> or set NATS_URL');
  });

  it('an unreachable NATS server is exit 3 within seconds, for run, worker and agents', async () => {
    const url = `nats://127.0.0.1:${await freePort()}`;
    for (const args of [
      ['run', 'research', '--nats', url],
      ['worker', 'researcher', '--nats', url],
      ['agents', '--nats', url],
    ]) {
      // A CLI that retried forever would be killed at 60 s (and fail); it must exit 3 on its own, within
      // its 3 s connect timeout plus the start of a Node process — seconds, slower on a loaded machine.
      const { code, stderr, ms } = await runCli(args, { cwd, timeoutMs: 60_000 });
      expect(code, args.join(' ')).toBe(3);
      expect(stderr).toContain(`error: Cannot reach NATS at ${url}`);
      expect(ms).toBeLessThan(30_000);
    }
  });

  it('an unknown trace id says what is recorded (exit 2)', async () => {
    const { code, stderr } = await runCli(['trace', 'deadbeef'], { cwd });
    expect(code).toBe(2);
    expect(stderr).toContain(`error: No trace or run "deadbeef" in ${join(cwd, '.baton', 'traces')}`);
    expect(stderr).toContain('hint: No traces are recorded there yet');
  });

  it('runs a team from a module path; a missing or wrong module is a clear error', async () => {
    // A team module a user might write: a one-stage pipeline whose agent answers from a script.
    const module = join(cwd, 'echo-team.mjs');
    writeFileSync(
      module,
      [
        `import { defineAgent } from '${source('core/src/index.ts')}';`,
        `import { scriptedModel } from '${source('core/src/testing/index.ts')}';`,
        `import { pipeline } from '${source('supervisor/src/index.ts')}';`,
        `const echo = defineAgent({ name: 'echo', description: 'Echoes', instructions: 'Echo', model: scriptedModel(['echoed']) });`,
        `export const team = pipeline({ name: 'echo-team', stages: [{ agent: echo }] });`,
      ].join('\n'),
    );
    const ok = await runCli(['run', './echo-team.mjs', '--topic', 'hello'], { cwd, source: true });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^echoed$/m);
    expect(ok.stdout).toMatch(/^echo +completed +1 +1 /m);

    const nats = await runCli(['run', './echo-team.mjs', '--nats', 'nats://127.0.0.1:4222'], {
      cwd,
      source: true,
    });
    expect(nats.code).toBe(2);
    expect(nats.stderr).toContain('exports a ready-made team, so --nats cannot give it remote members');

    const gone = await runCli(['run', './nope.mjs'], { cwd });
    expect(gone.code).toBe(2);
    expect(gone.stderr).toContain(`error: No such team module: ${join(cwd, 'nope.mjs')}`);
    writeFileSync(join(cwd, 'empty.mjs'), 'export const x = 1;\n');
    const empty = await runCli(['run', './empty.mjs'], { cwd });
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('does not export a team');
  });

  it('the built bin is an executable node script (what `npm run demo` runs)', () => {
    expect(existsSync(BIN_BUILT), 'packages/cli/dist/bin.js exists: run `npx tsc -b` first').toBe(true);
    expect(readFileSync(BIN_BUILT, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });
});
