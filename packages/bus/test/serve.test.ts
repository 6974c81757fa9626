import { InProcessBus, listAgents, remoteAgent, serveAgent } from '@baton/bus';
import { echoAgent, echoContract, waitUntil } from '@baton/bus/testing';
import { BatonError, Budget, defineAgent, type RunEvent, RunEvents } from '@baton/core';
import { scriptedModel } from '@baton/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';

const buses: InProcessBus[] = [];
function bus(): InProcessBus {
  const created = new InProcessBus();
  buses.push(created);
  return created;
}
afterEach(async () => {
  await Promise.all(buses.splice(0).map((b) => b.close()));
});

/** A real agent (defineAgent + the core loop) whose model is slow enough to be cancelled. */
function coreEcho(delayMs = 0) {
  return defineAgent({
    name: 'echo',
    description: 'Echoes through the run loop',
    instructions: 'Answer with JSON {"text": ...}.',
    input: echoContract.input,
    output: z.object({ text: z.string() }),
    model: scriptedModel(() => ({
      text: '{"text":"from the loop"}',
      delayMs,
      usage: { inputTokens: 20, outputTokens: 4 },
    })),
  });
}

describe('serveAgent / remoteAgent with the real run loop', () => {
  it('runs a defineAgent remotely: output, usage charged, events forwarded', async () => {
    const b = bus();
    await serveAgent(b, coreEcho(), { contract: echoContract, heartbeatMs: 0 });
    const remote = remoteAgent(b, { name: 'echo', contract: echoContract });
    const budget = new Budget({ maxTokens: 500 });
    const events = new RunEvents();
    const types: RunEvent['type'][] = [];
    events.on('*', (event) => types.push(event.type));
    const result = await remote.run({ text: 'x' }, { budget, events, parentRunId: 'team-run' });
    expect(result.status, JSON.stringify(result.error)).toBe('completed');
    expect(result.output).toEqual({ text: 'from the loop' });
    expect(budget.used).toEqual({ steps: 1, tokens: 24, costUsd: 0 });
    await waitUntil(() => types.includes('run.end'), 'run.end');
    expect(types[0]).toBe('run.start');
    expect(types).toContain('step.start');
  });

  it('abort at the caller aborts the remote loop, which returns its partial result', async () => {
    const b = bus();
    await serveAgent(b, coreEcho(10_000), { contract: echoContract, heartbeatMs: 0 });
    const remote = remoteAgent(b, { name: 'echo', contract: echoContract });
    const controller = new AbortController();
    const pending = remote.run({ text: 'x' }, { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    const started = Date.now();
    const result = await pending;
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(result.status).toBe('aborted');
    expect(result.agent).toBe('echo');
    expect(result.partial.summary).toMatch(/echo was aborted/);
  });

  it('the caller budget deadline becomes the remote run timeout', async () => {
    const b = bus();
    await serveAgent(b, coreEcho(10_000), { contract: echoContract, heartbeatMs: 0 });
    const remote = remoteAgent(b, { name: 'echo', contract: echoContract });
    const started = Date.now();
    const result = await remote.run({ text: 'x' }, { budget: new Budget({ deadline: Date.now() + 300 }) });
    expect(Date.now() - started).toBeLessThan(300 + 100);
    expect(result.status).toBe('timeout');
    expect(result.partial.summary).toMatch(/echo ran out of time/);
  });
});

describe('worker lifecycle', () => {
  it('drain lets runs in flight finish; stop aborts them and still replies', async () => {
    const b = bus();
    const agent = echoAgent();
    const worker = await serveAgent(b, agent, { contract: echoContract, heartbeatMs: 0 });
    const remote = remoteAgent(b, { name: 'echo', contract: echoContract });
    const finishing = remote.run({ text: 'finish me', delayMs: 100 });
    await waitUntil(() => worker.inFlight === 1, 'the run to start');
    await worker.drain();
    expect((await finishing).status).toBe('completed');
    expect((await remote.run({ text: 'late' })).error?.code).toBe('NO_RESPONDERS');

    const again = await serveAgent(b, agent, { contract: echoContract, heartbeatMs: 0 });
    const aborted = remote.run({ text: 'abort me', delayMs: 10_000 });
    await waitUntil(() => again.inFlight === 1, 'the second run to start');
    await again.stop();
    const result = await aborted;
    expect(result.status).toBe('aborted');
    expect(result.partial.text).toBe('partial:abort me');
  });

  it('heartbeats carry load; killed workers say so', async () => {
    const b = bus();
    const worker = await serveAgent(b, echoAgent(), {
      contract: echoContract,
      concurrency: 2,
      heartbeatMs: 0,
    });
    const remote = remoteAgent(b, { name: 'echo', contract: echoContract });
    const pending = remote.run({ text: 'x', delayMs: 200 });
    await waitUntil(() => worker.inFlight === 1, 'the run');
    const [info] = await listAgents(b, { timeoutMs: 50 });
    expect(info).toMatchObject({
      name: 'echo',
      inFlight: 1,
      concurrency: 2,
      load: 0.5,
      durable: false,
      killed: false,
    });
    await pending;
    await worker.stop();
  });

  it('rejects invalid configuration by throwing, at once', async () => {
    const b = bus();
    await expect(
      serveAgent(b, echoAgent({ name: 'bad name' }), { contract: echoContract }),
    ).rejects.toSatisfy((error: unknown) => BatonError.is(error, 'CONFIG_INVALID'));
    await expect(serveAgent(b, echoAgent(), { contract: echoContract, durable: true })).rejects.toSatisfy(
      (error: unknown) => BatonError.is(error, 'CONFIG_INVALID') && /NatsBus/.test((error as Error).message),
    );
    expect(() => remoteAgent(b, { name: 'a.b', contract: echoContract })).toThrow(/name/);
    expect(() => remoteAgent(b, { name: 'ok', contract: {} as typeof echoContract })).toThrow(
      /defineHandoff/,
    );
    expect(() => remoteAgent(b, { name: 'ok', contract: echoContract, namespace: 'has space' })).toThrow(
      /namespace/,
    );
    const remote = remoteAgent(b, { name: 'ok', contract: echoContract });
    const badRunId = await remote.run({ text: 'x' }, { runId: 'has.dot' });
    expect(badRunId.error?.code).toBe('CONFIG_INVALID');
  });
});
