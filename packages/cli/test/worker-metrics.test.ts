import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type NatsServer, startNatsServer } from '@baton/bus/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli, waitForStderr } from './cli.js';

const AGENTS = ['researcher', 'writer', 'reviewer'] as const;

describe('baton worker --metrics-port, on a real nats-server', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'baton-worker-metrics-'));
  let nats: NatsServer;
  const workers: ChildProcess[] = [];
  const urls = new Map<string, string>();
  beforeAll(async () => {
    nats = await startNatsServer({ readyTimeoutMs: 30_000 });
    await Promise.all(
      AGENTS.map(async (agent) => {
        const worker = startCli(['worker', agent, '--nats', nats.url, '--metrics-port', '0'], { cwd });
        workers.push(worker);
        const seen = await waitForStderr(worker, /metrics: (http:\S+)/);
        urls.set(agent, /metrics: (http:\S+)/.exec(seen)?.[1] as string);
      }),
    );
  });
  afterAll(async () => {
    for (const worker of workers) if (worker.exitCode === null) worker.kill('SIGKILL');
    await nats?.stop();
    rmSync(cwd, { recursive: true, force: true });
  });

  it('each worker serves Prometheus metrics: its invocations and its runs, with the bundle it serves', async () => {
    const ran = await runCli(['run', 'research', '--nats', nats.url], { cwd });
    expect(ran.code, ran.stderr).toBe(0);
    const researcher = urls.get('researcher') as string;
    expect(researcher).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const response = await fetch(researcher);
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).toMatch(/target_info\{[^}]*service_name="baton-worker-researcher"/);
    expect(text).toMatch(
      /^baton_bus_invocations_total\{[^}]*gen_ai_agent_name="researcher"[^}]*baton_run_status="completed"[^}]*\} [1-9]/m,
    );
    expect(text).toMatch(
      /^baton_agent_run_ended_total\{[^}]*gen_ai_agent_name="researcher"[^}]*baton_bundle="sha256:[0-9a-f]{64}"/m,
    );
    expect(text).toMatch(/^baton_tool_calls_total\{[^}]*gen_ai_tool_name="search_corpus"/m);
  });
});
