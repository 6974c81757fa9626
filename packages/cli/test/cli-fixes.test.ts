import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@baton/bus/testing';
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProgram } from '../src/program.js';
import { BIN_BUILT, collect, runCli } from './cli.js';

const TEAM = fileURLToPath(new URL('./fixtures/two-model-team.ts', import.meta.url));
const PACKAGE = fileURLToPath(new URL('..', import.meta.url));

describe('baton run: what a person reads', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'baton-fixes-'));
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));

  it('-v prints the streamed text as text (whole lines, not a line per chunk) and the model line once', async () => {
    const { code, stdout, stderr } = await runCli(['run', 'research', '-v'], { cwd });
    expect(code, stderr).toBe(0);
    // The offline members stream their JSON answers a few characters at a time: each answer is one line.
    const streamed = stderr.split('\n').filter((line) => /^\[(researcher|writer|reviewer)\] \{/.test(line));
    expect(streamed.length).toBeGreaterThanOrEqual(5);
    for (const line of streamed) expect(() => JSON.parse(line.replace(/^\[\w+\] /, ''))).not.toThrow();
    expect(streamed.some((line) => line.startsWith('[writer] {"title":'))).toBe(true);
    // One model line in all the output, after the run, naming the model the members called.
    const modelLines = `${stdout}\n${stderr}`.split('\n').filter((line) => /^Models?: /.test(line));
    expect(modelLines).toHaveLength(1);
    expect(modelLines[0]).toMatch(/^Model: the Baton offline model/);
  });

  it('the model line names the models the members really called, not what the environment suggests', async () => {
    const { code, stdout, stderr } = await runCli(['run', TEAM, '--quiet'], { cwd });
    expect(code, stderr).toBe(0);
    const modelLines = `${stdout}\n${stderr}`.split('\n').filter((line) => /^Models?: /.test(line));
    expect(modelLines).toEqual(['Models: acme acme-large-2 (drafter); acme acme-small-1 (polisher)']);
  });

  it('run --help documents the environment: BATON_CHEAP_MODEL, NATS_URL, the OTLP protocol, retention', async () => {
    const { code, stdout } = await runCli(['run', '--help'], { cwd });
    expect(code).toBe(0);
    expect(stdout).toContain('BATON_CHEAP_MODEL=<id>');
    expect(stdout).toContain('NATS_URL');
    expect(stdout).toContain('--no-nats');
    expect(stdout).toContain('http/protobuf (default) or http/json');
    expect(stdout).toContain('BATON_TRACE_KEEP');
  });

  it('an unknown team: the hint is a command that runs the nearest team', async () => {
    const { code, stderr } = await runCli(['run', 'reserch'], { cwd });
    expect(code).toBe(2);
    expect(stderr).toMatch(/^hint: .* run research$/m);
  });
});

describe('a .ts team module without a loader', () => {
  // Inside the repository, so `--import tsx` resolves as it would in a project that installed tsx.
  const cwd = mkdtempSync(join(PACKAGE, '.tmp-tsx-'));
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));

  it('fails with a hint (node --import tsx) that works as printed', async () => {
    const plain = spawn(process.execPath, [BIN_BUILT, 'run', TEAM, '--quiet'], {
      cwd,
      env: { ...process.env, OPENAI_API_KEY: '', ANTHROPIC_API_KEY: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const failed = await collect(plain, 60_000);
    expect(failed.code).toBe(2);
    expect(failed.stderr).toContain('Cannot load');
    const command = /^ {2}(node --import tsx .*)$/m.exec(failed.stderr)?.[1];
    expect(command, failed.stderr).toBeDefined();

    const rerun = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile('sh', ['-c', command as string], { cwd, timeout: 60_000 }, (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stdout).toContain('Status: completed');
  });
});

describe('NATS_URL is the default of --nats everywhere', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'baton-nats-url-'));
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));

  it('every command that takes --nats says so in its help', () => {
    const program = createProgram({ out: () => {}, err: () => {}, interactive: false }, () => {});
    const missing: string[] = [];
    const walk = (command: Command, path: string) => {
      for (const sub of command.commands) {
        const name = `${path} ${sub.name()}`.trim();
        const nats = sub.options.find((option) => option.long === '--nats');
        if (nats && !nats.description.includes('NATS_URL')) missing.push(name);
        walk(sub, name);
      }
    };
    walk(program, '');
    expect(missing).toEqual([]);
  });

  // A port nobody listens on: each command must try exactly that server and say so.
  let port = 0;
  beforeAll(async () => {
    port = await freePort();
  });
  it.each([
    ['run', 'research'],
    ['resume', 'some-run'],
    ['worker', 'researcher'],
    ['agents'],
    ['approvals', 'list'],
    ['memory', 'list'],
    ['audit', 'show'],
    ['audit', 'verify', '--unsigned'],
    ['nats', 'purge', '--namespace', 'acme'],
    ['serve', '--port', '0'],
  ])('baton %s … goes to NATS_URL', async (...args: string[]) => {
    const url = `nats://127.0.0.1:${port}`;
    const { code, stderr } = await runCli(args, { cwd, env: { NATS_URL: url } });
    expect(stderr).toContain(`NATS at ${url}`);
    expect(code, stderr).not.toBe(0);
    // The hint of an unreachable local server is the command that starts one there.
    if (args[0] !== 'serve')
      expect(stderr).toContain(`hint: Start a local server: nats-server -js -p ${port}`);
  });

  it('--no-nats runs the team in this process whatever NATS_URL says', async () => {
    const port = await freePort();
    const { code, stdout, stderr } = await runCli(['run', 'research', '--no-nats', '--quiet'], {
      cwd,
      env: { NATS_URL: `nats://127.0.0.1:${port}` },
    });
    expect(code, stderr).toBe(0);
    expect(stdout).toContain('Status: completed');
  });

  it('a command that needs NATS and has neither --nats nor NATS_URL says how to give one', async () => {
    const { code, stderr } = await runCli(['agents'], { cwd, env: { NATS_URL: undefined } });
    expect(code).toBe(2);
    expect(stderr).toContain('baton agents needs a NATS server: pass --nats <url> or set NATS_URL');
    expect(stderr).toMatch(/^hint: .* agents --nats nats:\/\/127\.0\.0\.1:4222$/m);
  });
});
