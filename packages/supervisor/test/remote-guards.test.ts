/**
 * A team's guards reach its remote members (issue 12): over a real nats-server, the `clerk` member runs
 * in its own worker process (fixtures/guarded-worker.ts), and the team's tool guards run there — on the
 * customer record its tool returns, on the address its email tool is given. A guard that cannot travel
 * fails the call closed before anything is sent; a guard kind the worker does not know is refused there.
 * Tenant, user and session reach the member's tools.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type BusMessage, NatsBus, remoteAgent, subjects, waitForAgent } from '@baton/bus';
import { type NatsServer, startNatsServer } from '@baton/bus/testing';
import {
  allowListGuard,
  EventHub,
  type Guard,
  type Guardrails,
  PASS,
  piiGuard,
  portableGuard,
  type RunEvent,
} from '@baton/core';
import { pipeline, type TeamEvent } from '@baton/supervisor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clerkContract, SSN } from './fixtures/clerk.js';

const script = fileURLToPath(new URL('./fixtures/guarded-worker.ts', import.meta.url));

/** Registered in this process only: the worker process has never heard of the kind. */
const onlyInTheCaller = portableGuard('test.onlyInTheCaller', (_options: { note?: string }) => ({
  name: 'only-here',
  check: () => PASS,
}));

const teamGuards: Guardrails = {
  toolOutput: [piiGuard()],
  toolInput: [
    allowListGuard({ name: 'team-recipients', tool: 'send_email', path: 'to', values: ['ops@example.com'] }),
  ],
};

