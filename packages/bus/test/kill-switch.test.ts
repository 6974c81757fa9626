import {
  type AgentWorker,
  killFlags,
  NatsBus,
  natsServerConfig,
  persistentKill,
  remoteAgent,
  serveAgent,
  unkill,
} from '@baton/bus';
import {
  echoAgent,
  echoContract,
  eventually,
  type NatsServer,
  startNatsServer,
  TenantClient,
} from '@baton/bus/testing';
import { BatonError } from '@baton/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { credentials, tenancy } from './tenancy-fixtures.js';

describe('the persistent kill switch (a KV flag) on a real nats-server', () => {
  let server: NatsServer;
  const buses: NatsBus[] = [];
  const workers: AgentWorker[] = [];
  beforeAll(async () => {
    server = await startNatsServer({ jetstream: true });
  }, 30_000);
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((worker) => worker.stop()));
    await Promise.all(buses.splice(0).map((bus) => bus.close()));
  });
  afterAll(async () => {
    await server?.stop();
  });
  const connect = async () => {
    const bus = await NatsBus.connect({ servers: server.url });
    buses.push(bus);
    return bus;
  };
  const serve = async (bus: NatsBus, namespace: string, name = 'echo') => {
    const worker = await serveAgent(bus, echoAgent({ name }), {
      contract: echoContract,
      namespace,
      heartbeatMs: 0,
    });
    workers.push(worker);
    return worker;
  };

  it('a worker started after `kill` refuses work; `unkill` resumes it without a restart', async () => {
    const [operator, workerBus, callerBus] = await Promise.all([connect(), connect(), connect()]);
    const flag = await persistentKill(operator, { namespace: 'k1', reason: 'incident 42', by: 'oncall' });
    expect(flag).toMatchObject({ reason: 'incident 42', by: 'oncall' });
    expect((await killFlags(operator, { namespace: 'k1' })).all).toMatchObject({ reason: 'incident 42' });

    // Started after the kill: the publish is long gone, the flag is not.
    const worker = await serve(workerBus, 'k1');
    expect(worker.killed).toBe(true);
    const remote = remoteAgent(callerBus, {
      name: 'echo',
      contract: echoContract,
      namespace: 'k1',
      timeoutMs: 10_000,
    });
    const refused = await remote.run({ text: 'anyone?' });
    expect(refused.status).not.toBe('completed');
    expect(refused.error?.code).toBe('KILLED');
    expect(refused.error?.message).toContain('incident 42');

    expect(await unkill(operator, { namespace: 'k1' })).toBe(true);
    expect(await eventually(() => !worker.killed, 10_000)).toBe(true);
    expect((await remote.run({ text: 'back' })).output).toEqual({ text: 'back' });
    expect(await unkill(operator, { namespace: 'k1' })).toBe(false);
    expect((await killFlags(operator, { namespace: 'k1' })).all).toBeUndefined();
  });

  it('a running worker obeys a flag set later; a flag for one agent leaves the others serving', async () => {
    const [operator, workerBus, callerBus] = await Promise.all([connect(), connect(), connect()]);
    const target = await serve(workerBus, 'k2', 'target');
    const bystander = await serve(workerBus, 'k2', 'bystander');
    await persistentKill(operator, { namespace: 'k2', agent: 'target', reason: 'bad canary' });
    expect(await eventually(() => target.killed, 10_000)).toBe(true);
    expect(bystander.killed).toBe(false);
    const other = remoteAgent(callerBus, { name: 'bystander', contract: echoContract, namespace: 'k2' });
    expect((await other.run({ text: 'fine' })).status).toBe('completed');
    // A new worker of the killed agent honours the agent's flag too.
    const late = await serve(await connect(), 'k2', 'target');
    expect(late.killed).toBe(true);
    expect(Object.keys((await killFlags(operator, { namespace: 'k2' })).agents)).toEqual(['target']);
    await unkill(operator, { namespace: 'k2', agent: 'target' });
    expect(await eventually(() => !target.killed && !late.killed, 10_000)).toBe(true);
  });

  it('a worker on a nats-server without JetStream still starts (the publish-based kill is all it has)', async () => {
    const bare = await startNatsServer();
    try {
      const bus = await NatsBus.connect({ servers: bare.url });
      buses.push(bus);
      const worker = await serve(bus, 'k3');
      expect(worker.killed).toBe(false);
      await expect(persistentKill(bus, { namespace: 'k3', reason: 'x' })).rejects.toBeInstanceOf(BatonError);
    } finally {
      await Promise.all(workers.splice(0).map((worker) => worker.stop()));
      await bare.stop();
    }
  });
});

describe('the persistent kill switch under tenancy (natsServerConfig)', () => {
  let server: NatsServer;
  const clients: TenantClient[] = [];
  beforeAll(async () => {
    server = await startNatsServer({ jetstream: true, config: natsServerConfig(tenancy()) });
  }, 30_000);
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
    await server?.stop();
  });

  it('callers and workers may read the flag but not write it; the operator may, and workers obey', async () => {
    const connect = async (role: 'worker' | 'caller' | 'operator') => {
      const client = await TenantClient.connect(server.url, credentials('acme', role));
      clients.push(client);
      return client;
    };
    const [worker, caller, operator] = await Promise.all([
      connect('worker'),
      connect('caller'),
      connect('operator'),
    ]);
    const served = await serveAgent(worker.bus, echoAgent({ name: 'guarded' }), {
      contract: echoContract,
      namespace: 'acme',
      heartbeatMs: 0,
    });
    try {
      for (const who of [caller, worker]) {
        const refused = await persistentKill(who.bus, {
          namespace: 'acme',
          reason: `${who.label} tries`,
        }).catch((caught: unknown) => caught);
        expect(refused, who.label).toBeInstanceOf(BatonError);
        expect((refused as BatonError).code, who.label).toBe('BUS_PERMISSION_DENIED');
        const unkilled = await unkill(who.bus, { namespace: 'acme', agent: 'guarded' }).catch(
          (c: unknown) => c,
        );
        // Nothing to clear is answered from a read (allowed); there is no flag yet.
        expect(unkilled).toBe(false);
      }
      expect(served.killed).toBe(false);
      // Reading is allowed to every role.
      expect((await killFlags(caller.bus, { namespace: 'acme' })).all).toBeUndefined();

      await persistentKill(operator.bus, {
        namespace: 'acme',
        agent: 'guarded',
        reason: 'operator stops it',
      });
      expect(await eventually(() => served.killed, 10_000)).toBe(true);
      const refusedUnkill = await unkill(caller.bus, { namespace: 'acme', agent: 'guarded' }).catch(
        (caught: unknown) => caught,
      );
      expect((refusedUnkill as BatonError).code).toBe('BUS_PERMISSION_DENIED');
      expect(served.killed).toBe(true);
      // A worker of the tenant started now reads the flag and refuses work.
      const second = await TenantClient.connect(server.url, credentials('acme', 'worker'), 'acme-worker-2');
      clients.push(second);
      const late = await serveAgent(second.bus, echoAgent({ name: 'guarded' }), {
        contract: echoContract,
        namespace: 'acme',
        heartbeatMs: 0,
      });
      expect(late.killed).toBe(true);
      await late.stop();
      expect(await unkill(operator.bus, { namespace: 'acme', agent: 'guarded' })).toBe(true);
      expect(await eventually(() => !served.killed, 10_000)).toBe(true);
    } finally {
      await served.stop();
    }
  }, 60_000);
});
