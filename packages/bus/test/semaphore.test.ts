import { jetstreamNames, NatsBus, natsSemaphore, type Permit, type Semaphore } from '@baton/bus';
import { eventually, type NatsServer, sleep, startNatsServer } from '@baton/bus/testing';
import { BatonError } from '@baton/core';
import { Kvm } from '@nats-io/kv';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

let server: NatsServer;
const buses: NatsBus[] = [];
const semaphores: Semaphore[] = [];
let namespaceCount = 0;

beforeAll(async () => {
  server = await startNatsServer({ jetstream: true });
}, 30_000);
afterAll(async () => {
  await server?.stop();
});
afterEach(async () => {
  await Promise.all(semaphores.splice(0).map((s) => s.close()));
  await Promise.all(buses.splice(0).map((b) => b.close()));
});

async function connect(): Promise<NatsBus> {
  const bus = await NatsBus.connect({ servers: server.url });
  buses.push(bus);
  return bus;
}

/** A fresh namespace per test: its own bucket, so each test sets its own lease. */
function freshNamespace(): string {
  namespaceCount++;
  return `sem${namespaceCount}${process.pid}`;
}

async function semaphoreOn(
  namespace: string,
  limit: number,
  leaseMs = 5_000,
): Promise<{ bus: NatsBus; semaphore: Semaphore }> {
  const bus = await connect();
  const semaphore = natsSemaphore(bus, { name: 'llm', limit, namespace, leaseMs });
  semaphores.push(semaphore);
  return { bus, semaphore };
}

