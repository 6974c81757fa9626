import { createHash } from 'node:crypto';
import {
  jetstreamNames,
  killSwitch,
  NatsBus,
  natsMemoryStore,
  natsServerConfig,
  remoteAgent,
  serveAgent,
  subjects,
  type TenantRole,
} from '@baton/bus';
import {
  type CrossTenantReport,
  echoAgent,
  echoContract,
  eventually,
  type NatsServer,
  probeCrossTenant,
  startNatsServer,
  TenantClient,
} from '@baton/bus/testing';
import { BatonError, type MemorySubject } from '@baton/core';
import { type MemoryStoreFactory, memoryStoreConformance } from '@baton/core/testing';
import { Kvm } from '@nats-io/kv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentials, passwordOf, type Tenant, tenancy, userOf } from './tenancy-fixtures.js';

/** The layout's digest of a name (memory/kv-layout.ts): how a subject's keys are recognised in the bucket. */
const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest('base64url').slice(0, 22);

/** Everything the bucket still holds of a subject, read with the KV API as the same user (see memory-store.test.ts). */
async function residueIn(bus: NatsBus, bucket: string, subject: MemorySubject): Promise<string[]> {
  const kv = await new Kvm(bus.connection).open(bucket);
  const mine = `.${digest(subject.tenant)}.${digest(subject.user)}`;
  const found: string[] = [];
  for await (const entry of await kv.history({ key: '>' })) {
    if (entry.key.startsWith('o.')) continue;
    let names = false;
    if (entry.operation === 'PUT') {
      try {
        const value = JSON.parse(entry.string()) as { namespace?: { tenant?: unknown; user?: unknown } };
        names = value.namespace?.tenant === subject.tenant && value.namespace?.user === subject.user;
      } catch {
        names = entry.string().includes(subject.user);
      }
    }
    if (names || entry.key.includes(mine)) found.push(`${entry.operation} ${entry.key} @${entry.revision}`);
  }
  return found;
}

