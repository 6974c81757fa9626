import {
  controlAckSchema,
  currentInvocation,
  decodeEnvelope,
  type Envelope,
  encodeEnvelope,
  InProcessBus,
  listAgents,
  remoteAgent,
  SYSTEM_CONTRACTS,
  serveAgent,
  subjects,
  systemEnvelope,
} from '@baton/bus';
import { echoAgent, echoContract, waitUntil } from '@baton/bus/testing';
import {
  type AgentLike,
  BatonError,
  Budget,
  defineAgent,
  defineHandoff,
  type RunEvent,
  RunEvents,
  type RunResult,
  sleep,
} from '@baton/core';
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
    // The scripted model has no price: its step is charged as unpriced, never as $0.
    expect(budget.used).toEqual({ steps: 1, tokens: 24, costUsd: 0, unpricedSteps: 1 });
    expect(result.unpriced).toEqual({ steps: 1, models: ['scripted'] });
    await waitUntil(() => types.includes('run.end'), 'run.end');
    expect(types[0]).toBe('run.start');
    expect(types).toContain('step.start');
  });

  it('abort at the caller aborts the remote loop, which returns its partial result', async () => {
    const b = bus();
    // The model answers after ten minutes: only the abort can end the run sooner.
    await serveAgent(b, coreEcho(600_000), { contract: echoContract, heartbeatMs: 0 });
    const remote = remoteAgent(b, { name: 'echo', contract: echoContract });
    const controller = new AbortController();
    const pending = remote.run({ text: 'x' }, { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    const started = Date.now();
    const result = await pending;
    expect(result.status).toBe('aborted');
    // Many times the 50 ms, far below the model's ten minutes.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(result.agent).toBe('echo');
    expect(result.partial.summary).toMatch(/echo was aborted/);
  });

  it('the caller budget deadline becomes the remote run timeout', async () => {
    const b = bus();
    await serveAgent(b, coreEcho(600_000), { contract: echoContract, heartbeatMs: 0 });
    const remote = remoteAgent(b, { name: 'echo', contract: echoContract });
    const started = Date.now();
    const result = await remote.run({ text: 'x' }, { budget: new Budget({ deadline: Date.now() + 300 }) });
    expect(result.status).toBe('timeout');
    expect(result.partial.summary).toMatch(/echo ran out of time/);
    // The remote run ended at the caller's deadline: many times the 300 ms, far below the ten minutes.
    expect(Date.now() - started).toBeLessThan(10_000);
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

  it('stop() during a drain aborts the runs in flight; a drain with a time limit stops them when it is up', async () => {
    const b = bus();
    const agent = echoAgent();
    const remote = remoteAgent(b, { name: 'echo', contract: echoContract });
    const worker = await serveAgent(b, agent, { contract: echoContract, heartbeatMs: 0 });
    const slow = remote.run({ text: 'slow', delayMs: 60_000 });
    await waitUntil(() => worker.inFlight === 1, 'the run to start');
    const draining = worker.drain();
    // A second Ctrl-C: it used to be swallowed by the drain already under way.
    const stopped = worker.stop();
    expect(stopped).toBe(draining);
    await stopped;
    expect((await slow).status).toBe('aborted');

    const limited = await serveAgent(b, agent, { contract: echoContract, heartbeatMs: 0 });
    const slower = remote.run({ text: 'slow', delayMs: 60_000 });
    await waitUntil(() => limited.inFlight === 1, 'the run to start');
    await limited.drain({ timeoutMs: 50 });
    const result = await slower;
    expect(result.status).toBe('aborted');
    expect(result.error?.details).toMatchObject({ reason: 'worker-stopping' });
  });

  it('a cancel or kill sent as a request is acknowledged, saying whether it acted', async () => {
    const b = bus();
    await serveAgent(b, echoAgent(), { contract: echoContract, heartbeatMs: 0, namespace: 'acks' });
    const ask = async (subject: string, envelope: Envelope) => {
      const reply = await b.request(subject, encodeEnvelope(envelope), { timeoutMs: 2_000 });
      const decoded = decodeEnvelope(reply.data);
      if (!decoded.ok) throw decoded.error;
      return controlAckSchema.parse(decoded.envelope.payload);
    };
    const cancel = systemEnvelope({
      kind: 'cancel',
      contract: SYSTEM_CONTRACTS.cancel,
      from: 'test',
      to: 'echo',
      payload: {},
    });
    expect(await ask(subjects.runCancel('acks', cancel.runId), cancel)).toEqual({
      action: 'ack',
      of: 'cancel',
      applied: false,
    });
    const kill = systemEnvelope({
      kind: 'control',
      contract: SYSTEM_CONTRACTS.control,
      from: 'test',
      to: 'other',
      payload: { action: 'kill', agent: 'other', reason: 'not you', at: Date.now() },
    });
    expect(await ask(subjects.kill('acks'), kill)).toEqual({ action: 'ack', of: 'kill', applied: false });
    // A kill envelope under another contract is refused, not obeyed.
    const forged = { ...kill, contract: 'nope@1', payload: { action: 'kill', reason: 'x', at: Date.now() } };
    const reply = await b.request(subjects.kill('acks'), JSON.stringify(forged), { timeoutMs: 2_000 });
    const decoded = decodeEnvelope(reply.data);
    expect(decoded.ok && decoded.envelope.kind).toBe('error');
    const [info] = await listAgents(b, { namespace: 'acks', timeoutMs: 50 });
    expect(info?.killed).toBe(false);
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

describe('nested handoffs', () => {
  const contract = defineHandoff({
    name: 'test.relay',
    version: 1,
    input: z.object({ text: z.string() }),
    output: z.object({ text: z.string() }),
  });

  /** An agent that hands its input to `next` (after an await, as a tool would) and reports what came back. */
  function relay(name: string, next: () => AgentLike<{ text: string }, { text: string }>) {
    const seen: Array<{ hop: number; envelopeId: string; agent: string }> = [];
    const agent: AgentLike<{ text: string }, { text: string }> = {
      name,
      description: `hands work to the next agent`,
      async run(input, options = {}): Promise<RunResult<{ text: string }>> {
        await sleep(1);
        const invocation = currentInvocation();
        if (invocation)
          seen.push({ hop: invocation.hop, envelopeId: invocation.envelopeId, agent: invocation.agent });
        const nested = await next().run({ text: `${input.text}>${name}` });
        const text =
          nested.status === 'completed' ? (nested.output?.text ?? '') : `stopped:${nested.error?.code}`;
        return {
          status: 'completed',
          output: { text },
          partial: { summary: `${name} relayed`, toolResults: [], missing: [] },
          steps: 0,
          usage: { inputTokens: 0, outputTokens: 0 },
          costUsd: 0,
          durationMs: 0,
          runId: options.runId ?? name,
          traceId: '',
          spanId: '',
          agent: name,
        };
      },
    };
    return { agent, seen };
  }

  it('carry hop and causation without the agent passing anything; a loop stops at the hop limit', async () => {
    const b = bus();
    const invocations: Envelope[] = [];
    b.subscribe('baton.*.agent.*.invoke', (message) => {
      const decoded = decodeEnvelope(message.string());
      if (decoded.ok) invocations.push(decoded.envelope);
    });
    const deadLetters: Array<{ agent: string; error: { code: string } }> = [];
    b.subscribe('baton.*.dlq.>', (message) => deadLetters.push(JSON.parse(message.string())));

    // The proxies the agents use keep the default limit (8): the workers' own limit (4) must hold anyway.
    const toPing = remoteAgent(b, { name: 'ping', contract });
    const toPong = remoteAgent(b, { name: 'pong', contract });
    const ping = relay('ping', () => toPong);
    const pong = relay('pong', () => toPing);
    await serveAgent(b, ping.agent, { contract, heartbeatMs: 0, maxHops: 4 });
    await serveAgent(b, pong.agent, { contract, heartbeatMs: 0, maxHops: 4 });

    const result = await remoteAgent(b, { name: 'ping', contract }).run({ text: 'start' });

    // Hops 0..4 ran (ping, pong, ping, pong, ping); hop 5 reached pong's worker, which refused it.
    expect(result.status, JSON.stringify(result.error)).toBe('completed');
    expect(result.output).toEqual({ text: 'stopped:HOP_LIMIT' });
    expect(invocations.map((envelope) => envelope.hop)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(invocations.map((envelope) => envelope.to)).toEqual([
      'ping',
      'pong',
      'ping',
      'pong',
      'ping',
      'pong',
    ]);
    expect(invocations.map((envelope) => envelope.from)).toEqual([
      'client',
      'ping',
      'pong',
      'ping',
      'pong',
      'ping',
    ]);
    // Each nested invocation names the one that caused it, and belongs to its own run.
    expect(invocations[0]?.causationId).toBeNull();
    for (let index = 1; index < invocations.length; index++) {
      expect(invocations[index]?.causationId).toBe(invocations[index - 1]?.id);
    }
    expect(new Set(invocations.map((envelope) => envelope.runId)).size).toBe(invocations.length);
    expect([...ping.seen, ...pong.seen].map((entry) => entry.hop).sort()).toEqual([0, 1, 2, 3, 4]);
    await waitUntil(() => deadLetters.length > 0, 'the refused hop is dead-lettered');
    expect(deadLetters).toMatchObject([{ agent: 'pong', error: { code: 'HOP_LIMIT' } }]);
  });

  it("a caller's own hop limit refuses the handoff before anything is sent", async () => {
    const b = bus();
    let sent = 0;
    b.subscribe('baton.*.agent.*.invoke', () => {
      sent++;
    });
    const toPing = remoteAgent(b, { name: 'ping', contract, maxHops: 2 });
    const toPong = remoteAgent(b, { name: 'pong', contract, maxHops: 2 });
    await serveAgent(b, relay('ping', () => toPong).agent, { contract, heartbeatMs: 0 });
    await serveAgent(b, relay('pong', () => toPing).agent, { contract, heartbeatMs: 0 });
    const result = await toPing.run({ text: 'start' });
    expect(result.output).toEqual({ text: 'stopped:HOP_LIMIT' });
    expect(sent).toBe(3);
  });
});
