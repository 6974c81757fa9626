import {
  type DeadLetter,
  decodeEnvelope,
  encodeEnvelope,
  HEADER,
  InProcessBus,
  jetstreamNames,
  listAgents,
  NatsBus,
  remoteAgent,
  serveAgent,
  subjects,
  watchDeadLetters,
} from '@baton/bus';
import {
  echoAgent,
  echoContract,
  invokeEnvelope,
  type NatsServer,
  startNatsServer,
  waitUntil,
} from '@baton/bus/testing';
import type { RunResult } from '@baton/core';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecentResults } from '../src/agent/recent-results.js';
import { pool, spawnWorker, type WorkerProcess } from './helpers.js';

describe('RecentResults', () => {
  it('keeps the newest replies within its count, size and age bounds', () => {
    let now = 1_000;
    const recent = new RecentResults({ maxEntries: 3, maxChars: 10, ttlMs: 100, now: () => now });
    recent.remember('a', 'r.a', 'aaa');
    recent.remember('b', 'r.b', 'bbb');
    recent.remember('c', 'r.c', 'ccc');
    expect(recent.get('a')).toEqual({ replyTo: 'r.a', data: 'aaa', at: 1_000 });
    recent.remember('d', 'r.d', 'd');
    // Count cap: the oldest went.
    expect(recent.get('a')).toBeUndefined();
    expect(recent.get('d')?.data).toBe('d');
    expect([...recent.getMany(['a', 'c', 'd', 'zz']).keys()].sort()).toEqual(['c', 'd']);
    // Size cap: b, c, d hold 7 characters; 10 more fit only once all three are gone.
    recent.remember('e', 'r.e', 'eeeeeeeeee');
    expect(['b', 'c', 'd'].map((id) => recent.get(id))).toEqual([undefined, undefined, undefined]);
    expect(recent.get('e')?.data).toBe('eeeeeeeeee');
    expect(recent.size).toBe(1);
    // A reply larger than the whole allowance is not kept (it would evict everything).
    recent.remember('huge', 'r.h', 'x'.repeat(11));
    expect(recent.get('huge')).toBeUndefined();
    expect(recent.get('e')).toBeDefined();
    // Age cap.
    now += 101;
    expect(recent.get('e')).toBeUndefined();
    recent.remember('f', 'r.f', 'f');
    expect(recent.size).toBe(1);
  });

  it('an in-process worker keeps nothing and answers no status questions', async () => {
    const bus = new InProcessBus();
    const worker = await serveAgent(bus, echoAgent(), { contract: echoContract, heartbeatMs: 0 });
    expect((worker as unknown as { recent: unknown }).recent).toBeUndefined();
    const remote = remoteAgent(bus, { name: 'echo', contract: echoContract });
    expect((await remote.run({ text: 'hi' })).status).toBe('completed');
    const asked = await bus
      .request(subjects.agentStatus('default', 'echo'), '{}', { timeoutMs: 200 })
      .catch((error: unknown) => error);
    expect((asked as { code?: string }).code).toBe('NO_RESPONDERS');
    await worker.stop();
    await bus.close();
  });
});

