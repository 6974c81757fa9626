import {
  type AgentWorker,
  NatsBus,
  natsServerConfig,
  type RollbackEvent,
  type RolloutWatcher,
  rolloutAgent,
  rolloutStore,
  rolloutWatcher,
  serveAgent,
  trafficBucketOf,
} from '@baton/bus';
import {
  customAgent,
  echoContract,
  eventually,
  type NatsServer,
  resultOf,
  startNatsServer,
  TenantClient,
} from '@baton/bus/testing';
import { BatonError } from '@baton/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { credentials, tenancy } from './tenancy-fixtures.js';

const V1 = `sha256:${'1'.repeat(64)}`;
const V2 = `sha256:${'2'.repeat(64)}`;

let server: NatsServer;
const buses: NatsBus[] = [];
const workers: AgentWorker[] = [];
const watchers: RolloutWatcher[] = [];

beforeAll(async () => {
  server = await startNatsServer({ jetstream: true });
}, 30_000);
afterEach(async () => {
  await Promise.all(watchers.splice(0).map((watcher) => watcher.stop()));
  await Promise.all(workers.splice(0).map((worker) => worker.stop()));
  await Promise.all(buses.splice(0).map((bus) => bus.close()));
});
afterAll(async () => {
  await server?.stop();
});

async function connect(): Promise<NatsBus> {
  const bus = await NatsBus.connect({ servers: server.url });
  buses.push(bus);
  return bus;
}

/**
 * A worker of `agent` serving `bundle`: it answers with the bundle it serves, and fails the runs
 * `fails(text)` picks (a failed status, as a worse bundle would produce).
 */
async function serveBundle(
  bus: NatsBus,
  namespace: string,
  bundle: string | undefined,
  fails: (text: string) => boolean = () => false,
  agent = 'writer',
): Promise<AgentWorker> {
  const worker = await serveAgent(
    bus,
    customAgent<{ text: string }, { text: string; by?: string }>(agent, async (input, options) =>
      fails(input.text)
        ? resultOf(agent, options, { status: 'failed', error: new BatonError('OUTPUT_INVALID', 'bad draft') })
        : resultOf(agent, options, { output: { text: input.text, by: bundle ?? 'unversioned' } }),
    ),
    { contract: echoContract, namespace, heartbeatMs: 0, ...(bundle === undefined ? {} : { bundle }) },
  );
  workers.push(worker);
  return worker;
}

