/**
 * One ledger across processes (issue 10): remote members share their team's remainder step by step
 * instead of each getting all of it, a remote call made from inside a member's tool is charged to that
 * member (and limited by the team), and a cancel reaches remote members. Each case runs over the
 * InProcessBus and over a real nats-server.
 */
import { type AgentWorker, type Bus, InProcessBus, NatsBus, remoteAgent, serveAgent } from '@baton/bus';
import { type NatsServer, startNatsServer } from '@baton/bus/testing';
import {
  type AgentLike,
  BatonError,
  defineAgent,
  defineHandoff,
  defineTool,
  type HandoffContract,
  type RunResult,
  totalTokens,
  type Usage,
} from '@baton/core';
import { scriptedModel } from '@baton/core/testing';
import { debate, debateCritique, pipeline } from '@baton/supervisor';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';

const base = { description: 'a member', instructions: 'i' };
const STEP: Usage = { inputTokens: 100, outputTokens: 50 };
const STEP_TOKENS = 150;

/** Keeps calling a tool, spending STEP per model step, until something stops it. */
function spender(name: string, usage: Usage = STEP): AgentLike {
  const think = defineTool({
    name: 'think',
    description: 't',
    input: z.object({ n: z.number() }),
    execute: ({ n }) => ({ n }),
  });
  let n = 0;
  return defineAgent({
    ...base,
    name,
    model: scriptedModel(() => ({ toolCalls: [{ name: 'think', args: { n: n++ } }], usage, delayMs: 2 })),
    tools: [think],
    limits: { maxSteps: 1_000, noProgressSteps: 1_000 },
  });
}

const generator = defineAgent({ ...base, name: 'generator', model: scriptedModel(() => 'a draft') });
const perspectives = ['correctness', 'clarity', 'risk'];

const askContract = defineHandoff({
  name: 'test.ask',
  version: 1,
  input: z.object({ question: z.string() }),
  output: z.string(),
});

interface Transport {
  name: string;
  /** A caller connection and a worker connection to the same bus. */
  pair(): Promise<{ caller: Bus; worker: Bus }>;
}

let server: NatsServer | undefined;
const opened: Bus[] = [];
const workers: AgentWorker[] = [];

const transports: Transport[] = [
  {
    name: 'InProcessBus',
    async pair() {
      const caller = new InProcessBus();
      const worker = caller.connect();
      opened.push(caller, worker);
      return { caller, worker };
    },
  },
  {
    name: 'NATS',
    async pair() {
      server ??= await startNatsServer({ readyTimeoutMs: 30_000 });
      const caller = await NatsBus.connect({ servers: server.url, name: 'caller' });
      const worker = await NatsBus.connect({ servers: server.url, name: 'worker' });
      opened.push(caller, worker);
      return { caller, worker };
    },
  },
];

beforeAll(async () => {
  server = await startNatsServer({ readyTimeoutMs: 30_000 });
});

afterEach(async () => {
  for (const worker of workers.splice(0)) await worker.stop();
  for (const bus of opened.splice(0)) await bus.close();
});

afterAll(async () => {
  await server?.stop();
});

async function serve(bus: Bus, agent: AgentLike, contract: HandoffContract, namespace = 'ledger') {
  workers.push(await serveAgent(bus, agent, { contract, namespace, heartbeatMs: 0 }));
}

