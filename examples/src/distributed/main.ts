/**
 * The research team across processes: researcher, writer and reviewer each run in their own worker
 * process (worker.ts) and the team calls them over NATS with `remoteAgent` — the same team code as the
 * in-process examples, only the members differ. Deadlines, cancellation, the team budget and one trace
 * cross the process boundaries.
 *
 * Uses NATS_URL when set; otherwise starts a nats-server from PATH on a free port with a temporary store.
 * Every process it starts is stopped before it returns — on success, failure, or Ctrl-C.
 *
 *   npm run demo:distributed
 */
import { randomBytes } from 'node:crypto';
import { NatsBus, waitForAgent } from '@baton/bus';
import { startNatsServer } from '@baton/bus/testing';
import { BatonError, EventHub } from '@baton/core';
import type { TeamResult } from '@baton/supervisor';
import {
  catalogueTeam,
  DEFAULT_TOPIC,
  formatTeamResult,
  modelSetup,
  printTeamProgress,
  remoteMembers,
  type TeamRunEvent,
} from '@baton/teams';
import { batonCommand, type ExampleOutput, runExample, writers } from '../support/main.js';
import { Cleanup, spawnWorker, type WorkerProcess } from './processes.js';

export interface DistributedExampleOptions extends ExampleOutput {
  topic?: string;
  /** A running NATS server; default NATS_URL, else one started for this run. */
  natsUrl?: string;
  /** Keeps this run's workers apart from any others on the same server; default a fresh one. */
  namespace?: string;
  /** How long to wait for the workers to announce themselves. Default 20 s. */
  workerTimeoutMs?: number;
}

export interface DistributedRun {
  result: TeamResult | undefined;
  /** Every process this run started (all stopped by the time `main` returns). */
  pids: { nats?: number; workers: Record<string, number> };
}

export async function main(options: DistributedExampleOptions = {}): Promise<DistributedRun> {
  const { out, progress } = writers(options);
  const entry = catalogueTeam('research');
  const namespace = options.namespace ?? `distributed-${randomBytes(4).toString('hex')}`;
  const run: DistributedRun = { result: undefined, pids: { workers: {} } };
  const cleanup = new Cleanup();
  // Ctrl-C or a SIGTERM cancels the team and falls through to the cleanup below.
  const stop = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    progress(`${signal}: stopping the team and every process it started…`);
    stop.abort(new BatonError('ABORTED', `interrupted by ${signal}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    // 1. A NATS server: the one given, or our own on a free port.
    let natsUrl = options.natsUrl ?? process.env.NATS_URL;
    if (!natsUrl) {
      const server = await startNatsServer({ jetstream: true });
      cleanup.push(() => server.stop());
      run.pids.nats = server.pid;
      natsUrl = server.url;
      progress(`[distributed] nats-server pid ${server.pid} listening on ${natsUrl}`);
    }
    const bus = await NatsBus.connect({
      servers: natsUrl,
      name: 'baton-distributed-example',
      connectTimeoutMs: 5_000,
    });
    cleanup.push(() => bus.close());

    // 2. One worker process per specialist, each serving its agent on the bus.
    const workers: WorkerProcess[] = [];
    for (const name of entry.members) {
      const worker = spawnWorker(name, natsUrl, { BATON_NAMESPACE: namespace }, (line) => progress(line));
      workers.push(worker);
      run.pids.workers[name] = worker.pid;
      cleanup.push(() => worker.stop());
      progress(`[distributed] worker ${name} pid ${worker.pid}`);
    }
    // Ready when each has announced itself on the registry; a worker that dies first fails the run at once.
    const ready = Promise.all(
      entry.members.map((name) =>
        waitForAgent(bus, name, {
          namespace,
          timeoutMs: options.workerTimeoutMs ?? 20_000,
          signal: stop.signal,
        }),
      ),
    );
    await Promise.race([ready, ...workers.map((worker) => worker.died)]);
    progress(`[distributed] ${workers.length} workers ready in namespace ${namespace}`);

    // 3. The same research team, with remote members instead of local ones.
    const team = entry.create({ members: remoteMembers(bus, { namespace }) });
    const events = new EventHub<TeamRunEvent>();
    printTeamProgress(events, { write: progress });
    const result = await team.run(entry.input(options.topic ?? DEFAULT_TOPIC), {
      events,
      signal: stop.signal,
    });
    run.result = result;
    out(
      formatTeamResult(result, {
        // The workers inherit this environment, so they use the same model settings.
        model: modelSetup().line,
        traceHint: `${batonCommand()} trace ${result.traceId}`,
      }),
    );
    out(
      `Workers: ${workers.map((worker) => `${worker.name} (pid ${worker.pid})`).join(', ')} over ${natsUrl}`,
    );
    return run;
  } finally {
    await cleanup.run();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    progress('[distributed] every process it started has stopped');
  }
}

runExample(import.meta.url, 'distributed', async () => {
  const { result } = await main({ topic: process.argv[2] ?? DEFAULT_TOPIC });
  return result;
});