describe('rollout pointers, routing and automatic rollback on a real nats-server', () => {
  it('without a pointer the router is a plain remote agent (unversioned workers still serve)', async () => {
    const [workerBus, callerBus] = await Promise.all([connect(), connect()]);
    await serveBundle(workerBus, 'r0', undefined);
    const router = rolloutAgent(callerBus, { name: 'writer', contract: echoContract, namespace: 'r0' });
    const result = await router.run({ text: 'hi' });
    expect(result.output).toEqual({ text: 'hi', by: 'unversioned' });
    expect(router.pointer).toBeUndefined();
    router.close();
  });

  it('promote, canary with a share, promote the canary, roll production back: routed by bundle, recorded', async () => {
    const [operator, workerBus, callerBus] = await Promise.all([connect(), connect(), connect()]);
    const store = rolloutStore(operator, { namespace: 'r1' });
    await serveBundle(workerBus, 'r1', V1);
    await serveBundle(workerBus, 'r1', V2);
    const router = rolloutAgent(callerBus, { name: 'writer', contract: echoContract, namespace: 'r1' });

    await store.promote('writer', V1, { by: 'alice', reason: 'first release' });
    expect(await eventually(() => router.pointer?.production === V1, 10_000)).toBe(true);
    expect((await router.run({ text: 'a' })).output).toEqual({ text: 'a', by: V1 });

    await store.canary('writer', V2, 0.3, { by: 'alice' });
    expect(await eventually(() => router.pointer?.canary?.bundle === V2, 10_000)).toBe(true);
    const served = { [V1]: 0, [V2]: 0 } as Record<string, number>;
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, index) => router.run({ text: `t${index}` }, { runId: `run-${index}` })),
    );
    for (const [index, result] of results.entries()) {
      const by = (result.output as { by: string }).by;
      served[by] = (served[by] ?? 0) + 1;
      // Deterministic by run id: the router's choice is the bundle that answered.
      expect(by).toBe(trafficBucketOf(`run-${index}`) < 0.3 ? V2 : V1);
    }
    expect(served[V2]).toBeGreaterThan(30);
    expect(served[V2]).toBeLessThan(100);

    const promoted = await store.promote('writer', V2, { by: 'alice', reason: 'canary looked good' });
    expect(promoted.pointer.production).toBe(V2);
    expect(promoted.pointer.canary).toBeUndefined();
    expect(promoted.pointer.history.at(-1)).toMatchObject({ action: 'promote', bundle: V2, from: V1 });

    const back = await store.rollback('writer', { reason: 'complaints', by: 'bob' });
    expect(back.pointer.production).toBe(V1);
    expect(back.pointer.history.map((entry) => entry.action)).toEqual([
      'promote',
      'canary',
      'promote',
      'rollback',
    ]);
    expect(back.pointer.history.at(-1)).toMatchObject({
      bundle: V2,
      from: V1,
      reason: 'complaints',
      by: 'bob',
    });
    expect(await eventually(() => router.pointer?.production === V1, 10_000)).toBe(true);
    router.close();
  });

  it('a canary worse than production is rolled back automatically within the window, with the reason', async () => {
    const [operator, workerBus, callerBus] = await Promise.all([connect(), connect(), connect()]);
    const store = rolloutStore(operator, { namespace: 'r2' });
    await serveBundle(workerBus, 'r2', V1, (text) => text.endsWith('7')); // ~10 % failures
    await serveBundle(workerBus, 'r2', V2, (text) => !text.endsWith('0') && !text.endsWith('5')); // ~80 %
    const rollbacks: RollbackEvent[] = [];
    const errors: BatonError[] = [];
    watchers.push(
      await rolloutWatcher(operator, {
        namespace: 'r2',
        windowMs: 5 * 60_000,
        minSamples: 10,
        maxDrop: 0.1,
        onRollback: (event) => rollbacks.push(event),
        onError: (error) => errors.push(error),
      }),
    );
    await store.promote('writer', V1);
    await store.canary('writer', V2, 0.5, { reason: 'new prompt' });
    const router = rolloutAgent(callerBus, { name: 'writer', contract: echoContract, namespace: 'r2' });
    expect(await eventually(() => router.pointer?.canary?.bundle === V2, 10_000)).toBe(true);

    // Traffic in small batches until the watcher has judged (no fixed count: it decides on its samples).
    let sent = 0;
    while (rollbacks.length === 0 && sent < 600) {
      await Promise.all(Array.from({ length: 10 }, () => router.run({ text: `doc${sent++}` })));
    }
    expect(errors).toEqual([]);
    expect(await eventually(() => rollbacks.length === 1, 10_000)).toBe(true);
    const read = await store.get('writer');
    expect(read?.pointer.production).toBe(V1);
    expect(read?.pointer.canary).toBeUndefined();
    const record = read?.pointer.history.at(-1);
    expect(record).toMatchObject({
      action: 'rollback',
      bundle: V2,
      from: V1,
      automatic: true,
      by: 'rollout-watcher',
    });
    expect(record?.reason).toMatch(/canary success .* points below production/);
    const evidence = record?.evidence;
    expect(evidence?.canary.total).toBeGreaterThanOrEqual(10);
    expect(evidence?.production.total).toBeGreaterThanOrEqual(10);
    expect((evidence?.production.rate ?? 0) - (evidence?.canary.rate ?? 1)).toBeGreaterThanOrEqual(0.1);
    expect(evidence?.window).toMatchObject({ windowMs: 5 * 60_000 });
    expect(evidence?.window.from).toBeGreaterThanOrEqual(read?.pointer.history.at(-2)?.at ?? Number.NaN);

    // Traffic is back on production only.
    expect(await eventually(() => router.pointer?.canary === undefined, 10_000)).toBe(true);
    const after = await Promise.all(
      Array.from({ length: 20 }, (_, index) => router.run({ text: `late${index}1` })),
    );
    expect(after.every((result) => (result.output as { by: string }).by === V1)).toBe(true);
    router.close();
  });

  it('a canary as good as production is left alone', async () => {
    const [operator, workerBus, callerBus] = await Promise.all([connect(), connect(), connect()]);
    const store = rolloutStore(operator, { namespace: 'r3' });
    // Both arms succeed on every run: whatever the routing, no drop to find.
    await serveBundle(workerBus, 'r3', V1);
    await serveBundle(workerBus, 'r3', V2);
    const watcher = await rolloutWatcher(operator, { namespace: 'r3', minSamples: 10 });
    watchers.push(watcher);
    await store.promote('writer', V1);
    await store.canary('writer', V2, 0.5);
    const router = rolloutAgent(callerBus, { name: 'writer', contract: echoContract, namespace: 'r3' });
    expect(await eventually(() => router.pointer?.canary?.bundle === V2, 10_000)).toBe(true);
    for (let batch = 0; batch < 10; batch++) {
      await Promise.all(Array.from({ length: 10 }, (_, index) => router.run({ text: `d${batch}${index}` })));
    }
    expect(
      await eventually(() => {
        const stats = watcher.stats('writer');
        return (stats?.canary.total ?? 0) + (stats?.production.total ?? 0) === 100;
      }, 10_000),
    ).toBe(true);
    expect((await store.get('writer'))?.pointer.canary?.bundle).toBe(V2);
    router.close();
  });

  it('compare-and-set: concurrent writers both land; a write on a stale revision is ROLLOUT_CONFLICT', async () => {
    const [a, b] = await Promise.all([connect(), connect()]);
    const storeA = rolloutStore(a, { namespace: 'r4' });
    const storeB = rolloutStore(b, { namespace: 'r4' });
    const first = await storeA.promote('writer', V1);
    // Two operators change the pointer at once: neither change is lost.
    await Promise.all([
      storeA.canary('writer', V2, 0.1, { by: 'a' }),
      storeB.promote('writer', V1, { by: 'b', reason: 'pin' }),
    ]);
    const now = await storeA.get('writer');
    expect(now?.pointer.history.map((entry) => entry.by ?? '-').sort()).toEqual(['-', 'a', 'b']);
    expect(now?.revision).toBeGreaterThan(first.revision);
    // A writer that insists on what it read loses to the change made since.
    const stale = await storeB
      .rollback('writer', { expectedRevision: first.revision, reason: 'stale view' })
      .catch((caught: unknown) => caught);
    expect(stale).toBeInstanceOf(BatonError);
    expect((stale as BatonError).code).toBe('ROLLOUT_CONFLICT');
    expect((await storeA.get('writer'))?.revision).toBe(now?.revision);
    // With the current revision it goes through.
    const done = await storeB.promote('writer', V2, { expectedRevision: now?.revision as number });
    expect(done.pointer.production).toBe(V2);
  });

  it('rejects invalid rollouts: a canary without production, a bad share, a bad bundle id', async () => {
    const bus = await connect();
    const store = rolloutStore(bus, { namespace: 'r5' });
    await expect(store.canary('writer', V2, 0.1)).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await store.promote('writer', V1);
    await expect(store.canary('writer', V2, 1.5)).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(store.promote('writer', 'not.a.token')).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(store.rollback('writer')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('rollout under tenancy', () => {
  let tenantServer: NatsServer;
  const clients: TenantClient[] = [];
  beforeAll(async () => {
    tenantServer = await startNatsServer({ jetstream: true, config: natsServerConfig(tenancy()) });
  }, 30_000);
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
    await tenantServer?.stop();
  });

  it('callers route and report outcomes but may not change pointers; the operator may', async () => {
    const connectAs = async (role: 'worker' | 'caller' | 'operator') => {
      const client = await TenantClient.connect(tenantServer.url, credentials('acme', role));
      clients.push(client);
      return client;
    };
    const [worker, caller, operator] = await Promise.all([
      connectAs('worker'),
      connectAs('caller'),
      connectAs('operator'),
    ]);
    const operatorStore = rolloutStore(operator.bus, { namespace: 'acme' });
    await operatorStore.promote('writer', V1);
    await operatorStore.canary('writer', V2, 0.01);
    for (const who of [caller, worker]) {
      const store = rolloutStore(who.bus, { namespace: 'acme' });
      // Reading is allowed; changing is not.
      expect((await store.get('writer'))?.pointer.canary?.bundle).toBe(V2);
      const refused = await store
        .rollback('writer', { reason: `${who.label} tries` })
        .catch((caught: unknown) => caught);
      expect((refused as BatonError).code, who.label).toBe('BUS_PERMISSION_DENIED');
      const promote = await store.promote('writer', V2).catch((caught: unknown) => caught);
      expect((promote as BatonError).code, who.label).toBe('BUS_PERMISSION_DENIED');
    }
    await operatorStore.rollback('writer', { reason: 'operator ends the canary' });
    worker.denials.length = 0;
    caller.denials.length = 0;
    const served = await serveBundle(worker.bus, 'acme', V1);
    try {
      const router = rolloutAgent(caller.bus, { name: 'writer', contract: echoContract, namespace: 'acme' });
      expect((await router.run({ text: 'routed' })).output).toEqual({ text: 'routed', by: V1 });
      router.close();
      expect([...worker.denials, ...caller.denials]).toEqual([]);
    } finally {
      await served.stop();
      workers.splice(workers.indexOf(served), 1);
    }
  }, 60_000);
});
