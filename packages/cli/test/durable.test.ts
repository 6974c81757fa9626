/**
 * Durable runs from the command line (issue 11), every actor its own process: `baton run --journal`
 * pauses a team on a destructive call and waits; a person lists and decides the call with
 * `baton approvals` from another process; the run goes on, and the tool runs once. `--no-wait` and
 * Ctrl-C leave the run paused with the command that resumes it; `baton resume` continues it anywhere.
 * Over NATS: a remote member's pause pauses the team, and a third process decides it with the CLI.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { researchContract } from '@baton/agents';
import { NatsBus, natsJournal, remoteAgent } from '@baton/bus';
import { type NatsServer, startNatsServer } from '@baton/bus/testing';
import type { ApprovalRecord } from '@baton/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, runCli, startCli, waitForStderr } from './cli.js';

/** The with-approval example's team module: an auditor finds stale records, an operator deletes them. */
const TEAM = fileURLToPath(new URL('../../../examples/src/with-approval/team.ts', import.meta.url));
const WORKER = fileURLToPath(new URL('./fixtures/approval-worker.ts', import.meta.url));
const ORCHESTRATOR = fileURLToPath(new URL('./fixtures/approval-orchestrator.ts', import.meta.url));

function lines(file: string): string[] {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => line !== '');
  } catch {
    return [];
  }
}

/** The run and call of the first row of `baton approvals list`. */
function firstRow(stdout: string): { runId: string; callId: string } {
  const row = /^(\S+-h\d+) +(call_\S+) +/m.exec(stdout);
  if (!row) throw new Error(`no approval row in:\n${stdout}`);
  return { runId: row[1] as string, callId: row[2] as string };
}

