/**
 * The team scenarios of the reliability suite: one ledger and one cancel across processes. Members run
 * in worker processes over a real nats-server (and, for the cancel, in the caller's process too).
 */
import { NatsBus, remoteAgent } from '@baton/bus';
import { startNatsServer } from '@baton/bus/testing';
import { type AgentLike, BatonError, defineAgent, totalTokens } from '@baton/core';
import { scriptedModel } from '@baton/core/testing';
import { pipeline, type SupervisedWorker, supervisor } from '@baton/supervisor';
import { startModule } from './processes.js';
import { type ChaosScenario, scaled } from './scenario.js';
import { hanging, NAMESPACE, STEP_TOKENS, taskContract } from './team-members.js';

/** A manager that delegates to every worker at once, then answers. */
function parallelManager(workers: readonly string[]) {
  let call = 0;
  return defineAgent({
    name: 'manager',
    description: 'delegates',
    instructions: 'Delegate to everyone at once.',
    model: scriptedModel(
      () =>
        call++ === 0
          ? { toolCalls: workers.map((name) => ({ name: `delegate_to_${name}`, args: { task: 'work' } })) }
          : 'done',
      { recordRequests: false },
    ),
  });
}

function remote(bus: NatsBus, name: string): SupervisedWorker {
  return {
    agent: remoteAgent(bus, { name, contract: taskContract, namespace: NAMESPACE }),
    contract: taskContract,
  };
}

export const parallelBudget: ChaosScenario = {
  key: 'team.parallelBudget',
  description: '3 remote members in parallel (worker processes, NATS) against a 1,000-token team budget',
  async run(options) {
    const server = await startNatsServer();
    const worker = startModule('team-worker.js', [server.url, 'spender:s1', 'spender:s2', 'spender:s3']);
    const bus = await NatsBus.connect({ servers: server.url, name: 'chaos-caller' });
    try {
      await worker.waitFor(/^READY$/);
      const limitTokens = 1_000;
      const runs = scaled(options, 20, 3);
      const spent: number[] = [];
      const statuses = new Set<string>();
      for (let index = 0; index < runs; index++) {
        const team = supervisor({
          name: 'parallel',
          manager: parallelManager(['s1', 's2', 's3']),
          workers: ['s1', 's2', 's3'].map((name) => remote(bus, name)),
          budget: { maxTokens: limitTokens },
        });
        const result = await team.run('spend');
        spent.push(result.budget.used.tokens);
        statuses.add(result.status);
      }
      options.log(`spent per run: ${spent.join(', ')}`);
      return {
        limitTokens,
        spentTokens: Math.max(...spent),
        members: 3,
        maxStepTokens: STEP_TOKENS,
        runs,
        statuses: [...statuses],
      };
    } finally {
      await bus.close();
      await worker.stop();
      await server.stop();
    }
  },
  check(f) {
    const bound = (f.limitTokens as number) + (f.members as number) * (f.maxStepTokens as number);
    return (f.spentTokens as number) <= bound
      ? []
      : [`spent ${f.spentTokens} tokens against ${f.limitTokens} (bound ${bound})`];
  },
};

export const nestedBudget: ChaosScenario = {
  key: 'team.nestedBudget',
  description:
    "a remote member's tool calls another remote agent: the callee's usage lands on the team ledger",
  async run(options) {
    const server = await startNatsServer();
    const worker = startModule('team-worker.js', [server.url, 'asker:member:callee', 'callee:callee']);
    const bus = await NatsBus.connect({ servers: server.url, name: 'chaos-caller' });
    try {
      await worker.waitFor(/^READY$/);
      const runs = scaled(options, 20, 3);
      let calleeTokens = 0;
      let chargedToCaller = 0;
      for (let index = 0; index < runs; index++) {
        const answersBefore = worker.lines.filter((line) => line.startsWith('ANSWER ')).length;
        const team = pipeline({
          name: 'nested',
          stages: [
            { agent: remoteAgent(bus, { name: 'member', contract: taskContract, namespace: NAMESPACE }) },
          ],
          budget: { maxTokens: 1_000_000 },
        });
        const result = await team.run({ task: 'go' });
        if (result.status !== 'completed') throw new Error(`the team ended ${result.status}`);
        const member = result.members.member;
        const own = member ? totalTokens(member.usage) : 0;
        chargedToCaller += result.budget.used.tokens - own;
        const answers = worker.lines.filter((line) => line.startsWith('ANSWER ')).slice(answersBefore);
        for (const line of answers) calleeTokens += Number(line.split(' ')[3]);
      }
      options.log(
        `callee tokens ${calleeTokens}, charged to the caller ${chargedToCaller} over ${runs} runs`,
      );
      return { calleeTokens, chargedToCaller, runs };
    } finally {
      await bus.close();
      await worker.stop();
      await server.stop();
    }
  },
  check(f) {
    return f.calleeTokens === f.chargedToCaller && (f.calleeTokens as number) > 0
      ? []
      : [`the callee spent ${f.calleeTokens} tokens; the caller was charged ${f.chargedToCaller}`];
  },
};

