import { NatsBus, remoteAgent, waitForAgent } from '@baton/bus';
import { echoContract, type NatsServer, startNatsServer } from '@baton/bus/testing';
import { BatonError } from '@baton/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pool, spawnWorker, type WorkerProcess } from './helpers.js';

describe('worker processes over NATS', () => {
  let server: NatsServer;
  const workers: WorkerProcess[] = [];
  const buses: NatsBus[] = [];

  beforeAll(async () => {
    server = await startNatsServer({ readyTimeoutMs: 30_000 });
  });
  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.kill()));
    await Promise.all(buses.map((bus) => bus.close()));
    await server?.stop();
  });

  it('two worker processes in a queue group share 100 invocations', async () => {
    const namespace = 'queue';
    for (const instance of ['w1', 'w2'])
      workers.push(spawnWorker({ url: server.url, instance, namespace, agent: 'echo' }));
    await Promise.all(workers.map((worker) => worker.ready));
    const bus = await NatsBus.connect({ servers: server.url, name: 'caller' });
    buses.push(bus);
    const remote = remoteAgent(bus, { name: 'echo', contract: echoContract, namespace, timeoutMs: 10_000 });
    const results = await pool(100, 10, (i) => remote.run({ text: `job-${i}`, delayMs: 5 }));
    expect(results.map((r) => r.status)).toEqual(Array(100).fill('completed'));
    expect(results.map((r) => r.output?.text)).toEqual(Array.from({ length: 100 }, (_, i) => `job-${i}`));
    const byWorker = { w1: 0, w2: 0 } as Record<string, number>;
    for (const result of results)
      byWorker[result.output?.by ?? '?'] = (byWorker[result.output?.by ?? '?'] ?? 0) + 1;
    expect(byWorker.w1 + byWorker.w2).toBe(100);
    expect(byWorker.w1).toBeGreaterThan(10);
    expect(byWorker.w2).toBeGreaterThan(10);
  });

  it('a nats-server restart during runs: the clients reconnect, no run hangs past its deadline', async () => {
    const namespace = 'restart';
    const worker = spawnWorker({ url: server.url, instance: 'r1', namespace, agent: 'echo' });
    workers.push(worker);
    await worker.ready;
    const bus = await NatsBus.connect({ servers: server.url, name: 'caller', reconnectTimeWaitMs: 100 });
    buses.push(bus);
    const statuses: string[] = [];
    bus.onStatus((status) => statuses.push(status));
    const timeoutMs = 2_500;
    const remote = remoteAgent(bus, { name: 'echo', contract: echoContract, namespace, timeoutMs });
    const runs = Array.from({ length: 20 }, async (_, i) => {
      await new Promise((resolve) => setTimeout(resolve, i * 15));
      const started = Date.now();
      const result = await remote.run({ text: `r${i}`, delayMs: 300 });
      return { result, took: Date.now() - started };
    });
    await new Promise((resolve) => setTimeout(resolve, 150));
    await server.restart();
    const outcomes = await Promise.all(runs);
    for (const { result, took } of outcomes) {
      // No run hangs: each ends by its own 2.5 s deadline at the latest (the bound leaves room for a
      // loaded machine; a call the restart left hanging would never end).
      expect(took).toBeLessThan(timeoutMs + 10_000);
      if (result.status !== 'completed') {
        expect(result.error, JSON.stringify(result)).toBeDefined();
        expect(['BUS_DISCONNECTED', 'DEADLINE_EXCEEDED', 'NO_RESPONDERS']).toContain(result.error?.code);
      } else {
        expect(result.output?.text).toMatch(/^r\d+$/);
      }
    }
    expect(statuses).toContain('disconnected');
    await waitUntilConnected(bus);
    await waitForAgent(bus, 'echo', { namespace, timeoutMs: 30_000 });
    const after = await remote.run({ text: 'after restart' });
    expect(after.status).toBe('completed');
    expect(outcomes.some(({ result }) => result.status === 'completed')).toBe(true);
  });

  it('a dead server is a typed error, never a hang', async () => {
    const started = Date.now();
    const error = await NatsBus.connect({ servers: 'nats://127.0.0.1:1', connectTimeoutMs: 1_000 }).catch(
      (caught: unknown) => caught,
    );
    expect(BatonError.is(error, 'BUS_DISCONNECTED')).toBe(true);
    // Refused at once or given up at the 1 s connect timeout: a bound many times that, never a hang.
    expect(Date.now() - started).toBeLessThan(10_000);

    const doomed = await startNatsServer({ readyTimeoutMs: 30_000 });
    const bus = await NatsBus.connect({ servers: doomed.url, reconnectTimeWaitMs: 100 });
    buses.push(bus);
    await doomed.stop();
    const remote = remoteAgent(bus, {
      name: 'echo',
      contract: echoContract,
      namespace: 'dead',
      timeoutMs: 300,
    });
    const result = await remote.run({ text: 'anyone?' });
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('BUS_DISCONNECTED');
    expect(result.error?.retryable).toBe(true);
  });
});

async function waitUntilConnected(bus: NatsBus): Promise<void> {
  // Generous: the restarted server and the client's reconnect both run on a possibly loaded machine.
  const until = Date.now() + 30_000;
  while (bus.status !== 'connected') {
    if (Date.now() > until) throw new Error('the bus did not reconnect');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