describe('baton run --journal, baton approvals, baton resume (file stores)', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'baton-durable-cli-'));
  const effects = join(cwd, 'effects.log');
  // The team module writes its deletions here; NATS_URL would send `baton approvals` to NATS.
  const env = { BATON_OPS_EFFECTS: effects, NATS_URL: undefined };
  const options = { cwd, env };
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const child of children)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(cwd, { recursive: true, force: true });
  });

  it('pauses and waits; a person decides from another process; the run goes on and the tool runs once', async () => {
    const run = startCli(
      ['run', TEAM, '--journal', '--run-id', 'ops-wait', '-t', 'carts older than 100 days'],
      options,
    );
    children.push(run);
    const finished = collect(run, 90_000);
    await waitForStderr(run, /Waiting for the decisions/);
    expect(lines(effects)).toEqual([]);

    const list = await runCli(['approvals', 'list'], options);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain('Pending approvals in .baton/approvals:');
    expect(list.stdout).toMatch(/^run +call +tool +risk +reason +args +age +expires +status$/m);
    expect(list.stdout).toMatch(
      /^ops-wait-h1 +call_1_0 +delete_stale_records +destructive +risk +\{"table":"carts","ids":\["cart-77"\]\} +\d+s +never +pending$/m,
    );
    const { runId, callId } = firstRow(list.stdout);

    const approve = await runCli(['approvals', 'approve', runId, callId, '--by', 'alice@test'], options);
    expect(approve.code, approve.stderr).toBe(0);
    expect(approve.stdout).toContain(
      `Approved delete_stale_records (call ${callId} of run ${runId}) as alice@test.`,
    );

    // A second decision, by anyone, is refused with who decided and when; the first one stands.
    const again = await runCli(['approvals', 'deny', runId, callId, '--reason', 'too late'], options);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(
      new RegExp(
        `APPROVAL_DECIDED: call ${callId} of run ${runId} was already approved by alice@test at \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d`,
      ),
    );

    const done = await finished;
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toContain('Run ops-wait is paused: 1 call waits for a person');
    expect(done.stdout).toMatch(/approve: .* approvals approve ops-wait-h1 call_1_0$/m);
    expect(done.stdout).toContain('Decided: delete_stale_records (operator) approved by alice@test');
    expect(done.stdout).toContain('Status: completed');
    expect(done.stdout).toContain(
      'Run: ops-wait (journaled: journal .baton/journal, approvals .baton/approvals)',
    );
    expect(lines(effects)).toEqual(['ops-wait-h1:call_1_0\tcarts\tcart-77']);
  });

  it('--no-wait exits 4 with the pending call and the resume command; the call is denied from the CLI', async () => {
    const paused = await runCli(
      [
        'run',
        TEAM,
        '--journal',
        '--no-wait',
        '--dir',
        'state',
        '--run-id',
        'ops-nowait',
        '-t',
        'api tokens older than 100 days',
      ],
      options,
    );
    expect(paused.code, paused.stderr).toBe(4);
    expect(paused.stdout).toContain('Run ops-nowait is paused: 1 call waits for a person');
    expect(paused.stdout).toMatch(
      /deny: +.* approvals deny ops-nowait-h1 call_1_0 --reason '…' --dir state\/approvals$/m,
    );
    expect(paused.stdout).toMatch(
      /edit: +.* approvals edit ops-nowait-h1 call_1_0 --args '\{"table":"api_tokens","ids":\["tok-a1"\]\}' --dir state\/approvals$/m,
    );
    expect(paused.stdout).toMatch(
      new RegExp(`Resume it once decided: .* resume ops-nowait --dir state --team ${TEAM}$`, 'm'),
    );

    const listed = await runCli(
      ['approvals', 'list', '--json', '--dir', 'state/approvals', '--run', 'ops-nowait'],
      options,
    );
    expect(listed.code, listed.stderr).toBe(0);
    const records = JSON.parse(listed.stdout) as ApprovalRecord[];
    expect(records).toMatchObject([
      {
        runId: 'ops-nowait-h1',
        toolCallId: 'call_1_0',
        teamRunId: 'ops-nowait',
        agent: 'operator',
        tool: 'delete_stale_records',
        risk: 'destructive',
        reason: 'risk',
        status: 'pending',
        args: { table: 'api_tokens', ids: ['tok-a1'] },
      },
    ]);

    const deny = await runCli(
      [
        'approvals',
        'deny',
        'ops-nowait-h1',
        'call_1_0',
        '--dir',
        'state/approvals',
        '--reason',
        'still in use',
      ],
      options,
    );
    expect(deny.code, deny.stderr).toBe(0);
    expect(deny.stdout).toContain('Denied delete_stale_records (call call_1_0 of run ops-nowait-h1)');
  });

  it('`baton resume` ends the denied run without running the tool; resumed again, it prints the recorded result', async () => {
    const resumed = await runCli(['resume', 'ops-nowait', '--dir', 'state', '--team', TEAM], options);
    expect(resumed.stderr).toContain('Resuming run ops-nowait of team operations');
    expect(resumed.stdout).toMatch(/^operator +denied /m);
    expect(lines(effects).filter((line) => line.includes('tok-a1'))).toEqual([]);

    const again = await runCli(['resume', 'ops-nowait', '--dir', 'state', '--team', TEAM], options);
    expect(again.code).toBe(resumed.code);
    expect(again.stderr).toContain('Run ops-nowait had finished already: its recorded result follows');
    expect(again.stdout).toMatch(/^operator +denied /m);
  });

  it('Ctrl-C while waiting leaves the run paused and prints how to resume it; resume refuses what it cannot find', async () => {
    const run = startCli(['run', TEAM, '--journal', '--run-id', 'ops-int'], options);
    children.push(run);
    const finished = collect(run, 90_000);
    await waitForStderr(run, /Waiting for the decisions/);
    run.kill('SIGINT');
    const stopped = await finished;
    expect(stopped.code).toBe(4);
    expect(stopped.stderr).toContain('SIGINT: stopped waiting for decisions');
    expect(stopped.stdout).toMatch(
      /Run ops-int is still paused\. Resume it once decided: .* resume ops-int --team /,
    );

    const unknown = await runCli(['resume', 'no-such-run'], options);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('error: No journaled run "no-such-run" in journal .baton/journal');
    expect(unknown.stderr).toMatch(/hint: Recent runs there: .*ops-int/);

    const noTeam = await runCli(['resume', 'ops-int'], options);
    expect(noTeam.code).toBe(2);
    expect(noTeam.stderr).toContain('was started by team "operations", which is not in the catalogue');
    expect(noTeam.stderr).toContain('--team');
  });
});