describe.each(transports)('one ledger over $name', (transport) => {
  it('three parallel remote members share a 1,000-token team budget instead of each spending it', async () => {
    const { caller, worker } = await transport.pair();
    for (const name of ['c1', 'c2', 'c3']) await serve(worker, spender(name), debateCritique);
    const team = debate({
      name: 'panel',
      generator,
      critics: ['c1', 'c2', 'c3'].map((name, index) => ({
        agent: remoteAgent(caller, { name, contract: debateCritique, namespace: 'ledger' }),
        perspective: perspectives[index] as string,
      })),
      maxRounds: 2,
      budget: { maxTokens: 1_000 },
    });
    const result = await team.run('task');
    expect(result.status).toBe('budget_exceeded');
    const spent = result.budget.used.tokens;
    // The guarantee: the limit plus at most one model step per member running at once.
    expect(spent).toBeGreaterThanOrEqual(1_000);
    expect(spent).toBeLessThanOrEqual(1_000 + 3 * STEP_TOKENS);
    // Every member's own usage is in the ledger, and nothing else.
    const members = Object.values(result.members).reduce((sum, m) => sum + totalTokens(m.usage), 0);
    expect(spent).toBe(members);
  });

  it('a remote call made from inside a remote member’s tool is charged to that member and the team', async () => {
    const { caller, worker } = await transport.pair();
    const callee = defineAgent({
      ...base,
      name: 'callee',
      model: scriptedModel(() => ({ text: 'the answer', usage: { inputTokens: 200, outputTokens: 100 } })),
    });
    await serve(worker, callee, askContract);
    const calleeRemote = remoteAgent(worker, { name: 'callee', contract: askContract, namespace: 'ledger' });
    const calleeResults: RunResult[] = [];
    const ask = defineTool({
      name: 'ask_colleague',
      description: 'asks the callee',
      input: z.object({}),
      // Nothing passed along: the call finds the member's lease through the run scope.
      execute: async () => {
        const answer = await calleeRemote.run({ question: 'q' });
        calleeResults.push(answer);
        return answer.output;
      },
    });
    const member = defineAgent({
      ...base,
      name: 'member',
      model: scriptedModel([{ toolCalls: [{ name: 'ask_colleague', args: {} }] }, 'done']),
      tools: [ask],
    });
    await serve(worker, member, askContract);
    const team = pipeline({
      name: 'nested',
      stages: [
        { agent: remoteAgent(caller, { name: 'member', contract: askContract, namespace: 'ledger' }) },
      ],
      budget: { maxTokens: 100_000 },
    });
    const result = await team.run({ question: 'go' });
    expect(result.status).toBe('completed');
    const calleeTokens = totalTokens((calleeResults[0] as RunResult).usage);
    const memberTokens = totalTokens(result.members.member?.usage ?? { inputTokens: 0, outputTokens: 0 });
    expect(calleeTokens).toBe(300);
    expect(memberTokens).toBe(30);
    // chargedToCaller: what the team ledger holds beyond the member's own steps.
    expect(result.budget.used.tokens - memberTokens).toBe(calleeTokens);
    expect(result.budget.used.steps).toBe(3);
  });

  it('a nested remote call is limited by what the team has left', async () => {
    const { caller, worker } = await transport.pair();
    await serve(worker, spender('callee'), askContract);
    const calleeRemote = remoteAgent(worker, { name: 'callee', contract: askContract, namespace: 'ledger' });
    const statuses: string[] = [];
    const ask = defineTool({
      name: 'ask_colleague',
      description: 'asks the callee',
      input: z.object({}),
      execute: async () => {
        const answer = await calleeRemote.run({ question: 'q' });
        statuses.push(answer.status);
        return answer.status;
      },
    });
    const member = defineAgent({
      ...base,
      name: 'member',
      model: scriptedModel([{ toolCalls: [{ name: 'ask_colleague', args: {} }] }, 'done']),
      tools: [ask],
    });
    await serve(worker, member, askContract);
    const team = pipeline({
      name: 'nested',
      stages: [
        { agent: remoteAgent(caller, { name: 'member', contract: askContract, namespace: 'ledger' }) },
      ],
      budget: { maxTokens: 1_000 },
    });
    const result = await team.run({ question: 'go' });
    // The team cancels its member when the budget runs out and waits for it only within its cancel
    // grace (1 s), so on a loaded machine the team can return before the nested call's answer has come
    // back to the member's tool. Wait for it: it must arrive, and say the callee ran out of budget.
    await vi.waitFor(() => expect(statuses).toEqual(['budget_exceeded']), { timeout: 10_000 });
    expect(result.budget.used.tokens).toBeLessThanOrEqual(1_000 + 2 * STEP_TOKENS);
  });

  it('aborting the team cancels local and remote members alike', async () => {
    const { caller, worker } = await transport.pair();
    const aborted = new Map<string, string>();
    const started = new Set<string>();
    const hanging = (name: string) => {
      const hang = defineTool({
        name: 'hang',
        description: 'waits',
        input: z.object({}),
        execute: (_args, { signal }) =>
          new Promise((_resolve, reject) => {
            started.add(name);
            signal.addEventListener('abort', () => {
              aborted.set(name, (signal.reason as BatonError).code);
              reject(signal.reason);
            });
          }),
      });
      return defineAgent({
        ...base,
        name,
        model: scriptedModel([{ toolCalls: [{ name: 'hang', args: {} }] }]),
        tools: [hang],
      });
    };
    await serve(worker, hanging('r1'), debateCritique);
    await serve(worker, hanging('r2'), debateCritique);
    const team = debate({
      name: 'panel',
      generator,
      critics: [
        { agent: hanging('local1'), perspective: 'correctness' },
        {
          agent: remoteAgent(caller, { name: 'r1', contract: debateCritique, namespace: 'ledger' }),
          perspective: 'clarity',
        },
        {
          agent: remoteAgent(caller, { name: 'r2', contract: debateCritique, namespace: 'ledger' }),
          perspective: 'risk',
        },
      ],
      maxRounds: 2,
    });
    const controller = new AbortController();
    const running = team.run('task', { signal: controller.signal });
    while (started.size < 3) await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort(new BatonError('ABORTED', 'Ctrl-C'));
    const result = await running;
    expect(result.status).toBe('aborted');
    // The remote runs saw the cancel in their own tools (the cancel travels over the bus).
    for (let waited = 0; aborted.size < 3 && waited < 5_000; waited += 10) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(Object.fromEntries(aborted)).toEqual({ local1: 'ABORTED', r1: 'ABORTED', r2: 'ABORTED' });
  });
});
