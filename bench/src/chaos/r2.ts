/**
 * R2: core calls survive nats-server restarts. 200 core (non-durable) calls, each running a few seconds
 * on one of 2 worker processes, are in flight while the nats-server is SIGKILLed and restarted twice.
 * Replies published while a client was reconnecting are lost by NATS core; the callers must recover the
 * ones that finished, keep waiting for the ones still running, and fail the unknowable ones soon with a
 * typed error. Nothing may wait for its (120 s) deadline: hung 0, completed ≥ 195.
 */
import { listAgents, NatsBus, remoteAgent } from '@baton/bus';
import { echoContract, startNatsServer } from '@baton/bus/testing';
import type { RunResult } from '@baton/core';
import { type ChaosProcess, startModule } from './processes.js';
import type { RecoveryWorkerConfig } from './recovery-worker.js';
import { type ChaosScenario, percentile, scaled } from './scenario.js';

const NAMESPACE = 'chaos-r2';
const WORKERS = 2;
const RESTARTS = 2;
/** The server stays down this long each time (then the time it takes to start). */
const OUTAGE_MS = 1_000;
const MIN_RUN_MS = 1_500;
const MAX_RUN_MS = 9_000;
/** A call still unsettled this long after the last restart is hung (its deadline is 120 s). */
const HUNG_AFTER_MS = 60_000;

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const r2: ChaosScenario = {
  key: 'r2',
  description: '200 core calls in flight across 2 nats-server restarts: none hangs, ≥ 195 complete',
  async run(options) {
    const calls = scaled(options, 200, 40);
    const server = await startNatsServer();
    const workers: ChaosProcess[] = [];
    const bus = await NatsBus.connect({ servers: server.url, name: 'chaos-r2-caller' });
    const reconnects: number[] = [];
    bus.onStatus((status) => {
      if (status === 'connected') reconnects.push(Date.now());
    });
    try {
      for (let index = 1; index <= WORKERS; index++) {
        const config: RecoveryWorkerConfig = {
          url: server.url,
          namespace: NAMESPACE,
          instance: `r2-w${index}`,
          durable: false,
          concurrency: calls,
        };
        workers.push(startModule('recovery-worker.js', [JSON.stringify(config)]));
      }
      await Promise.all(
        workers.map((worker, index) => worker.waitFor(new RegExp(`^READY r2-w${index + 1}$`))),
      );
      const remote = remoteAgent(bus, {
        name: 'echo',
        contract: echoContract,
        namespace: NAMESPACE,
        timeoutMs: 120_000,
      });

      const next = random(2);
      type Outcome = { result: RunResult; at: number };
      const outcomes: Array<Outcome | undefined> = new Array(calls).fill(undefined);
      const ends: number[] = [];
      const launched = Date.now();
      const all = Array.from({ length: calls }, async (_, index) => {
        await sleep(Math.floor((index / calls) * 500));
        const runMs = Math.round(MIN_RUN_MS + next() * (MAX_RUN_MS - MIN_RUN_MS));
        ends[index] = Date.now() + runMs;
        const result = await remote.run({ text: `call-${index}`, delayMs: runMs });
        outcomes[index] = { result, at: Date.now() };
      });
      // Every call on a worker before the first restart: a call sent into a dead server is another story.
      for (const until = Date.now() + 15_000; ; ) {
        const infos = await listAgents(bus, { namespace: NAMESPACE, timeoutMs: 200 });
        const held = infos.reduce((sum, info) => sum + info.inFlight + info.queued, 0);
        if (held + outcomes.filter(Boolean).length >= calls) break;
        if (Date.now() > until) throw new Error(`only ${held} of ${calls} calls reached a worker`);
      }
      const outages: Array<[number, number]> = [];
      for (let restart = 1; restart <= RESTARTS; restart++) {
        const down = Date.now();
        await server.kill('SIGKILL');
        await sleep(OUTAGE_MS);
        await server.restart();
        outages.push([down, Date.now()]);
        options.log(`restart ${restart}/${RESTARTS}: down ${Date.now() - down} ms`);
        if (restart < RESTARTS) await sleep(2_500);
      }
      const lastRestart = Date.now();
      await Promise.race([Promise.all(all), sleep(HUNG_AFTER_MS)]);

      const settled = outcomes.filter((outcome): outcome is Outcome => outcome !== undefined);
      const completed = settled.filter(({ result }) => result.status === 'completed');
      const errors = settled.filter(({ result }) => result.status !== 'completed');
      const typed = errors.filter(({ result }) => typeof result.error?.code === 'string');
      const codes: Record<string, number> = {};
      for (const { result } of errors) {
        const code = result.error?.code ?? 'untyped';
        codes[code] = (codes[code] ?? 0) + 1;
      }
      // How long after the caller's latest reconnect each error came.
      const afterReconnect = typed.map(({ at }) => {
        const before = reconnects.filter((time) => time <= at);
        return at - (before.length > 0 ? (before[before.length - 1] as number) : launched);
      });
      const finishedDuringOutage = ends.filter((end) =>
        outages.some(([down, up]) => end >= down && end <= up),
      ).length;
      return {
        calls,
        restarts: RESTARTS,
        completed: completed.length,
        typedErrors: typed.length,
        hung: calls - settled.length,
        // null: no call failed, so there is no error to time.
        errorAfterReconnectP99Ms: typed.length > 0 ? Math.round(percentile(afterReconnect, 99)) : null,
        errorCodes: codes,
        retryableErrors: errors.filter(({ result }) => result.error?.retryable === true).length,
        finishedDuringOutage,
        lastSettledAfterRestartMs: Math.max(0, ...settled.map(({ at }) => at - lastRestart)),
        outageMs: outages.map(([down, up]) => up - down),
        runMs: { min: MIN_RUN_MS, max: MAX_RUN_MS },
        workers: WORKERS,
      };
    } finally {
      await bus.close();
      await Promise.all(workers.map((worker) => worker.kill()));
      await server.stop();
    }
  },
  check(f) {
    const problems: string[] = [];
    if (f.hung !== 0) problems.push(`${f.hung} calls hung`);
    const minimum = Math.ceil((f.calls as number) * 0.975);
    if ((f.completed as number) < minimum)
      problems.push(`completed ${f.completed} < ${minimum} of ${f.calls}`);
    const untyped =
      (f.calls as number) - (f.hung as number) - (f.completed as number) - (f.typedErrors as number);
    if (untyped > 0) problems.push(`${untyped} calls failed without a typed error`);
    return problems;
  },
};