describe('natsSemaphore on a real nats-server', () => {
  it('never lets more than `limit` holders in at once, across processes, and serves every waiter', async () => {
    const ns = freshNamespace();
    const instances = await Promise.all([1, 2, 3, 4, 5].map(() => semaphoreOn(ns, 3)));
    let inside = 0;
    let most = 0;
    let done = 0;
    await Promise.all(
      Array.from({ length: 60 }, (_, index) =>
        (instances[index % instances.length] as { semaphore: Semaphore }).semaphore.withPermit(async () => {
          inside++;
          most = Math.max(most, inside);
          await sleep(5 + (index % 4) * 5);
          inside--;
          done++;
        }),
      ),
    );
    expect(done).toBe(60);
    expect(most).toBeLessThanOrEqual(3);
    // The limit is a limit, not a lock: with 60 callers waiting, several ran at once.
    expect(most).toBeGreaterThan(1);
    for (const { semaphore } of instances) expect([semaphore.held, semaphore.waiting]).toEqual([0, 0]);
  });

  it('renews a lease that outlives its length: a long call keeps its slot and is not aborted', async () => {
    const ns = freshNamespace();
    const a = await semaphoreOn(ns, 1, 1_200);
    const b = await semaphoreOn(ns, 1, 1_200);
    const permit = await a.semaphore.acquire();
    const controller = new AbortController();
    const waiting = b.semaphore.acquire({ signal: controller.signal });
    let bGot = false;
    void waiting.then(
      () => {
        bGot = true;
      },
      () => undefined,
    );
    // Three leases long: without renewals the key would have expired and b would have it.
    const kv = await new Kvm(a.bus.connection).open(jetstreamNames.semaphoreBucket(ns));
    const firstRevision = (await kv.get('llm.slot.0'))?.revision ?? 0;
    expect(
      await eventually(
        async () => ((await kv.get('llm.slot.0'))?.revision ?? 0) >= firstRevision + 4,
        10_000,
      ),
    ).toBe(true);
    expect(bGot).toBe(false);
    expect(permit.signal.aborted).toBe(false);
    await permit.release();
    const second = await waiting;
    expect(second.slot).toBe(0);
    await second.release();
  });

  it('frees the slot of a holder that died without releasing once its lease expires', async () => {
    const ns = freshNamespace();
    const dead = await semaphoreOn(ns, 1, 1_000);
    const alive = await semaphoreOn(ns, 1, 1_000);
    const taken = await dead.semaphore.acquire();
    expect(taken.slot).toBe(0);
    const waiting = alive.semaphore.acquire();
    expect(await eventually(() => alive.semaphore.waiting === 1, 5_000)).toBe(true);
    // The holder's process is gone: no release, no more renewals.
    await dead.bus.close();
    const permit = await waiting;
    expect(permit.slot).toBe(0);
    const kv = await new Kvm(alive.bus.connection).open(jetstreamNames.semaphoreBucket(ns));
    const holder = JSON.parse((await kv.get('llm.slot.0'))?.string() ?? '{}') as { instance?: string };
    expect(holder.instance).toBeTypeOf('string');
    await permit.release();
  });

  it('a holder that stalls past its lease loses the permit: its signal aborts with SEMAPHORE_LEASE_LOST', async () => {
    const ns = freshNamespace();
    const { semaphore } = await semaphoreOn(ns, 1, 300);
    const permit = await semaphore.acquire();
    // A synchronous stall (a blocked event loop) longer than the lease: no renewal could run meanwhile.
    const until = Date.now() + 900;
    while (Date.now() < until) {
      // spin
    }
    expect(await eventually(() => permit.signal.aborted, 5_000)).toBe(true);
    expect(permit.signal.reason).toMatchObject({ code: 'SEMAPHORE_LEASE_LOST' });
    expect(semaphore.held).toBe(0);
    await permit.release();
    // The slot is usable again.
    await (await semaphore.acquire()).release();
  });

  it('gives a freed slot to the higher-priority waiter of another process first', async () => {
    const ns = freshNamespace();
    const holder = await semaphoreOn(ns, 1);
    const low = await semaphoreOn(ns, 1);
    const high = await semaphoreOn(ns, 1);
    const held = await holder.semaphore.acquire();
    const order: string[] = [];
    const lowWait = low.semaphore.acquire({ priority: 'low' }).then((permit) => {
      order.push('low');
      return permit;
    });
    expect(await eventually(() => low.semaphore.waiting === 1, 5_000)).toBe(true);
    const highWait = high.semaphore.acquire({ priority: 'high' }).then((permit) => {
      order.push('high');
      return permit;
    });
    // The low-priority process has heard the high-priority announcement before the slot frees.
    expect(await eventually(() => low.semaphore.waitersAbove('low') === 1, 5_000)).toBe(true);
    await held.release();
    const first: Permit = await highWait;
    expect(order).toEqual(['high']);
    await first.release();
    await (await lowWait).release();
    expect(order).toEqual(['high', 'low']);
  });

  it('orders the waiters of one process by priority, then arrival', async () => {
    const ns = freshNamespace();
    const { semaphore } = await semaphoreOn(ns, 1);
    const held = await semaphore.acquire();
    const order: string[] = [];
    const waits = (['low', 'normal', 'high', 'normal'] as const).map((priority, index) =>
      semaphore.acquire({ priority }).then(async (permit) => {
        order.push(`${priority}${index}`);
        await permit.release();
      }),
    );
    expect(await eventually(() => semaphore.waiting === 4, 5_000)).toBe(true);
    await held.release();
    await Promise.all(waits);
    expect(order).toEqual(['high2', 'normal1', 'normal3', 'low0']);
  });

  it('stops waiting on abort and fails waiters when closed', async () => {
    const ns = freshNamespace();
    const { semaphore } = await semaphoreOn(ns, 1);
    const held = await semaphore.acquire();
    const controller = new AbortController();
    const aborted = semaphore.acquire({ signal: controller.signal });
    controller.abort(new BatonError('ABORTED', 'caller gave up'));
    await expect(aborted).rejects.toMatchObject({ code: 'ABORTED' });
    const pending = expect(semaphore.acquire()).rejects.toMatchObject({ code: 'BUS_CLOSED' });
    await semaphore.close();
    await pending;
    await held.release();
    expect(() => natsSemaphore(buses[0] as NatsBus, { name: 'a.b', limit: 1 })).toThrow(/name/);
    expect(() => natsSemaphore(buses[0] as NatsBus, { name: 'llm', limit: 0 })).toThrow(/limit/);
  });
});