describe('tenants on a real nats-server (natsServerConfig for acme, globex, initech)', () => {
  let server: NatsServer;
  const clients: TenantClient[] = [];
  const connect = async (tenant: Tenant, role: TenantRole) => {
    const client = await TenantClient.connect(server.url, credentials(tenant, role));
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    server = await startNatsServer({ jetstream: true, config: natsServerConfig(tenancy()) });
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
    await server?.stop();
  });

  it("a worker and a caller of one tenant run a remote agent end to end, on the tenant's inbox prefix", async () => {
    const [worker, caller] = await Promise.all([connect('acme', 'worker'), connect('acme', 'caller')]);
    const agent = echoAgent({ name: 'e2e' });
    const served = await serveAgent(worker.bus, agent, {
      contract: echoContract,
      namespace: 'acme',
      heartbeatMs: 0,
    });
    try {
      const remote = remoteAgent(caller.bus, {
        name: 'e2e',
        contract: echoContract,
        namespace: 'acme',
        timeoutMs: 30_000,
      });
      const result = await remote.run({ text: 'hello acme' }, { userId: 'alice' });
      expect(result.error).toBeUndefined();
      expect(result.status).toBe('completed');
      expect(result.output).toEqual({ text: 'hello acme' });
      // The tenant and user travelled with the invocation to the agent.
      expect(agent.observed.lastOptions).toMatchObject({ tenantId: 'acme', userId: 'alice' });
      expect([...worker.denials, ...caller.denials]).toEqual([]);
    } finally {
      await served.stop();
    }
  });

  it('a client without the tenant inbox prefix fails at once with BUS_PERMISSION_DENIED, not a timeout', async () => {
    const bare = await NatsBus.connect({
      servers: server.url,
      connection: { user: userOf('acme', 'caller'), pass: passwordOf(userOf('acme', 'caller')) },
    });
    try {
      const started = Date.now();
      const error = await bare
        .request(subjects.registryQuery('acme'), '{}', { timeoutMs: 60_000 })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(BatonError);
      expect((error as BatonError).code).toBe('BUS_PERMISSION_DENIED');
      expect(Date.now() - started).toBeLessThan(30_000);
    } finally {
      await bare.close();
    }
  });

  it('every cross-tenant read and write is denied or isolated', async () => {
    const attackers = [
      credentials('globex', 'worker'),
      credentials('globex', 'caller'),
      credentials('globex', 'operator'),
      credentials('initech', 'operator'),
    ];
    const report: CrossTenantReport = await probeCrossTenant({
      url: server.url,
      victim: {
        operator: credentials('acme', 'operator'),
        worker: credentials('acme', 'worker'),
        caller: credentials('acme', 'caller'),
      },
      attackers,
      waitMs: 20_000,
    });
    const bad = report.rows.filter((row) => row.outcome !== 'denied' && row.outcome !== 'isolated');
    expect(bad).toEqual([]);
    expect(report.crossTenantReads).toBe(0);
    expect(report.crossTenantWrites).toBe(0);
    expect(report.undenied).toBe(0);
    expect(report.denied + report.isolated).toBe(report.attempts);
    // Every attacker tried every kind; logins were tried against the victim.
    expect(report.attempts).toBeGreaterThanOrEqual(400);
    expect(Object.keys(report.byKind).sort()).toEqual(
      ['api', 'auth', 'publish', 'stream-read', 'stream-write', 'subscribe', 'system'].sort(),
    );
    for (const attacker of attackers) {
      const label = `${attacker.user} (${attacker.roles.join('+')} of ${attacker.tenant})`;
      expect(report.rows.filter((row) => row.by === label).length, label).toBeGreaterThanOrEqual(100);
    }
    expect(report.roleAttempts).toBe(3);
    expect(report.roleEscalations).toBe(0);
    expect(report.controls).toEqual({ passed: 2 * attackers.length, failed: 0 });
  });

  it('a request into another tenant fails at once with BUS_PERMISSION_DENIED, and the worker never sees it', async () => {
    const [worker, intruder] = await Promise.all([connect('acme', 'worker'), connect('globex', 'caller')]);
    const agent = echoAgent({ name: 'guarded' });
    const served = await serveAgent(worker.bus, agent, {
      contract: echoContract,
      namespace: 'acme',
      heartbeatMs: 0,
    });
    try {
      const remote = remoteAgent(intruder.bus, {
        name: 'guarded',
        contract: echoContract,
        namespace: 'acme',
        timeoutMs: 60_000,
      });
      const started = Date.now();
      const result = await remote.run({ text: 'let me in' });
      expect(result.status).toBe('failed');
      expect(result.error?.code).toBe('BUS_PERMISSION_DENIED');
      // The deadline was a minute away: the refusal ended it, not the clock.
      expect(Date.now() - started).toBeLessThan(30_000);
      const raw = await intruder.bus
        .request(subjects.invoke('acme', 'guarded'), '{}', { timeoutMs: 60_000 })
        .catch((error: unknown) => error);
      expect((raw as BatonError).code).toBe('BUS_PERMISSION_DENIED');
      expect(agent.observed.runs).toBe(0);
    } finally {
      await served.stop();
    }
  });

  it("only operators kill: a caller's kill is refused and the worker keeps serving; the operator's stops it", async () => {
    const [worker, caller, operator] = await Promise.all([
      connect('acme', 'worker'),
      connect('acme', 'caller'),
      connect('acme', 'operator'),
    ]);
    const served = await serveAgent(worker.bus, echoAgent({ name: 'killable' }), {
      contract: echoContract,
      namespace: 'acme',
      heartbeatMs: 0,
    });
    try {
      const remote = remoteAgent(caller.bus, {
        name: 'killable',
        contract: echoContract,
        namespace: 'acme',
        timeoutMs: 30_000,
      });
      const refused = await killSwitch(caller.bus, {
        namespace: 'acme',
        agent: 'killable',
        reason: 'a caller tries',
      }).catch((caught: unknown) => caught);
      // Refused loudly, not a kill that looks sent.
      expect(refused).toBeInstanceOf(BatonError);
      expect((refused as BatonError).code).toBe('BUS_PERMISSION_DENIED');
      expect((refused as BatonError).details).toMatchObject({
        operation: 'publish',
        subject: subjects.kill('acme'),
      });
      expect(served.killed).toBe(false);
      expect((await remote.run({ text: 'still here' })).status).toBe('completed');

      await killSwitch(operator.bus, {
        namespace: 'acme',
        agent: 'killable',
        reason: 'the operator stops it',
      });
      expect(await operator.refused('publish', subjects.kill('acme'), 20_000)).toBe(false);
      expect(await eventually(() => served.killed, 20_000)).toBe(true);
      const after = await remote.run({ text: 'anyone?' });
      expect(after.status).not.toBe('completed');
      expect(after.error?.code).toBe('KILLED');
    } finally {
      await served.stop();
    }
  });

  it("a caller's abort reaches the remote run (cancel is a caller's right); a worker may not publish cancel", async () => {
    const [worker, caller] = await Promise.all([connect('acme', 'worker'), connect('acme', 'caller')]);
    const agent = echoAgent({ name: 'slow' });
    const served = await serveAgent(worker.bus, agent, {
      contract: echoContract,
      namespace: 'acme',
      heartbeatMs: 0,
    });
    try {
      const remote = remoteAgent(caller.bus, {
        name: 'slow',
        contract: echoContract,
        namespace: 'acme',
        timeoutMs: 60_000,
      });
      const controller = new AbortController();
      const running = remote.run({ text: 'long', delayMs: 120_000 }, { signal: controller.signal });
      expect(await eventually(() => agent.observed.active === 1, 20_000)).toBe(true);
      controller.abort(new Error('the caller gives up'));
      const result = await running;
      expect(result.status).toBe('aborted');
      expect(await eventually(() => agent.observed.aborts.length === 1, 20_000)).toBe(true);
      expect(caller.denials).toEqual([]);

      const cancel = subjects.runCancel('acme', 'any-run');
      worker.bus.publish(cancel, '{}');
      expect(await worker.refused('publish', cancel, 20_000)).toBe(true);
    } finally {
      await served.stop();
    }
  });

  describe("least privilege is enough: the memory store's conformance suite as acme's worker", () => {
    const bucket = jetstreamNames.memoryBucket('acme');
    const factory: MemoryStoreFactory = {
      name: 'natsMemoryStore as a tenant worker',
      vectors: true,
      async open() {
        const worker = await connect('acme', 'worker');
        const store = await natsMemoryStore(worker.bus, { namespace: 'acme' });
        return {
          store,
          residue: (subject) => residueIn(worker.bus, bucket, subject),
          close: async () => {
            await store.close();
            expect(worker.denials).toEqual([]);
          },
        };
      },
    };
    for (const testCase of memoryStoreConformance) it(testCase.name, () => testCase.run(factory));
  });

  it('the probe is not blind: with every user in one account and no permissions, it finds the reads and writes', async () => {
    const users = ['acme-operator', 'acme-worker', 'acme-caller', 'globex-operator'].map(
      (user) => `{ user: "${user}", password: "${passwordOf(user)}" }`,
    );
    const open = await startNatsServer({
      jetstream: true,
      config: `authorization { users: [ ${users.join(', ')} ] }\n`,
    });
    try {
      const report = await probeCrossTenant({
        url: open.url,
        victim: {
          operator: credentials('acme', 'operator'),
          worker: credentials('acme', 'worker'),
          caller: credentials('acme', 'caller'),
        },
        attackers: [credentials('globex', 'operator')],
        waitMs: 10_000,
      });
      expect(report.crossTenantReads).toBeGreaterThan(0);
      expect(report.crossTenantWrites).toBeGreaterThan(0);
      expect(report.roleEscalations).toBe(report.roleAttempts);
      // Each kind of attempt catches something once nothing stops it.
      const caught = new Set(
        report.rows.filter((row) => row.outcome === 'read' || row.outcome === 'write').map((row) => row.kind),
      );
      for (const kind of ['api', 'publish', 'stream-read', 'stream-write', 'subscribe', 'role']) {
        expect(caught, kind).toContain(kind);
      }
    } finally {
      await open.stop();
    }
  });

  it('a wrong password is refused with BUS_AUTH_FAILED (not retryable, password not shown)', async () => {
    const user = userOf('acme', 'caller');
    for (const pass of ['wrong-password-1', passwordOf(userOf('globex', 'caller'))]) {
      const error = await NatsBus.connect({
        servers: server.url,
        connectTimeoutMs: 20_000,
        connection: { user, pass },
      }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(BatonError);
      expect((error as BatonError).code).toBe('BUS_AUTH_FAILED');
      expect((error as BatonError).retryable).toBe(false);
      expect(JSON.stringify((error as BatonError).toJSON())).not.toContain(pass);
    }
    const url = server.url.replace('nats://', `nats://${user}:wrong-password-2@`);
    const error = await NatsBus.connect({ servers: url, connectTimeoutMs: 20_000 }).catch(
      (caught: unknown) => caught,
    );
    expect((error as BatonError).code).toBe('BUS_AUTH_FAILED');
    expect((error as BatonError).message).not.toContain('wrong-password-2');
  });
});
