import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NatsBus } from '@baton/bus';
import { type NatsServer, startNatsServer } from '@baton/bus/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './cli.js';

describe('baton nats purge --namespace', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'baton-purge-'));
  let server: NatsServer;
  let bus: NatsBus;

  /** The JetStream API, as the purge itself speaks it. */
  async function jsApi(subject: string, body: unknown): Promise<Record<string, unknown>> {
    const reply = await bus.connection.request(subject, JSON.stringify(body), { timeout: 5_000 });
    return JSON.parse(reply.string()) as Record<string, unknown>;
  }
  const streamNames = async () =>
    (((await jsApi('$JS.API.STREAM.NAMES', {})).streams as string[] | null) ?? []).sort();
  const createStream = (name: string, subjects: string[]) =>
    jsApi(`$JS.API.STREAM.CREATE.${name}`, { name, subjects, storage: 'file' });

  beforeAll(async () => {
    server = await startNatsServer({ jetstream: true });
    bus = await NatsBus.connect({ servers: server.url });
    // The namespace's own: a work queue, a journal, a KV bucket (its stream) and the A2A task store; a
    // namespace whose name starts the same (acme_b) and another tenant's stream stay.
    await createStream('BATON_acme_INVOKE', ['baton.acme.agent.*.invoke.durable']);
    await createStream('BATON_acme_JOURNAL', ['baton.acme.journal.>']);
    await createStream('KV_BATON_acme_APPROVALS', ['$KV.BATON_acme_APPROVALS.>']);
    await createStream('BATON_acme_A2A_TASKS', ['baton.acme.a2a.tasks.>']);
    await createStream('BATON_acme_b_JOURNAL', ['baton.acme_b.journal.>']);
    await createStream('BATON_other_AUDIT', ['baton.other.audit']);
    await bus.connection
      .request('baton.acme.journal.run-1', 'one record', { timeout: 5_000 })
      .catch(() => undefined);
  });
  afterAll(async () => {
    await bus?.close();
    await server?.stop();
    rmSync(cwd, { recursive: true, force: true });
  });

  it('lists what it would delete and deletes nothing without --yes', async () => {
    const { code, stdout, stderr } = await runCli(
      ['nats', 'purge', '--namespace', 'acme', '--nats', server.url],
      {
        cwd,
      },
    );
    expect(code).toBe(2);
    expect(stdout).toContain(`4 streams of ${server.url} (namespace acme) would be deleted`);
    expect(stdout).toContain('stream BATON_acme_INVOKE');
    expect(stdout).toContain('stream BATON_acme_JOURNAL: 1 message');
    expect(stdout).toContain('kv bucket BATON_acme_APPROVALS');
    expect(stdout).toContain('stream BATON_acme_A2A_TASKS');
    expect(stdout).not.toContain('acme_b');
    expect(stdout).not.toContain('other');
    expect(stderr).toContain('error: Nothing deleted: add --yes to delete them');
    expect(stderr).toMatch(
      new RegExp(`^hint: .* nats purge --namespace acme --nats ${server.url} --yes$`, 'm'),
    );
    expect(await streamNames()).toHaveLength(6);
  });

  it('with --yes (and the server from NATS_URL) deletes exactly that namespace', async () => {
    const { code, stdout, stderr } = await runCli(
      ['nats', 'purge', '--namespace', 'acme', '--yes', '--json'],
      {
        cwd,
        env: { NATS_URL: server.url },
      },
    );
    expect(code, stderr).toBe(0);
    const outcome = JSON.parse(stdout) as { deleted: string[] };
    expect(outcome.deleted.sort()).toEqual([
      'BATON_acme_A2A_TASKS',
      'BATON_acme_INVOKE',
      'BATON_acme_JOURNAL',
      'KV_BATON_acme_APPROVALS',
    ]);
    expect(await streamNames()).toEqual(['BATON_acme_b_JOURNAL', 'BATON_other_AUDIT']);

    const again = await runCli(['nats', 'purge', '--namespace', 'acme', '--nats', server.url], { cwd });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('Nothing to delete');
  });
});
