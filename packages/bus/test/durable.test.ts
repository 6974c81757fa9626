import {
  type BusMessage,
  decodeEnvelope,
  type Envelope,
  encodeEnvelope,
  HEADER,
  jetstreamNames,
  NatsBus,
  remoteAgent,
  serveAgent,
  subjects,
} from '@baton/bus';
import {
  customAgent,
  echoAgent,
  echoContract,
  invokeEnvelope,
  type NatsServer,
  resultOf,
  startNatsServer,
  waitUntil,
} from '@baton/bus/testing';
import { BatonError, type RunResult } from '@baton/core';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pool, spawnWorker, type WorkerProcess } from './helpers.js';

describe('durable invocations (JetStream)', () => {
  let server: NatsServer;
  const workers: WorkerProcess[] = [];
  const buses: NatsBus[] = [];
  const connect = async (name: string) => {
    const bus = await NatsBus.connect({ servers: server.url, name, reconnectTimeWaitMs: 100 });
    buses.push(bus);
    return bus;
  };

  beforeAll(async () => {
    server = await startNatsServer({ jetstream: true, readyTimeoutMs: 30_000 });
  });
  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.kill()));
    await Promise.all(buses.map((bus) => bus.close()));
    await server?.stop();
  });

  it('SIGKILL one of two workers mid-run: all 200 invocations complete exactly once for the caller', async () => {
    const namespace = 'crash';
    const durable = { ackWaitMs: 1_000, maxDeliveries: 5 };
    const victim = spawnWorker({
      url: server.url,
      instance: 'victim',
      namespace,
      agent: 'echo',
      durable,
      concurrency: 4,
    });
    const survivor = spawnWorker({
      url: server.url,
      instance: 'survivor',
      namespace,
      agent: 'echo',
      durable,
      concurrency: 4,
    });
    workers.push(victim, survivor);
    await Promise.all([victim.ready, survivor.ready]);
    const bus = await connect('caller');
    const remote = remoteAgent(bus, {
      name: 'echo',
      contract: echoContract,
      namespace,
      durable: true,
      timeoutMs: 20_000,
    });
    let completed = 0;
    let killed = false;
    const results = await pool(200, 24, async (i) => {
      const result = await remote.run({ text: `job-${i}`, delayMs: 40 });
      completed++;
      if (completed === 40 && !killed) {
        killed = true;
        void victim.kill();
      }
      return result;
    });
    expect(killed).toBe(true);
    expect(results.filter((r) => r.status !== 'completed').map((r) => r.error)).toEqual([]);
    expect(results.map((r) => r.output?.text)).toEqual(Array.from({ length: 200 }, (_, i) => `job-${i}`));
    expect(new Set(results.map((r) => r.runId)).size).toBe(200);
    const bySurvivor = results.filter((r) => r.output?.by === 'survivor').length;
    const byVictim = results.filter((r) => r.output?.by === 'victim').length;
    expect(bySurvivor + byVictim).toBe(200);
    expect(byVictim).toBeGreaterThan(0);
    expect(bySurvivor).toBeGreaterThan(byVictim);
    // Every invocation left exactly one recorded result.
    const jsm = await jetstreamManager(bus.connection);
    const info = await jsm.streams.info(`KV_${jetstreamNames.resultsBucket(namespace)}`);
    expect(info.state.messages).toBe(200);
    const queue = await jsm.streams.info(jetstreamNames.invokeStream(namespace));
    expect(queue.state.messages).toBe(0);
  });

  it('an invocation that keeps crashing its workers is dead-lettered after maxDeliveries', async () => {
    const namespace = 'poison';
    const durable = { ackWaitMs: 300, maxDeliveries: 2 };
    let attempts = 0;
    const crashing = (bus: NatsBus) =>
      customAgent<{ text: string }, { text: string }>('echo', async () => {
        attempts++;
        // The worker "dies": its connection drops with the run unacknowledged.
        await bus.close();
        return new Promise<never>(() => undefined);
      });
    const callerBus = await connect('caller');
    const remote = remoteAgent(callerBus, {
      name: 'echo',
      contract: echoContract,
      namespace,
      durable: true,
      timeoutMs: 15_000,
    });
    const first = await connect('w1');
    await serveAgent(first, crashing(first), { contract: echoContract, namespace, durable, heartbeatMs: 0 });
    const pending = remote.run({ text: 'poison' });
    for (const name of ['w2', 'w3']) {
      // Generous: the crash and its redelivery come within a few ack waits, later on a loaded machine.
      await waitUntil(() => attempts >= (name === 'w2' ? 1 : 2), `crash before ${name}`, 20_000);
      const next = await connect(name);
      await serveAgent(next, crashing(next), { contract: echoContract, namespace, durable, heartbeatMs: 0 });
    }
    const result = await pending;
    expect(attempts).toBe(2);
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('WORKER_CRASHED');
    const jsm = await jetstreamManager(callerBus.connection);
    const letter = await jsm.streams.getMessage(jetstreamNames.deadLetterStream(namespace), {
      last_by_subj: subjects.deadLetter(namespace, 'echo'),
    });
    expect(letter).not.toBeNull();
    const dead = letter?.json<{ error: { code: string }; deliveries: number; runId: string }>();
    expect(dead?.error.code).toBe('WORKER_CRASHED');
    expect(dead?.deliveries).toBe(3);
    expect(dead?.runId).toBe(result.runId);
  });

  it('idempotency by envelope id: a redelivered completed invocation replays its result; duplicates run once', async () => {
    const namespace = 'idem';
    const agent = echoAgent();
    const workerBus = await connect('worker');
    await serveAgent(workerBus, agent, {
      contract: echoContract,
      namespace,
      durable: { ackWaitMs: 2_000 },
      concurrency: 4,
    });
    const bus = await connect('raw');
    const js = jetstream(bus.connection);
    const replies: BusMessage[] = [];
    const inbox = bus.createInbox();
    bus.subscribe(inbox, (message) => replies.push(message));
    await bus.flush();
    const envelope = (id: string, delayMs: number): Envelope =>
      invokeEnvelope({ id, runId: `run-${id}`, correlationId: id, payload: { text: id, delayMs } });
    const publish = (value: Envelope, messageId: string) => {
      const h = natsHeaders();
      h.set(HEADER.REPLY_TO, inbox);
      return js.publish(subjects.durableInvoke(namespace, 'echo'), encodeEnvelope(value), {
        msgID: messageId,
        headers: h,
      });
    };
    // Sequential redelivery: the second copy arrives after the first completed.
    const once = envelope('once', 0);
    await publish(once, 'm1');
    await waitUntil(() => replies.length === 1, 'the first reply');
    await publish(once, 'm2');
    await waitUntil(() => replies.length === 2, 'the replayed reply');
    expect(agent.observed.runs).toBe(1);
    const [a, b] = replies.map((reply) => decodeEnvelope(reply.string()));
    expect(a?.ok && b?.ok).toBe(true);
    if (a?.ok && b?.ok) expect(b.envelope).toEqual(a.envelope);
    // The same message id inside the duplicate window is dropped by the server.
    const ack = await publish(once, 'm2');
    expect(ack.duplicate).toBe(true);
    // Concurrent duplicates: the second waits for the first instead of running.
    const twin = envelope('twin', 300);
    await Promise.all([publish(twin, 't1'), publish(twin, 't2')]);
    await waitUntil(() => replies.length === 4, 'both twin replies', 5_000);
    expect(agent.observed.runs).toBe(2);
    const twins = replies.slice(2).map((reply) => decodeEnvelope(reply.string()));
    for (const decoded of twins) {
      expect(decoded.ok && (decoded.envelope.payload as RunResult).output).toEqual({ text: 'twin' });
    }
  });

  it('durable callers get typed errors: no work queue is NO_RESPONDERS, a deadline is a timeout', async () => {
    const bus = await connect('caller2');
    const ghost = remoteAgent(bus, {
      name: 'echo',
      contract: echoContract,
      namespace: 'nowhere',
      durable: true,
    });
    const none = await ghost.run({ text: 'x' });
    expect(none.error?.code).toBe('NO_RESPONDERS');

    const namespace = 'slow';
    const workerBus = await connect('slow-worker');
    // A stuck worker: it ignores its signal and answers only once the test releases it, so nothing but
    // the caller's own deadline can end the call.
    let release = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slow = customAgent<{ text: string }, { text: string }>('echo', async (input, options) => {
      await released;
      return resultOf('echo', options, { output: input });
    });
    const served = await serveAgent(workerBus, slow, {
      contract: echoContract,
      namespace,
      durable: { ackWaitMs: 1_000 },
      stopGraceMs: 100,
    });
    const remote = remoteAgent(bus, {
      name: 'echo',
      contract: echoContract,
      namespace,
      durable: true,
      timeoutMs: 400,
    });
    const started = Date.now();
    const result = await remote.run({ text: 'late' });
    expect(result.status).toBe('timeout');
    expect(BatonError.fromJSON(result.error).code).toBe('DEADLINE_EXCEEDED');
    // Ended by its 400 ms deadline, not by the worker (which never answers): a bound many times that.
    expect(Date.now() - started).toBeLessThan(10_000);
    release();
    await served.stop();
  });
});
