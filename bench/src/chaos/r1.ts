/**
 * R1: durable invocations survive worker crashes, fast. 1,000 durable invocations (each with its own
 * run time) over 3 worker processes on a JetStream nats-server; 10 times during the run a worker is
 * SIGKILLed and a replacement started. Every invocation must complete, once, and the invocations of a
 * killed worker must be picked up within seconds: p99 of (completion time − the invocation's own run
 * time) ≤ 5 s.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NatsBus, remoteAgent } from '@baton/bus';
import { echoContract, startNatsServer } from '@baton/bus/testing';
import { type ChaosProcess, startModule } from './processes.js';
import type { RecoveryWorkerConfig } from './recovery-worker.js';
import { type ChaosScenario, percentile, scaled } from './scenario.js';

const NAMESPACE = 'chaos-r1';
const WORKERS = 3;
const CONCURRENCY = 16;
/** Calls in flight at once: below what 2 workers take, so a kill leaves room and no queue forms. */
const IN_FLIGHT = 24;
const MIN_RUN_MS = 100;
const MAX_RUN_MS = 600;

/** A small deterministic generator, so two runs of the suite do the same work. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

interface WorkerLog {
  /** Distinct result ids sent per invocation (correlation id). */
  results: Map<string, Set<string>>;
  /** Runs that finished, per run id (a rerun of a run whose worker died before recording it counts). */
  executions: Map<string, number>;
}

function readLogs(dir: string): WorkerLog {
  const results = new Map<string, Set<string>>();
  const executions = new Map<string, number>();
  for (const file of readdirSync(dir)) {
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      const [kind, a, b] = line.split(' ');
      if (kind === 'result' && a !== undefined && b !== undefined) {
        const ids = results.get(a) ?? new Set<string>();
        ids.add(b);
        results.set(a, ids);
      } else if (kind === 'exec' && a !== undefined) {
        executions.set(a, (executions.get(a) ?? 0) + 1);
      }
    }
  }
  return { results, executions };
}

export const r1: ChaosScenario = {
  key: 'r1',
  description:
    '1,000 durable invocations over 3 worker processes, 10 SIGKILLs mid-run: all complete once, p99 extra ≤ 5 s',
  async run(options) {
    const invocations = scaled(options, 1_000, 100);
    const kills = options.quick ? 3 : 10;
    const server = await startNatsServer({ jetstream: true });
    const dir = mkdtempSync(join(tmpdir(), 'baton-r1-'));
    const live = new Map<string, ChaosProcess>();
    const all: ChaosProcess[] = [];
    let serial = 0;
    const start = (): Promise<string> => {
      const instance = `r1-w${++serial}`;
      const config: RecoveryWorkerConfig = {
        url: server.url,
        namespace: NAMESPACE,
        instance,
        durable: true,
        concurrency: CONCURRENCY,
        logFile: join(dir, `${instance}.log`),
      };
      const worker = startModule('recovery-worker.js', [JSON.stringify(config)]);
      live.set(instance, worker);
      all.push(worker);
      return worker.waitFor(new RegExp(`^READY ${instance}$`)).then(() => instance);
    };
    const bus = await NatsBus.connect({ servers: server.url, name: 'chaos-r1-caller' });
    try {
      await Promise.all(Array.from({ length: WORKERS }, start));
      const remote = remoteAgent(bus, {
        name: 'echo',
        contract: echoContract,
        namespace: NAMESPACE,
        durable: true,
        timeoutMs: 60_000,
      });
      const next = random(1);
      const runMs = Array.from({ length: invocations }, () =>
        Math.round(MIN_RUN_MS + next() * (MAX_RUN_MS - MIN_RUN_MS)),
      );
      // Kills spread over the middle of the run, so each lands among runs in flight.
      const killEvery = Math.floor((invocations * 0.8) / kills);
      const killAt = new Set(
        Array.from({ length: kills }, (_, k) => Math.floor(invocations * 0.05) + k * killEvery),
      );
      const replacements: Promise<string>[] = [];
      let killed = 0;
      const killOne = () => {
        const instances = [...live.keys()];
        const victim = instances[Math.floor(next() * instances.length)] as string;
        const worker = live.get(victim) as ChaosProcess;
        live.delete(victim);
        killed++;
        options.log(`kill ${killed}/${kills}: ${victim}`);
        void worker.kill();
        replacements.push(start());
      };

      const extraMs: number[] = [];
      const failures: string[] = [];
      const runIds: string[] = [];
      let settled = 0;
      let cursor = 0;
      const started = performance.now();
      const lane = async () => {
        while (cursor < invocations) {
          const index = cursor++;
          const own = runMs[index] as number;
          const began = performance.now();
          const result = await remote.run({ text: `inv-${index}`, delayMs: own });
          const took = performance.now() - began;
          settled++;
          if (result.status === 'completed' && result.output?.text === `inv-${index}`) {
            extraMs.push(took - own);
            runIds.push(result.runId);
          } else failures.push(`${index}: ${result.status} ${result.error?.code ?? ''}`);
          if (killAt.has(settled)) killOne();
        }
      };
      await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
      const seconds = (performance.now() - started) / 1000;
      await Promise.all(replacements);
      // Results are logged just before they are sent; give the last lines a moment to land.
      await new Promise((resolve) => setTimeout(resolve, 200));

      const log = readLogs(dir);
      const completedTwice = [...log.results.values()].filter((ids) => ids.size > 1).length;
      const executionsFinished = [...log.executions.values()].reduce((sum, count) => sum + count, 0);
      if (failures.length > 0) options.log(`failures: ${failures.slice(0, 10).join('; ')}`);
      return {
        invocations,
        kills: killed,
        completed: extraMs.length,
        lost: invocations - extraMs.length,
        completedTwice,
        p99ExtraMs: Math.round(percentile(extraMs, 99)),
        p50ExtraMs: Math.round(percentile(extraMs, 50)),
        maxExtraMs: Math.round(Math.max(0, ...extraMs)),
        resultsSent: log.results.size,
        executionsFinished,
        runMs: { min: MIN_RUN_MS, max: MAX_RUN_MS },
        workers: WORKERS,
        concurrencyPerWorker: CONCURRENCY,
        inFlight: IN_FLIGHT,
        ackWaitMs: 'default (3000)',
        runSeconds: Math.round(seconds * 10) / 10,
      };
    } finally {
      await bus.close();
      await Promise.all(all.map((worker) => worker.kill()));
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
  check(f) {
    const problems: string[] = [];
    if (f.completed !== f.invocations) problems.push(`completed ${f.completed} of ${f.invocations}`);
    if (f.lost !== 0) problems.push(`${f.lost} invocations lost`);
    if (f.completedTwice !== 0) problems.push(`${f.completedTwice} invocations completed twice`);
    if ((f.p99ExtraMs as number) > 5_000) problems.push(`p99 extra ${f.p99ExtraMs} ms > 5,000 ms`);
    if (f.invocations === 1_000 && f.kills !== 10) problems.push(`${f.kills} kills instead of 10`);
    return problems;
  },
};