/** A fixture script in its own Node process (TypeScript through tsx, sources via the export condition). */
function startFixture(script: string, args: string[]) {
  const child = spawn(process.execPath, ['--conditions=@baton/source', '--import', 'tsx', script, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: string[] = [];
  let stderr = '';
  let buffer = '';
  const waiters: { test: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4_000);
  });
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk;
    const parts = buffer.split('\n');
    buffer = parts.pop() ?? '';
    for (const line of parts) {
      out.push(line);
      for (const waiter of [...waiters]) {
        if (waiter.test(line)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
    }
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    exited,
    line(test: (line: string) => boolean, timeoutMs = 60_000): Promise<string> {
      const seen = out.find(test);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no such line from ${script}: ${out.join('\n')}\n${stderr}`)),
          timeoutMs,
        );
        waiters.push({
          test,
          resolve: (line) => {
            clearTimeout(timer);
            resolve(line);
          },
        });
        void exited.then((code) => reject(new Error(`${script} exited (${code}): ${stderr}`)));
      });
    },
  };
}

describe('durable runs over NATS, decided with the CLI (real nats-server)', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'baton-durable-nats-'));
  let nats: NatsServer;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    nats = await startNatsServer({ jetstream: true, readyTimeoutMs: 30_000 });
  });
  afterAll(async () => {
    for (const child of children)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await nats?.stop();
    rmSync(cwd, { recursive: true, force: true });
  });

  it('a remote member pauses the team; a third process decides with `baton approvals`; the team completes, the refund ran once', async () => {
    const namespace = 'refunds';
    const sideChannel = join(cwd, 'refunds.log');
    const worker = startFixture(WORKER, [nats.url, namespace, sideChannel]);
    children.push(worker.child);
    await worker.line((line) => line === 'READY');
    const orchestrator = startFixture(ORCHESTRATOR, [nats.url, namespace, 'refund-1']);
    children.push(orchestrator.child);
    const paused = JSON.parse(await orchestrator.line((line) => line.includes('"paused"'))) as {
      pending: { member: string; tool: string; args: unknown }[];
    };
    expect(paused.pending).toMatchObject([
      { member: 'billing', tool: 'refund', args: { order: 'A-1', amount: 40 } },
    ]);

    // A person on a third machine: NATS_URL is enough to find the approvals of the namespace.
    const list = await runCli(['approvals', 'list', '--namespace', namespace], {
      cwd,
      env: { NATS_URL: nats.url },
    });
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain(`Pending approvals in NATS ${nats.url} (namespace ${namespace}):`);
    expect(list.stdout).toMatch(
      /^refund-1-h1 +call_1_0 +refund +destructive +risk +\{"order":"A-1","amount":40\} +/m,
    );
    const { runId, callId } = firstRow(list.stdout);
    expect(lines(sideChannel)).toEqual([]);

    const approve = await runCli(
      ['approvals', 'approve', runId, callId, '--nats', nats.url, '--namespace', namespace, '--by', 'carol'],
      { cwd, env: { NATS_URL: undefined } },
    );
    expect(approve.code, approve.stderr).toBe(0);

    const done = JSON.parse(await orchestrator.line((line) => line.includes('"done"'))) as {
      status: string;
      output: unknown;
      members: Record<string, string>;
      shape: string[];
    };
    expect(await orchestrator.exited).toBe(0);
    expect(done).toMatchObject({
      status: 'completed',
      output: 'refund issued',
      members: { intake: 'completed', billing: 'completed' },
      shape: ['user→intake:completed', 'intake→billing:completed'],
    });
    expect(lines(sideChannel)).toEqual([`${runId}:${callId}\tA-1\t40`]);
  });

  it('`baton worker --journal` journals every run it serves on the namespace’s JetStream journal', async () => {
    const namespace = 'workerjournal';
    const worker = startCli(
      [
        'worker',
        'researcher',
        '--nats',
        nats.url,
        '--namespace',
        namespace,
        '--journal',
        '--heartbeat',
        '500',
      ],
      { cwd },
    );
    children.push(worker);
    await waitForStderr(worker, /serving research\.topic@1 .*journaled\) .* Ctrl-C to stop/);
    const bus = await NatsBus.connect({ servers: nats.url, name: 'worker-journal-test' });
    try {
      const researcher = remoteAgent(bus, { name: 'researcher', contract: researchContract, namespace });
      const result = await researcher.run({ topic: 'idempotency keys' }, { runId: 'journaled-research-1' });
      expect(result.status).toBe('completed');
      const types = (await natsJournal(bus, { namespace }).read('journaled-research-1')).map(
        (entry) => entry.record.type,
      );
      expect(types[0]).toBe('run.started');
      expect(types).toContain('model.step');
      expect(types).toContain('tool.outcome');
      expect(types.at(-1)).toBe('run.finished');
    } finally {
      await bus.close();
      worker.kill('SIGTERM');
    }
  });
});
