/**
 * The orchestrator scenarios with remote members: behind an InProcessBus, and in separate worker
 * processes over a real nats-server. Each must give the same TeamResult shape and stop reasons as with
 * local members.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Bus, InProcessBus, NatsBus, remoteAgent, serveAgent, waitForAgent } from '@baton/bus';
import { type NatsServer, startNatsServer } from '@baton/bus/testing';
import type { AgentLike } from '@baton/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServedName, served } from './fixtures/members.js';
import {
  endlessDebate,
  expectDebateAtRoundLimit,
  expectNamedFailure,
  expectPingPongStopped,
  expectRevisedAndApproved,
  expectTeamBudgetStop,
  hangingTeam,
  type MemberSource,
  pingPong,
  researchPipeline,
  researchSupervisor,
} from './fixtures/scenarios.js';
import { shapeOf } from './fixtures/shape.js';

const local: MemberSource = (name) => served[name].make();

function remoteSource(bus: Bus, namespace = 'default'): MemberSource {
  return (name: ServedName): AgentLike =>
    remoteAgent(bus, { name, contract: served[name].contract as never, namespace });
}

/** Runs every scenario with `get` and checks it against the same scenario run locally. */
function scenarioSuite(
  members: () => { get: MemberSource; failing: MemberSource; hangMs: number; runLog?: () => string },
) {
  it('pipeline with a revise loop: same result as local', async () => {
    const { get } = members();
    const remote = await researchPipeline(get).run({ topic: 'agents' });
    expectRevisedAndApproved(remote);
    expect(shapeOf(remote)).toEqual(shapeOf(await researchPipeline(local).run({ topic: 'agents' })));
  });

  it('ping-pong stops at its message limit: same result as local', async () => {
    const remote = await pingPong(members().get).run({ count: 0 });
    expectPingPongStopped(remote);
    expect(shapeOf(remote)).toEqual(shapeOf(await pingPong(local).run({ count: 0 })));
  });

  it('a debate that never converges stops at its round limit: same result as local', async () => {
    const remote = await endlessDebate(members().get).run('Write a motto');
    expectDebateAtRoundLimit(remote);
    expect(shapeOf(remote)).toEqual(shapeOf(await endlessDebate(local).run('Write a motto')));
  });

  it('the team budget adds up remote usage and stops the team', async () => {
    const remote = await researchPipeline(members().get, { budgetTokens: 500 }).run({ topic: 'agents' });
    expectTeamBudgetStop(remote);
    expect(shapeOf(remote)).toEqual(
      shapeOf(await researchPipeline(local, { budgetTokens: 500 }).run({ topic: 'agents' })),
    );
  });

  it('a failing remote member is named with its error and span id', async () => {
    const { get, failing } = members();
    const team = researchPipeline(get, { reviewer: failing('reviewer') });
    expectNamedFailure(await team.run({ topic: 'agents' }));
  });

  it('supervisor delegates to remote workers in parallel', async () => {
    const result = await researchSupervisor(members().get).run('Write about agents');
    expect(shapeOf(result)).toEqual(shapeOf(await researchSupervisor(local).run('Write about agents')));
    expect(result.status).toBe('completed');
  });

  it('timeout() stops a team whose remote member hangs, and the worker sees its run aborted', async () => {
    const { get, hangMs, runLog } = members();
    const started = performance.now();
    const result = await hangingTeam(get, hangMs).run({ count: 0 });
    const elapsed = performance.now() - started;
    expect(result.status).toBe('timeout');
    expect(result.stopReason.condition).toBe(`timeout(${hangMs})`);
    expect(['aborted', 'timeout']).toContain(result.members.sleeper?.status);
    // The sleeper would run for ten minutes: ending within many times the timeout proves the cancel.
    expect(elapsed).toBeLessThan(hangMs + 10_000);
    if (runLog) {
      // The worker process saw its run end aborted (it writes that once the cancel has reached it).
      await expect
        .poll(() => runLog(), { timeout: 20_000 })
        .toMatch(/"agent":"sleeper","status":"(aborted|timeout)"/);
    }
  });
}

describe('on the InProcessBus', () => {
  const bus = new InProcessBus();
  const failingBus = new InProcessBus();
  beforeAll(async () => {
    for (const name of Object.keys(served) as ServedName[]) {
      if (name === 'failing-reviewer') continue;
      await serveAgent(bus, served[name].make(), {
        contract: served[name].contract as never,
        heartbeatMs: 0,
      });
    }
    await serveAgent(failingBus, served['failing-reviewer'].make(), {
      contract: served.reviewer.contract,
      heartbeatMs: 0,
    });
  });
  afterAll(async () => {
    await bus.close();
    await failingBus.close();
  });
  scenarioSuite(() => ({ get: remoteSource(bus), failing: remoteSource(failingBus), hangMs: 300 }));
});

describe('over NATS, members in separate worker processes', () => {
  let server: NatsServer;
  let bus: NatsBus;
  const workers: ChildProcess[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'baton-team-'));
  const runLog = join(dir, 'runs.jsonl');
  const script = fileURLToPath(new URL('./fixtures/worker.ts', import.meta.url));

  function startWorker(...specs: string[]): Promise<ChildProcess> {
    const child = spawn(
      process.execPath,
      ['--conditions=@baton/source', '--import', 'tsx', script, server.url, ...specs],
      {
        env: { ...process.env, BATON_TEST_RUN_LOG: runLog },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    workers.push(child);
    return new Promise((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`worker exited early with ${code}`)));
      child.stdout?.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('ready')) resolve(child);
      });
    });
  }

  beforeAll(async () => {
    // Generous waits for processes to start on a loaded machine; each fails at once if its process exits.
    server = await startNatsServer({ readyTimeoutMs: 30_000 });
    await Promise.all([
      startWorker('researcher', 'ping', 'generator', 'sleeper'),
      startWorker('writer', 'pong', 'critic-a'),
      startWorker('reviewer', 'critic-b', 'failing:failing-reviewer'),
    ]);
    bus = await NatsBus.connect({ servers: server.url });
    await Promise.all(
      ['researcher', 'writer', 'reviewer', 'ping', 'pong', 'critic-b'].map((name) =>
        waitForAgent(bus, name, { timeoutMs: 30_000 }),
      ),
    );
  }, 120_000);

  afterAll(async () => {
    await bus?.close();
    await Promise.all(
      workers.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null) return resolve();
            child.removeAllListeners('exit');
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          }),
      ),
    );
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  scenarioSuite(() => ({
    get: remoteSource(bus),
    failing: remoteSource(bus, 'failing'),
    hangMs: 2_000,
    runLog: () => {
      try {
        return readFileSync(runLog, 'utf8');
      } catch {
        return '';
      }
    },
  }));
});