export const cancel: ChaosScenario = {
  key: 'team.cancel',
  description: 'abort a team with 2 local and 2 remote members in flight: each sees its cancel within 1.5 s',
  async run(options) {
    const server = await startNatsServer();
    const worker = startModule('team-worker.js', [server.url, 'hanging:r1', 'hanging:r2']);
    const bus = await NatsBus.connect({ servers: server.url, name: 'chaos-caller' });
    try {
      await worker.waitFor(/^READY$/);
      const runs = scaled(options, 10, 2);
      const within: number[] = [];
      const returned: number[] = [];
      for (let index = 0; index < runs; index++) {
        const started = new Set<string>();
        const abortedAt = new Map<string, number>();
        const report = {
          onStart: (name: string) => started.add(name),
          onAbort: (name: string, _code: string, at: number) => abortedAt.set(name, at),
        };
        const local = (name: string): SupervisedWorker => ({
          agent: hanging(name, report) as AgentLike,
          contract: taskContract,
        });
        const team = supervisor({
          name: 'cancel',
          manager: parallelManager(['l1', 'l2', 'r1', 'r2']),
          workers: [local('l1'), local('l2'), remote(bus, 'r1'), remote(bus, 'r2')],
        });
        const controller = new AbortController();
        const linesBefore = worker.lines.length;
        const running = team.run('hang', { signal: controller.signal });
        const remoteStarted = () =>
          worker.lines.slice(linesBefore).filter((line) => /^START r[12]$/.test(line)).length === 2;
        for (let waited = 0; !(started.size === 2 && remoteStarted()); waited += 5) {
          if (waited > 20_000) throw new Error('the members did not all start');
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        const abortAt = Date.now();
        controller.abort(new BatonError('ABORTED', 'the user pressed Ctrl-C'));
        const result = await running;
        returned.push(Date.now() - abortAt);
        if (result.status !== 'aborted') throw new Error(`the team ended ${result.status}`);
        for (let waited = 0; waited < 10_000; waited += 10) {
          const remoteAborts = worker.lines.slice(linesBefore).filter((line) => line.startsWith('ABORT '));
          if (remoteAborts.length === 2 && abortedAt.size === 2) break;
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        for (const line of worker.lines.slice(linesBefore).filter((entry) => entry.startsWith('ABORT '))) {
          const [, name = '', , at = '0'] = line.split(' ');
          abortedAt.set(name, Number(at));
        }
        for (const name of ['l1', 'l2', 'r1', 'r2']) {
          const at = abortedAt.get(name);
          within.push(at === undefined ? Number.POSITIVE_INFINITY : at - abortAt);
        }
      }
      const worst = Math.max(...within);
      options.log(
        `cancel reached every member within ${worst} ms (team returned within ${Math.max(...returned)} ms)`,
      );
      return {
        members: 4,
        cancelledWithinMs: Number.isFinite(worst) ? worst : null,
        teamReturnedWithinMs: Math.max(...returned),
        runs,
      };
    } finally {
      await bus.close();
      await worker.stop();
      await server.stop();
    }
  },
  check(f) {
    const worst = f.cancelledWithinMs as number | null;
    if (worst === null) return ['a member never saw its cancel'];
    return worst <= 1_500 ? [] : [`the slowest member saw its cancel after ${worst} ms (goal ≤ 1,500)`];
  },
};