describe('a team’s guards in a remote member’s process, over NATS', () => {
  let server: NatsServer;
  let bus: NatsBus;
  let worker: ChildProcess;
  /** `SENT <json>` lines: the emails the worker process really sent. */
  const sent: { to: string; body: string }[] = [];

  beforeAll(async () => {
    server = await startNatsServer({ readyTimeoutMs: 30_000 });
    worker = spawn(process.execPath, ['--conditions=@baton/source', '--import', 'tsx', script, server.url], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      let out = '';
      worker.once('exit', (code) => reject(new Error(`the worker exited early with ${code}`)));
      worker.stdout?.setEncoding('utf8');
      worker.stdout?.on('data', (chunk: string) => {
        out += chunk;
        for (;;) {
          const end = out.indexOf('\n');
          if (end < 0) break;
          const line = out.slice(0, end);
          out = out.slice(end + 1);
          if (line === 'ready') resolve();
          if (line.startsWith('SENT ')) sent.push(JSON.parse(line.slice(5)));
        }
      });
    });
    bus = await NatsBus.connect({ servers: server.url });
    await waitForAgent(bus, 'clerk', { timeoutMs: 30_000 });
  }, 120_000);

  afterAll(async () => {
    await bus?.close();
    if (worker && worker.exitCode === null) {
      worker.removeAllListeners('exit');
      await new Promise<void>((resolve) => {
        worker.once('exit', () => resolve());
        worker.kill('SIGTERM');
      });
    }
    await server?.stop();
  });

  const clerk = () => remoteAgent(bus, { name: 'clerk', contract: clerkContract, timeoutMs: 30_000 });
  const team = (guardrails?: Guardrails) =>
    pipeline({ name: 'mail-team', stages: [{ agent: clerk() }], ...(guardrails ? { guardrails } : {}) });

  it('the SSN a remote tool returns reaches the worker’s model redacted (and without the guard, it would not)', async () => {
    const events = new EventHub<RunEvent | TeamEvent>();
    const seen: (RunEvent | TeamEvent)[] = [];
    events.on('*', (event) => seen.push(event));
    const before = sent.length;
    const guarded = await team(teamGuards).run({ to: 'ops@example.com', customer: 'c-1' }, { events });
    expect(guarded.status).toBe('completed');
    const output = guarded.output as { seen: string };
    expect(output.seen).toContain('[US_SSN]');
    expect(output.seen).not.toContain(SSN);
    // The email the member sent from its process carried what its model saw: redacted.
    expect(sent.slice(before)).toHaveLength(1);
    expect(sent.at(-1)?.body).not.toContain(SSN);
    // The worker's guard events came back over the bus, naming the tool.
    expect(seen).toContainEqual(
      expect.objectContaining({
        type: 'guard.checked',
        agent: 'clerk',
        stage: 'toolOutput',
        tool: 'lookup_customer',
        action: 'rewrite',
      }),
    );

    const unguarded = await team().run({ to: 'ops@example.com', customer: 'c-1' });
    expect(unguarded.status).toBe('completed');
    expect((unguarded.output as { seen: string }).seen).toContain(SSN);
  });

  it('a disallowed tool argument trips the team’s guard in the worker, before the email is sent', async () => {
    const before = sent.length;
    // The worker's own list allows this address; the team's does not.
    const result = await team(teamGuards).run({ to: 'team@example.com', customer: 'c-1' });
    expect(result.status).not.toBe('completed');
    expect(result.members.clerk?.status).toBe('guardrail_tripped');
    expect(result.members.clerk?.error).toMatchObject({
      code: 'GUARDRAIL_TRIPPED',
      details: { guard: 'team-recipients', stage: 'toolInput', tool: 'send_email' },
    });
    // The worker's own guards apply with no team guards at all.
    const alone = await clerk().run({ to: 'attacker@evil.test', customer: 'c-1' });
    expect(alone.status).toBe('guardrail_tripped');
    expect(alone.error?.details).toMatchObject({ guard: 'worker-recipients', tool: 'send_email' });
    expect(sent.slice(before)).toHaveLength(0);
  });

  it('a guard that cannot travel fails the team closed with GUARD_NOT_PORTABLE; nothing is sent', async () => {
    const invocations: BusMessage[] = [];
    const spy = bus.subscribe(subjects.invoke('default', 'clerk'), (message) => invocations.push(message));
    await bus.flush();
    try {
      const inline: Guard = { name: 'inline-check', check: () => PASS };
      const result = await team({ ...teamGuards, toolOutput: [piiGuard(), inline] }).run({
        to: 'ops@example.com',
        customer: 'c-1',
      });
      expect(result.status).not.toBe('completed');
      expect(result.members.clerk?.error).toMatchObject({
        code: 'GUARD_NOT_PORTABLE',
        details: { guards: ['toolOutput: inline-check'] },
      });
      await bus.flush();
      expect(invocations).toHaveLength(0);
      // The spy does see invocations: its silence above means nothing was sent.
      expect((await team(teamGuards).run({ to: 'ops@example.com', customer: 'c-1' })).status).toBe(
        'completed',
      );
      await expect.poll(() => invocations.length, { timeout: 10_000 }).toBe(1);
    } finally {
      spy.unsubscribe();
    }
  });

  it('a guard kind the worker does not know is refused there with GUARD_UNKNOWN; the member does not run', async () => {
    const before = sent.length;
    const result = await team({ toolInput: [onlyInTheCaller({})] }).run({
      to: 'ops@example.com',
      customer: 'c-1',
    });
    expect(result.status).not.toBe('completed');
    expect(result.members.clerk?.error).toMatchObject({
      code: 'GUARD_UNKNOWN',
      details: { kind: 'test.onlyInTheCaller' },
    });
    expect(result.members.clerk?.steps).toBe(0);
    expect(sent.slice(before)).toHaveLength(0);
  });

  it('tenant, user and session reach the remote member’s ToolContext', async () => {
    const viaTeam = await team(teamGuards).run(
      { to: 'ops@example.com', customer: 'c-1' },
      { userId: 'user-7', sessionId: 'session-42' },
    );
    expect(viaTeam.status).toBe('completed');
    expect((viaTeam.output as { who: unknown }).who).toEqual({
      tenantId: 'default',
      userId: 'user-7',
      sessionId: 'session-42',
    });
    const direct = await clerk().run(
      { to: 'ops@example.com', customer: 'c-1' },
      { tenantId: 'default', userId: 'user-8', sessionId: 'session-43' },
    );
    expect(direct.status).toBe('completed');
    expect(direct.output?.who).toEqual({ tenantId: 'default', userId: 'user-8', sessionId: 'session-43' });
  });
});