describe('recovery after crashes and reconnects (real processes)', () => {
  let server: NatsServer;
  const workers: WorkerProcess[] = [];
  const buses: NatsBus[] = [];
  const connect = async (name: string, reconnectTimeWaitMs = 100) => {
    const bus = await NatsBus.connect({ servers: server.url, name, reconnectTimeWaitMs });
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

  it('a SIGKILLed durable worker: its runs are taken over within seconds, every invocation completes once', async () => {
    const namespace = 'takeover';
    // Default ack wait: the recovery time measured here is the one users get.
    const spawn = (instance: string) =>
      spawnWorker({ url: server.url, instance, namespace, agent: 'echo', durable: {}, concurrency: 4 });
    const victim = spawn('victim');
    const others = [spawn('steady-1'), spawn('steady-2')];
    workers.push(victim, ...others);
    await Promise.all([victim.ready, ...others.map((worker) => worker.ready)]);

    const bus = await connect('takeover-caller');
    const kv = await new Kvm(bus.connection).open(jetstreamNames.resultsBucket(namespace));
    // Every write of a result, as it happens: a second `done` for one invocation would be a second result.
    const doneWrites = new Map<string, number>();
    const watch = await kv.watch();
    void (async () => {
      for await (const entry of watch) {
        if (entry.operation !== 'PUT') continue;
        const value = entry.json<{ state?: string }>();
        if (value.state === 'done') doneWrites.set(entry.key, (doneWrites.get(entry.key) ?? 0) + 1);
      }
    })();

    const remote = remoteAgent(bus, {
      name: 'echo',
      contract: echoContract,
      namespace,
      durable: true,
      timeoutMs: 60_000,
    });
    const total = 48;
    const settledAt = new Map<string, number>();
    let completed = 0;
    let killedAt = 0;
    let victimClaims: string[] = [];
    const kill = async () => {
      // The invocations the victim holds right now: their claims name it. On a loaded machine the victim
      // may hold none at the moment the eighth call completes; the kill waits until it holds some, so
      // the takeover is what is tested (the test's own time limit bounds the wait).
      let claims: string[] = [];
      while (claims.length === 0 && completed < total) {
        claims = [];
        for await (const key of await kv.keys()) {
          const entry = await kv.get(key);
          const value = entry?.operation === 'PUT' ? entry.json<{ state?: string; instance?: string }>() : {};
          if (value.state === 'running' && value.instance === 'victim') claims.push(key);
        }
        if (claims.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      victimClaims = claims;
      killedAt = Date.now();
      await victim.kill();
    };
    let killing: Promise<void> | undefined;
    const results = await pool(total, 12, async (i) => {
      const result = await remote.run({ text: `job-${i}`, delayMs: 800 });
      settledAt.set(result.runId, Date.now());
      completed++;
      if (completed === 8) killing ??= kill();
      return result;
    });
    await killing;

    expect(results.filter((r) => r.status !== 'completed').map((r) => r.error)).toEqual([]);
    expect(results.map((r) => r.output?.text)).toEqual(Array.from({ length: total }, (_, i) => `job-${i}`));
    expect(victimClaims.length).toBeGreaterThan(0);
    // Every invocation recorded exactly one result, and the work queue is empty.
    const jsm = await jetstreamManager(bus.connection);
    const info = await jsm.streams.info(`KV_${jetstreamNames.resultsBucket(namespace)}`);
    expect(info.state.messages).toBe(total);
    expect((await jsm.streams.info(jetstreamNames.invokeStream(namespace))).state.messages).toBe(0);
    // The watch is stopped only once it has seen every write: under load it lags behind the results.
    await waitUntil(() => doneWrites.size === total, 'every result write seen by the watch', 20_000);
    watch.stop();
    expect([...doneWrites.values()].filter((count) => count !== 1)).toEqual([]);

    // The victim's runs were finished by the others, soon after the kill (the old ack wait and stale
    // check made this ~30 s; a few seconds are expected, 15 s leaves room for a loaded machine).
    for (const key of victimClaims) {
      const entry = await kv.get(key);
      const record = entry?.json<{ state: string; reply: { runId: string; payload: RunResult } }>();
      expect(record?.state).toBe('done');
      const reply = record?.reply;
      expect((reply?.payload.output as { by?: string } | undefined)?.by).not.toBe('victim');
      const at = settledAt.get(reply?.runId ?? '');
      expect(at).toBeDefined();
      expect((at as number) - killedAt).toBeLessThan(15_000);
    }
  }, 60_000);

  it('a nats-server restart: replies lost meanwhile are recovered, calls nobody knows fail soon and typed', async () => {
    const namespace = 'replies';
    const keeper = spawnWorker({
      url: server.url,
      instance: 'keeper',
      namespace,
      agent: 'echo',
      concurrency: 64,
    });
    const goner = spawnWorker({
      url: server.url,
      instance: 'goner',
      namespace,
      agent: 'echo',
      concurrency: 64,
    });
    workers.push(keeper, goner);
    await Promise.all([keeper.ready, goner.ready]);
    // The caller reconnects well after the workers, so replies they flush on reconnecting find nobody.
    const bus = await connect('replies-caller', 1_500);
    const remote = remoteAgent(bus, { name: 'echo', contract: echoContract, namespace, timeoutMs: 120_000 });
    const calls = 24;
    const outcomes = Array.from({ length: calls }, (_, i) =>
      // Half finish while the server is down; half are still running when everything is back.
      remote.run({ text: `call-${i}`, delayMs: i % 2 === 0 ? 2_000 : 7_000 }),
    );
    // Which instance holds how many calls (both announce their in-flight runs).
    let held: Record<string, number> = {};
    // Generous: two worker processes taking 24 calls, slower on a loaded machine.
    for (const until = Date.now() + 20_000; (held.keeper ?? 0) + (held.goner ?? 0) !== calls; ) {
      if (Date.now() > until) throw new Error(`not every call reached a worker: ${JSON.stringify(held)}`);
      const infos = await listAgents(bus, { namespace, timeoutMs: 150 });
      held = Object.fromEntries(infos.map((info) => [info.instance, info.inFlight + info.queued]));
    }
    await server.kill();
    await goner.kill();
    // The short calls finish on the keeper during the outage; their replies wait in its client.
    await new Promise((resolve) => setTimeout(resolve, 2_400));
    await server.restart();
    // Nothing may wait for its 120 s deadline: everything settles a few seconds after the restart.
    const hung = new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 30_000).unref());
    const settled = await Promise.race([Promise.all(outcomes), hung]);
    if (settled === 'hung') throw new Error('calls still waiting 30 s after the restart');

    const completed = settled.filter((result) => result.status === 'completed');
    const failed = settled.filter((result) => result.status !== 'completed');
    for (const result of completed) expect(result.output?.by).toBe('keeper');
    for (const result of failed) {
      expect(result.error?.code, JSON.stringify(result.error)).toBe('BUS_DISCONNECTED');
      expect(result.error?.retryable).toBe(true);
    }
    expect(completed.length).toBe(held.keeper);
    expect(failed.length).toBe(held.goner);
  }, 60_000);

  it('a durable invocation refused by admission is delivered once and leaves the queue', async () => {
    const namespace = 'refused';
    const workerBus = await connect('refused-worker');
    const worker = await serveAgent(workerBus, echoAgent(), {
      contract: echoContract,
      namespace,
      durable: { ackWaitMs: 1_000 },
      heartbeatMs: 0,
    });
    const bus = await connect('refused-caller');
    const letters: DeadLetter[] = [];
    watchDeadLetters(bus, { namespace, agent: 'echo' }, (letter) => letters.push(letter));
    const replies: string[] = [];
    const inbox = bus.createInbox();
    bus.subscribe(inbox, (message) => replies.push(message.string()));
    await bus.flush();

    // Input that breaks the contract: it can never succeed, however often it is delivered.
    const envelope = invokeEnvelope({ payload: { text: 42 } });
    const h = natsHeaders();
    h.set(HEADER.REPLY_TO, inbox);
    await jetstream(bus.connection).publish(
      subjects.durableInvoke(namespace, 'echo'),
      encodeEnvelope(envelope),
      {
        msgID: envelope.id,
        headers: h,
      },
    );
    await waitUntil(
      () => letters.length >= 1 && replies.length >= 1,
      'the dead letter and the reply',
      20_000,
    );
    // Several ack waits: a terminated message that the server redelivers would come back by now.
    await new Promise((resolve) => setTimeout(resolve, 3_500));

    expect(letters.filter((letter) => letter.envelopeId === envelope.id)).toHaveLength(1);
    expect(letters[0]?.deliveries).toBe(1);
    expect(letters[0]?.error.code).toBe('HANDOFF_INVALID');
    expect(replies).toHaveLength(1);
    const reply = decodeEnvelope(replies[0] as string);
    expect(reply.ok && reply.envelope.kind).toBe('error');
    const jsm = await jetstreamManager(bus.connection);
    const consumer = await jsm.consumers.info(
      jetstreamNames.invokeStream(namespace),
      jetstreamNames.consumer('echo'),
    );
    expect(consumer.num_redelivered).toBe(0);
    expect(consumer.num_ack_pending).toBe(0);
    expect(consumer.delivered.consumer_seq).toBe(1);
    expect((await jsm.streams.info(jetstreamNames.invokeStream(namespace))).state.messages).toBe(0);
    await worker.stop();
  }, 30_000);
});
