import { randomUUID } from 'node:crypto';
import { type StreamResponse, type Task, TaskState } from '@a2a-js/sdk';
import { ClientFactory, ClientFactoryOptions, JsonRpcTransportFactory } from '@a2a-js/sdk/client';
import { type A2aServing, a2aTasksBucket, NatsTaskStore, serveA2a } from '@baton/a2a';
import { NatsBus, rolePermissions } from '@baton/bus';
import { type NatsServer, startNatsServer } from '@baton/bus/testing';
import { startGateway } from '@baton/serve';
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  client,
  data,
  gate,
  send,
  slowAgent,
  stateOf,
  statusText,
  summarizeContract,
  summarizer,
  until,
} from './helpers.js';

describe('A2A on NATS: two gateway replicas share tasks (KV, compare-and-set) and events (subjects)', () => {
  let server: NatsServer;
  let busA: NatsBus;
  let busB: NatsBus;
  const closing: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    server = await startNatsServer({ jetstream: true, readyTimeoutMs: 30_000 });
    busA = await NatsBus.connect({ servers: server.url, name: 'replica-a' });
    busB = await NatsBus.connect({ servers: server.url, name: 'replica-b' });
  });
  afterAll(async () => {
    for (const close of closing) await close();
    await busA?.close();
    await busB?.close();
    await server?.stop();
  });

  /** The same agent served twice, by two "replicas" on two ports and two connections. */
  async function replicas(
    make: () => Parameters<typeof serveA2a>[0],
    namespace: string,
  ): Promise<[A2aServing, A2aServing]> {
    const a = await serveA2a(make(), { contract: summarizeContract, nats: busA, namespace });
    const b = await serveA2a(make(), { contract: summarizeContract, nats: busB, namespace });
    closing.push(
      () => a.close({ graceMs: 0 }),
      () => b.close({ graceMs: 0 }),
    );
    expect(a.port).not.toBe(b.port);
    return [a, b];
  }

  it('a task created on replica A is read by tasks/get on replica B', async () => {
    const [a, b] = await replicas(() => summarizer(), 'tenant1');
    const sent = (await (await client(a.url)).sendMessage(send([data({ text: 'red green blue' })]))) as Task;
    expect(sent.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    const read = await (await client(b.url)).getTask({ id: sent.id, tenant: '', historyLength: undefined });
    expect(read.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(read.artifacts[0]?.parts[1]?.content).toEqual({
      $case: 'data',
      value: { summary: 'A text of 3 words.', words: 3 },
    });
    // Another tenant's replica does not see it: its own bucket.
    const [other] = await replicas(() => summarizer(), 'tenant2');
    await expect(
      (await client(other.url)).getTask({ id: sent.id, tenant: '', historyLength: undefined }),
    ).rejects.toThrow(/not found/i);
  });

  it('a stream subscribed on B sees the events the run on A produces', async () => {
    const hold = gate();
    const [a, b] = await replicas(() => summarizer({ gate: hold.promise }), 'tenant3');
    const onA = (await client(a.url)).sendMessageStream(
      send([data({ text: 'one two three four five six' })]),
    );
    let taskId = '';
    for await (const event of onA) {
      if (event.payload?.$case === 'task') taskId = event.payload.value.id;
      // Step 2 waits at the gate: the task is working and not finished.
      if (statusText(event) === 'summarizer: step 2') break;
    }
    expect(taskId).not.toBe('');

    const onB: StreamResponse[] = [];
    const following = (async () => {
      for await (const event of (await client(b.url)).resubscribeTask({ id: taskId, tenant: '' }))
        onB.push(event);
    })();
    // B has the task snapshot (from the shared store) before A goes on.
    await until(() => onB.length > 0, 'the snapshot on B');
    expect(onB[0]?.payload?.$case).toBe('task');
    hold.open();
    await following;

    const kinds = onB.map((event) => event.payload?.$case);
    expect(kinds).toContain('artifactUpdate');
    expect(stateOf(onB.at(-1) as StreamResponse)).toBe(TaskState.TASK_STATE_COMPLETED);
    const artifact = onB.find((event) => event.payload?.$case === 'artifactUpdate')?.payload;
    expect(artifact?.$case === 'artifactUpdate' && artifact.value.artifact?.parts[1]?.content).toEqual({
      $case: 'data',
      value: { summary: 'A text of 6 words.', words: 6 },
    });
    // B never ran anything: the events came from A over NATS.
    expect(b.handler.executor.active).toBe(0);
  });

  it('tasks/cancel on B stops the run on A', async () => {
    const [a, b] = await replicas(() => slowAgent(), 'tenant4');
    const onA = (await client(a.url)).sendMessageStream(send([data({ text: 'slowly' })]));
    let taskId = '';
    for await (const event of onA) {
      if (event.payload?.$case === 'task') taskId = event.payload.value.id;
      if (stateOf(event) === TaskState.TASK_STATE_WORKING) break;
    }
    expect(a.handler.executor.active).toBe(1);
    const canceled = await (await client(b.url)).cancelTask({ id: taskId, tenant: '', metadata: {} });
    expect(canceled.status?.state).toBe(TaskState.TASK_STATE_CANCELED);
    await until(() => a.handler.executor.active === 0, 'the run on A to stop');
    const read = await (await client(a.url)).getTask({ id: taskId, tenant: '', historyLength: undefined });
    expect(read.status?.state).toBe(TaskState.TASK_STATE_CANCELED);
  });

  it('detects a compare-and-set conflict and merges instead of clobbering', async () => {
    const storeA = new NatsTaskStore(busA, { namespace: 'tenant5' });
    const conflicts: string[] = [];
    const storeB = new NatsTaskStore(busB, { namespace: 'tenant5', onConflict: (id) => conflicts.push(id) });
    const id = randomUUID();
    const working: Task = {
      id,
      contextId: 'ctx',
      status: {
        state: TaskState.TASK_STATE_WORKING,
        message: undefined,
        timestamp: new Date().toISOString(),
      },
      artifacts: [],
      history: [],
      metadata: {},
    };
    await storeA.save(working);
    // Both replicas read revision 1.
    expect((await storeA.load(id))?.status?.state).toBe(TaskState.TASK_STATE_WORKING);
    expect((await storeB.load(id))?.status?.state).toBe(TaskState.TASK_STATE_WORKING);
    // A completes the task with its answer…
    await storeA.save({
      ...working,
      status: {
        state: TaskState.TASK_STATE_COMPLETED,
        message: undefined,
        timestamp: new Date().toISOString(),
      },
      artifacts: [
        { artifactId: 'answer', name: 'answer', description: '', parts: [], metadata: {}, extensions: [] },
      ],
    });
    // …and B, from its stale read, writes a progress update: the revision check catches it.
    await storeB.save({ ...working, metadata: { progress: 'step 2' } });
    expect(conflicts).toEqual([id]);
    expect(storeB.conflicts).toBe(1);
    const stored = await storeA.load(id);
    expect(stored?.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(stored?.artifacts.map((item) => item.artifactId)).toEqual(['answer']);
    expect(stored?.metadata).toEqual({ progress: 'step 2' });
    expect(storeA.bucketName).toBe(a2aTasksBucket('tenant5'));
  });

  it('two gateways on one NATS: a task sent to gateway A is read on gateway B, in the key tenant’s bucket', async () => {
    const key = 'replica-test-key-0123456789';
    const catalogue = {
      teams: {},
      agents: {
        summarizer: {
          name: 'summarizer',
          description: 'Summarizes a text and counts its words',
          contract: summarizeContract,
          create: () => summarizer(),
        },
      },
    };
    const options = {
      catalogue,
      port: 0,
      nats: server.url,
      config: { keys: [{ key, tenant: 'acme' }] },
      log: () => {},
    };
    const [gatewayA, gatewayB] = [await startGateway(options), await startGateway(options)];
    closing.push(
      () => gatewayA.close({ graceMs: 0 }),
      () => gatewayB.close({ graceMs: 0 }),
    );
    const authed = (url: string) =>
      new ClientFactory(
        ClientFactoryOptions.createFrom(ClientFactoryOptions.default, {
          transports: [
            new JsonRpcTransportFactory({
              fetchImpl: (input, init) => {
                const headers = new Headers(init?.headers);
                headers.set('authorization', `Bearer ${key}`);
                return fetch(input, { ...init, headers });
              },
            }),
          ],
        }),
      ).createFromUrl(`${url}/a2a/summarizer/`);
    const sent = (await (
      await authed(gatewayA.url)
    ).sendMessage(send([data({ text: 'a b c d e' })]))) as Task;
    expect(sent.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    const read = await (await authed(gatewayB.url)).getTask({
      id: sent.id,
      tenant: '',
      historyLength: undefined,
    });
    expect(read.artifacts[0]?.parts[1]?.content).toEqual({
      $case: 'data',
      value: { summary: 'A text of 5 words.', words: 5 },
    });
    // The task ran through gateway A's executor: its run record is in the tenant's store, seen from B.
    const report = sent.artifacts[0]?.metadata?.baton as { runId: string } | undefined;
    const runId = report?.runId;
    expect(runId).toBeDefined();
    const record = await fetch(`${gatewayB.url}/v1/runs/${runId}`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(record.status).toBe(200);
    expect(await record.json()).toMatchObject({ id: runId, mode: 'a2a', status: 'completed' });
    const jsm = await jetstreamManager(busA.connection);
    const info = await jsm.streams.info(`KV_${a2aTasksBucket('acme')}`);
    expect(info.state.messages).toBeGreaterThanOrEqual(1);
  });

  it('the tenancy permissions grant callers the A2A bucket and subjects of their own namespace only', () => {
    const caller = rolePermissions('acme', 'caller');
    expect(caller.publish.allow).toContain(`$KV.${a2aTasksBucket('acme')}.>`);
    expect(caller.publish.allow).toContain('baton.acme.a2a.>');
    expect(caller.subscribe.allow).toContain('baton.acme.a2a.>');
    expect(JSON.stringify(caller)).not.toContain('BATON_other_A2A');
  });
});
