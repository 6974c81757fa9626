import assert from 'node:assert/strict';
import { BatonError, Budget, type RunEvent, RunEvents, type RunResult } from '@baton/core';
import { ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { remoteAgent } from '../../agent/remote.js';
import { serveAgent } from '../../agent/serve.js';
import { killSwitch } from '../../kill.js';
import { listAgents, waitForAgent } from '../../registry.js';
import { customAgent, echoAgent, echoContract, resultOf, sleep } from '../agents.js';
import type { ConformanceCase } from './context.js';
import { waitUntil } from './context.js';

/** serveAgent / remoteAgent behaviour that must not depend on the transport. */
export const agentConformance: ConformanceCase[] = [
  {
    name: 'remote run: typed round trip, budget charged, events forwarded',
    async run({ caller, worker, namespace, defer }) {
      const agent = echoAgent({ usage: { inputTokens: 30, outputTokens: 12 }, costUsd: 0.25 });
      const served = await serveAgent(worker, agent, { contract: echoContract, namespace });
      defer(() => served.stop());
      const remote = remoteAgent(caller, { name: 'echo', contract: echoContract, namespace });
      const budget = new Budget({ maxTokens: 1_000, maxCostUsd: 10, deadline: Date.now() + 60_000 });
      const events = new RunEvents();
      const seen: RunEvent[] = [];
      events.on('*', (event) => seen.push(event));
      const result = await remote.run({ text: 'hello' }, { budget, events, runId: 'run-1' });
      assert.equal(result.status, 'completed', JSON.stringify(result.error));
      assert.deepEqual(result.output, { text: 'hello' });
      assert.equal(result.runId, 'run-1');
      assert.equal(result.agent, 'echo');
      assert.deepEqual(result.usage, { inputTokens: 30, outputTokens: 12 });
      assert.equal(budget.used.tokens, 42, 'remote usage is charged to the caller budget');
      assert.equal(budget.used.steps, 1);
      assert.equal(budget.used.costUsd, 0.25);
      const seenBudget = agent.observed.lastOptions?.budget;
      assert.ok(seenBudget, 'the worker runs with a budget');
      assert.equal(seenBudget.remaining().tokens, 1_000);
      const deadline = seenBudget.deadline();
      assert.ok(deadline !== undefined && deadline <= Date.now() + 60_000, 'the deadline travels');
      await waitUntil(() => seen.length >= 2, 'forwarded events', 2_000);
      assert.deepEqual(
        seen.map((event) => event.type),
        ['run.start', 'run.end'],
      );
      assert.equal(seen[0]?.runId, 'run-1');
    },
  },
  {
    name: 'input that breaks the contract is refused before sending',
    async run({ caller, worker, namespace, defer }) {
      const agent = echoAgent();
      const served = await serveAgent(worker, agent, { contract: echoContract, namespace });
      defer(() => served.stop());
      const remote = remoteAgent(caller, { name: 'echo', contract: echoContract, namespace });
      const result = await remote.run({ text: 42 } as unknown as { text: string });
      assert.equal(result.status, 'failed');
      assert.equal(result.error?.code, 'HANDOFF_INVALID');
      assert.match(result.error?.message ?? '', /text/);
      assert.equal(agent.observed.runs, 0, 'nothing reached the worker');
    },
  },
  {
    name: 'output that breaks the contract fails the run with HANDOFF_INVALID',
    async run({ caller, worker, namespace, defer }) {
      const liar = customAgent<{ text: string }, { text: string }>('liar', async (_input, options) =>
        resultOf('liar', options, {
          output: { wrong: true } as unknown as { text: string },
          usage: { inputTokens: 7, outputTokens: 3 },
        }),
      );
      const served = await serveAgent(worker, liar, { contract: echoContract, namespace });
      defer(() => served.stop());
      const remote = remoteAgent(caller, { name: 'liar', contract: echoContract, namespace });
      const budget = new Budget();
      const result = await remote.run({ text: 'x' }, { budget });
      assert.equal(result.status, 'failed');
      assert.equal(result.error?.code, 'HANDOFF_INVALID');
      assert.equal(result.output, undefined);
      assert.equal(budget.used.tokens, 10, 'the work done is still charged');
    },
  },
  {
    name: 'worker errors cross intact: code, category, message, retryable',
    async run({ caller, worker, namespace, defer }) {
      const failing = customAgent<{ text: string }, { text: string }>('failing', async (input, options) => {
        if (input.text === 'throw')
          throw new BatonError('PROVIDER_OVERLOADED', 'model is overloaded', { hint: 'later' });
        return resultOf('failing', options, {
          status: 'failed',
          error: new BatonError('TOOL_FAILED', 'the search tool broke', { retryable: true }),
        });
      });
      const served = await serveAgent(worker, failing, { contract: echoContract, namespace });
      defer(() => served.stop());
      const remote = remoteAgent(caller, { name: 'failing', contract: echoContract, namespace });
      const reported = await remote.run({ text: 'report' });
      assert.equal(reported.status, 'failed');
      assert.deepEqual(
        {
          code: reported.error?.code,
          category: reported.error?.category,
          message: reported.error?.message,
          retryable: reported.error?.retryable,
        },
        { code: 'TOOL_FAILED', category: 'system', message: 'the search tool broke', retryable: true },
      );
      const thrownResult = await remote.run({ text: 'throw' });
      assert.equal(thrownResult.status, 'failed');
      const error = BatonError.fromJSON(thrownResult.error);
      assert.equal(error.code, 'PROVIDER_OVERLOADED');
      assert.equal(error.category, 'provider');
      assert.equal(error.retryable, true);
      assert.equal(error.hint, 'later');
    },
  },
  {
    name: 'no responders is a failed result with NO_RESPONDERS, at once',
    async run({ caller, namespace }) {
      const remote = remoteAgent(caller, {
        name: 'ghost',
        contract: echoContract,
        namespace,
        timeoutMs: 10_000,
      });
      const started = Date.now();
      const result = await remote.run({ text: 'anyone?' });
      assert.equal(result.status, 'failed');
      assert.equal(result.error?.code, 'NO_RESPONDERS');
      assert.equal(result.error?.retryable, true);
      assert.ok(Date.now() - started < 1_000, `took ${Date.now() - started} ms`);
      assert.match(result.partial.summary, /ghost/);
    },
  },
  {
    name: 'abort at the caller cancels the remote run and returns its partial result',
    async run({ caller, worker, namespace, defer }) {
      const agent = echoAgent();
      const served = await serveAgent(worker, agent, { contract: echoContract, namespace });
      defer(() => served.stop());
      const remote = remoteAgent(caller, { name: 'echo', contract: echoContract, namespace });
      const controller = new AbortController();
      const budget = new Budget();
      const pending = remote.run({ text: 'long', delayMs: 10_000 }, { signal: controller.signal, budget });
      await waitUntil(() => agent.observed.active === 1, 'the remote run to start');
      const started = Date.now();
      controller.abort(new BatonError('ABORTED', 'user pressed stop'));
      const result = await pending;
      assert.ok(Date.now() - started < 1_000, 'the cancel is prompt');
      assert.equal(result.status, 'aborted');
      assert.equal(result.error?.code, 'ABORTED');
      assert.equal(result.error?.message, 'user pressed stop');
      assert.equal(result.partial.text, 'partial:long', 'the partial result comes from the worker');
      assert.equal(agent.observed.aborts.length, 1, "the worker's signal fired");
      assert.equal((agent.observed.aborts[0] as BatonError).message, 'user pressed stop');
      assert.equal(budget.used.tokens, 15, 'partial usage is charged');
    },
  },
  {
    name: 'the deadline crosses: the worker stops in time and the caller never waits past it',
    async run({ caller, worker, namespace, defer }) {
      const agent = echoAgent();
      const stubborn = customAgent<{ text: string }, { text: string }>(
        'stubborn',
        async (_input, options) => {
          await sleep(600);
          return resultOf('stubborn', options, { output: { text: 'late' } });
        },
      );
      const served = await serveAgent(worker, agent, { contract: echoContract, namespace });
      const servedStubborn = await serveAgent(worker, stubborn, { contract: echoContract, namespace });
      defer(() => served.stop());
      defer(() => servedStubborn.stop());
      const remote = remoteAgent(caller, { name: 'echo', contract: echoContract, namespace, timeoutMs: 300 });
      let started = Date.now();
      const cooperative = await remote.run({ text: 'slow', delayMs: 5_000 });
      let took = Date.now() - started;
      assert.equal(cooperative.status, 'timeout');
      assert.equal(cooperative.error?.code, 'DEADLINE_EXCEEDED');
      assert.equal(cooperative.partial.text, 'partial:slow', "the worker's own partial result");
      assert.ok(took < 300 + 100, `took ${took} ms`);
      const budgetRemote = remoteAgent(caller, { name: 'stubborn', contract: echoContract, namespace });
      started = Date.now();
      const ignored = await budgetRemote.run(
        { text: 'x' },
        { budget: new Budget({ deadline: Date.now() + 250 }) },
      );
      took = Date.now() - started;
      assert.equal(ignored.status, 'timeout', JSON.stringify(ignored.error));
      assert.equal(ignored.error?.code, 'DEADLINE_EXCEEDED');
      assert.ok(took < 250 + 100, `took ${took} ms`);
    },
  },
  {
    name: 'a budget already spent stops the call before it is sent',
    async run({ caller, worker, namespace, defer }) {
      const agent = echoAgent();
      const served = await serveAgent(worker, agent, { contract: echoContract, namespace });
      defer(() => served.stop());
      const remote = remoteAgent(caller, { name: 'echo', contract: echoContract, namespace });
      const budget = new Budget({ maxTokens: 10 });
      budget.charge({ tokens: 10 });
      const result = await remote.run({ text: 'x' }, { budget });
      assert.equal(result.status, 'budget_exceeded');
      assert.equal(result.error?.code, 'BUDGET_TOKENS');
      assert.equal(agent.observed.runs, 0);
    },
  },
  {
    name: 'handoff loops stop at the hop limit',
    async run({ caller, worker, namespace, defer }) {
      let calls = 0;
      const self = remoteAgent(worker, { name: 'loop', contract: echoContract, namespace, maxHops: 3 });
      const looping = customAgent<{ text: string }, { text: string }>('loop', async (input, options) => {
        calls++;
        const nested: RunResult<{ text: string }> = await self.run(input, { signal: options.signal });
        if (nested.status !== 'completed') {
          const error = BatonError.fromJSON(nested.error);
          return resultOf('loop', options, { status: 'failed', error });
        }
        return resultOf('loop', options, { output: { text: `${nested.output?.text}+` } });
      });
      const served = await serveAgent(worker, looping, { contract: echoContract, namespace, maxHops: 3 });
      defer(() => served.stop());
      const remote = remoteAgent(caller, { name: 'loop', contract: echoContract, namespace });
      const result = await remote.run({ text: 'x' });
      assert.equal(result.status, 'failed');
      assert.equal(result.error?.code, 'HOP_LIMIT');
      assert.equal(calls, 4, 'hops 0..3 ran, hop 4 was refused');
    },
  },
  {
    name: 'a worker runs at most `concurrency` invocations at once; the rest wait their turn',
    async run({ caller, worker, namespace, defer }) {
      const agent = echoAgent();
      const served = await serveAgent(worker, agent, { contract: echoContract, namespace, concurrency: 2 });
      defer(() => served.stop());
      const remote = remoteAgent(caller, { name: 'echo', contract: echoContract, namespace });
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, i) => remote.run({ text: `n${i}`, delayMs: 30 })),
      );
      assert.deepEqual(
        results.map((r) => r.output?.text),
        ['n0', 'n1', 'n2', 'n3', 'n4', 'n5'],
      );
      assert.equal(agent.observed.maxActive, 2);
    },
  },
  {
    name: 'the kill switch aborts runs in flight and refuses new work',
    async run({ caller, worker, namespace, defer }) {
      const agent = echoAgent({ name: 'victim' });
      const bystander = echoAgent({ name: 'bystander' });
      const served = await serveAgent(worker, agent, { contract: echoContract, namespace });
      const servedBystander = await serveAgent(worker, bystander, { contract: echoContract, namespace });
      defer(() => served.stop());
      defer(() => servedBystander.stop());
      const remote = remoteAgent(caller, { name: 'victim', contract: echoContract, namespace });
      const pending = remote.run({ text: 'busy', delayMs: 10_000 });
      await waitUntil(() => agent.observed.active === 1, 'the run to start');
      await killSwitch(caller, { namespace, agent: 'victim', reason: 'runaway spend' });
      const result = await pending;
      assert.equal(result.status, 'aborted');
      assert.equal(result.error?.code, 'KILLED');
      assert.match(result.error?.message ?? '', /runaway spend/);
      assert.equal((agent.observed.aborts[0] as BatonError).code, 'KILLED');
      await waitUntil(() => served.killed, 'the worker to be killed');
      const refused = await remote.run({ text: 'more' });
      assert.equal(refused.error?.code, 'KILLED');
      assert.equal(agent.observed.runs, 1);
      const other = remoteAgent(caller, { name: 'bystander', contract: echoContract, namespace });
      assert.equal((await other.run({ text: 'fine' })).status, 'completed', 'other agents keep working');
    },
  },
  {
    name: 'registry: listAgents sees workers; waitForAgent waits for one',
    async run({ caller, worker, namespace, defer }) {
      const served = await serveAgent(worker, echoAgent({ description: 'Echo for tests' }), {
        contract: echoContract,
        namespace,
        instanceId: 'echo-1',
      });
      defer(() => served.stop());
      const agents = await listAgents(caller, { namespace, timeoutMs: 150 });
      assert.equal(agents.length, 1);
      assert.deepEqual(
        {
          name: agents[0]?.name,
          contract: agents[0]?.contract,
          version: agents[0]?.version,
          instance: agents[0]?.instance,
          description: agents[0]?.description,
        },
        {
          name: 'echo',
          contract: 'test.echo@1',
          version: 1,
          instance: 'echo-1',
          description: 'Echo for tests',
        },
      );
      const waiting = waitForAgent(caller, 'late', { namespace, timeoutMs: 3_000 });
      await sleep(100);
      const late = await serveAgent(worker, echoAgent({ name: 'late' }), {
        contract: echoContract,
        namespace,
      });
      defer(() => late.stop());
      const info = await waiting;
      assert.equal(info.name, 'late');
      await assert.rejects(waitForAgent(caller, 'never', { namespace, timeoutMs: 100 }), (error: unknown) => {
        return error instanceof BatonError && error.code === 'NO_RESPONDERS';
      });
    },
  },
  {
    name: 'trace context crosses the bus even without an OpenTelemetry SDK',
    async run({ caller, worker, namespace, defer }) {
      const agent = echoAgent();
      const served = await serveAgent(worker, agent, { contract: echoContract, namespace });
      defer(() => served.stop());
      const remote = remoteAgent(caller, { name: 'echo', contract: echoContract, namespace });
      const traceId = 'a'.repeat(32);
      const parent = trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId: 'b'.repeat(16), traceFlags: 1 });
      const result = await remote.run({ text: 't' }, { traceContext: parent });
      assert.equal(result.status, 'completed');
      assert.equal(result.traceId, traceId, 'the worker run continues the caller trace');
      const seen = agent.observed.lastOptions?.traceContext;
      assert.equal(seen ? trace.getSpanContext(seen)?.traceId : undefined, traceId);
    },
  },
];
