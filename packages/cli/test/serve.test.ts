import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { collect, runCli, startCli } from './cli.js';

const dir = mkdtempSync(join(tmpdir(), 'baton-serve-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('baton serve', () => {
  it('with no API keys binds 127.0.0.1, says it is open, serves the catalogue, and stops on SIGTERM', async () => {
    const child = startCli(['serve', '--port', '0'], {
      cwd: dir,
      env: { BATON_API_KEYS: undefined, NATS_URL: undefined },
    });
    const done = collect(child, 90_000);
    let stderr = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr?.on('data', (chunk: Buffer | string) => {
        stderr += String(chunk);
        const match = /listening on (http:\/\/\S+)/.exec(stderr);
        if (match?.[1] && stderr.includes('OpenAPI')) resolve(match[1]);
      });
      child.once('exit', (code) => reject(new Error(`baton serve exited (${code}): ${stderr}`)));
    });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(stderr).toContain('OPEN: no API keys are configured');
    expect(stderr).toContain('127.0.0.1 only');
    const teams = (await (await fetch(`${url}/v1/teams`)).json()) as { teams: { name: string }[] };
    expect(teams.teams.map((team) => team.name)).toEqual(expect.arrayContaining(['research', 'debate']));
    const run = await fetch(`${url}/v1/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ team: 'research', input: 'retries and backoff' }),
    });
    const body = (await run.json()) as { status: string; result: { members: Record<string, unknown> } };
    expect(body.status).toBe('completed');
    expect(Object.keys(body.result.members)).toEqual(['researcher', 'writer', 'reviewer']);
    child.kill('SIGTERM');
    const result = await done;
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('Gateway stopped.');
  });

  it('refuses a non-loopback --host without API keys, with a hint', async () => {
    const result = await runCli(['serve', '--port', '0', '--host', '0.0.0.0'], {
      cwd: dir,
      env: { BATON_API_KEYS: undefined, NATS_URL: undefined },
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('only listens on loopback');
    expect(result.stderr).toContain('BATON_API_KEYS');
  });
});
