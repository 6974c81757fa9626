import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type NatsServer, startNatsServer, waitUntil } from '@baton/bus/testing';
import { readTrace } from '@baton/telemetry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, runCli, startCli, waitForStderr } from './cli.js';

const AGENTS = ['researcher', 'writer', 'reviewer'] as const;

describe('baton worker + baton agents + baton run --nats, on a real nats-server', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'baton-workers-'));
  let nats: NatsServer;
  const workers = new Map<string, ChildProcess>();
  beforeAll(async () => {
    nats = await startNatsServer({ readyTimeoutMs: 30_000 });
    for (const agent of AGENTS) {
      workers.set(agent, startCli(['worker', agent, '--nats', nats.url, '--heartbeat', '500'], { cwd }));
    }
    await Promise.all(
      [...workers.values()].map((worker) => waitForStderr(worker, /serving .* Ctrl-C to stop/)),
    );
  });
  afterAll(async () => {
    for (const worker of workers.values()) if (worker.exitCode === null) worker.kill('SIGKILL');
    await nats?.stop();
    rmSync(cwd, { recursive: true, force: true });
  });

  it('`baton agents` lists the workers with their contracts, instances and load', async () => {
    const { code, stdout, stderr } = await runCli(['agents', '--nats', nats.url], { cwd });
    expect(code, stderr).toBe(0);
    expect(stdout).toContain(`Workers on ${nats.url} (namespace default):`);
    expect(stdout).toMatch(/^agent +contract +instances +in flight +queued +load +mode +bundle$/m);
    // The bundle each worker serves (issue 16), its hash shortened.
    expect(stdout).toMatch(/^researcher +research\.topic@1 +1 +0 +0 +0% +core +sha256:[0-9a-f]{12}$/m);
    expect(stdout).toMatch(/^writer +write\.draft@1 +1 /m);
    expect(stdout).toMatch(/^reviewer +review\.draft@1 +1 /m);

    const json = await runCli(['agents', '--nats', nats.url, '--json'], { cwd });
    const parsed = JSON.parse(json.stdout) as { agents: { name: string; instances: number }[] };
    expect(parsed.agents.map((agent) => [agent.name, agent.instances])).toEqual([
      ['researcher', 1],
      ['reviewer', 1],
      ['writer', 1],
    ]);
  });

  it('`baton run research --nats` runs the team on the workers; `baton trace` shows all four processes', async () => {
    const { code, stdout, stderr } = await runCli(['run', 'research', '--nats', nats.url], { cwd });
    expect(code, stderr).toBe(0);
    // The remote runs' events were forwarded to the CLI's progress.
    expect(stderr).toMatch(/\[researcher\] search_corpus\(/);
    expect(stdout).toContain('Model: chosen by each worker');
    expect(stdout).toMatch(/Citations: \d+, all resolve to corpus documents/);
    expect(stdout).toMatch(/^writer +completed +2 /m);
    const traceId = /^Trace: ([0-9a-f]{32})/m.exec(stdout)?.[1] as string;

    // Each worker handled its runs (its own log), and wrote its spans into the same trace.
    const pids = [...workers.values()].map((worker) => worker.pid as number);
    await waitUntil(
      () => new Set(readTrace(join(cwd, '.baton', 'traces'), traceId).map((span) => span.pid)).size === 4,
      'the spans of all four processes',
      // Each worker writes its spans as they end: later on a loaded machine.
      30_000,
    );
    const trace = await runCli(['trace', traceId], { cwd });
    expect(trace.code, trace.stderr).toBe(0);
    expect(trace.stdout).toMatch(/· 4 processes ·/);
    for (const [agent, pid] of AGENTS.map((agent, index) => [agent, pids[index]] as const)) {
      expect(trace.stdout).toMatch(
        new RegExp(
          `process baton\\.default\\.agent\\.${agent}\\.invoke .*@ baton-worker-${agent} pid ${pid}`,
        ),
      );
    }
    expect(trace.stdout).toMatch(/└─ invoke_agent researcher .* completed · 3 steps/);
  });

  it('without workers in the namespace, `baton run --nats` says which are missing and how to start them (exit 3)', async () => {
    const { code, stderr } = await runCli(
      ['run', 'research', '--nats', nats.url, '--namespace', 'nobody-here', '--wait-workers', '0.5'],
      { cwd },
    );
    expect(code).toBe(3);
    expect(stderr).toContain(
      `error: No worker for researcher, writer, reviewer on ${nats.url} (namespace nobody-here)`,
    );
    expect(stderr).toMatch(
      /hint: Start each in a terminal of its own:\n {2}.* worker researcher --nats nats:\/\/127\.0\.0\.1:\d+ --namespace nobody-here\n/,
    );
  });

  it('SIGTERM drains each worker and it exits 0', async () => {
    const exits = [...workers.entries()].map(async ([agent, worker]) => {
      const done = collect(worker, 30_000);
      worker.kill('SIGTERM');
      return { agent, ...(await done) };
    });
    for (const exit of await Promise.all(exits)) {
      expect(exit.code, exit.agent).toBe(0);
    }
    const agents = await runCli(['agents', '--nats', nats.url], { cwd });
    expect(agents.stdout).toContain('No workers on');
  });
});
