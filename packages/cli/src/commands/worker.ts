import { type AgentWorker, natsApprovals, natsJournal, serveAgent, servedBundle } from '@baton/bus';
import type { AgentLike } from '@baton/core';
import { AGENT_NAMES, formatDuration, servableAgent } from '@baton/teams';
import { CliError, EXIT } from '../errors.js';
import type { Io } from '../io.js';
import { connectNats, withoutPassword } from '../nats.js';
import { type NatsAuthFlags, requireNatsUrl } from '../nats-flags.js';

export interface WorkerFlags extends NatsAuthFlags {
  /** Default NATS_URL. */
  nats?: string;
  namespace?: string;
  concurrency?: number;
  durable?: boolean;
  /** Registry heartbeat period, ms (default 2 s). */
  heartbeat?: number;
  /** On the first SIGINT/SIGTERM, how long runs in flight may take to finish before they are aborted, ms. */
  drainTimeout?: number;
  /**
   * Journal every run served (JetStream journal of the namespace) and pause calls that need a person
   * into the namespace's approvals: the team that invoked the run pauses, and resumes it later.
   */
  journal?: boolean;
  /** Serve Prometheus metrics on this port (`GET /metrics`). */
  metricsPort?: number;
}

const DEFAULT_DRAIN_TIMEOUT_MS = 30_000;

/**
 * `baton worker <agent>`: serves one specialist on NATS under its contract until SIGINT or SIGTERM,
 * then drains (runs in flight finish and reply, for at most `--drain-timeout`) and exits 0. A second
 * signal aborts what is left at once; their partial results are still replied.
 */
export async function workerCommand(name: string, flags: WorkerFlags, io: Io): Promise<number> {
  if (!AGENT_NAMES.includes(name)) {
    throw new CliError(`Unknown agent "${name}". Valid agents: ${AGENT_NAMES.join(', ')}`, EXIT.USAGE);
  }
  const url = requireNatsUrl(flags.nats, `worker ${name}`);
  const { contract, create } = servableAgent(name);
  const { startMetrics, startTracing } = await import('@baton/telemetry');
  const tracing = await startTracing({ serviceName: `baton-worker-${name}` });
  // OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set, a scrape endpoint with --metrics-port, else nothing.
  const metrics = await startMetrics({
    serviceName: `baton-worker-${name}`,
    ...(flags.metricsPort === undefined ? {} : { prometheusPort: flags.metricsPort }),
  }).catch(async (error: unknown) => {
    await tracing.shutdown();
    throw error;
  });
  const telemetryDown = () => Promise.all([tracing.shutdown(), metrics.shutdown()]);
  const bus = await connectNats(url, `baton-worker-${name}-${process.pid}`, flags).catch(
    async (error: unknown) => {
      await telemetryDown();
      throw error;
    },
  );
  let worker: AgentWorker;
  try {
    const agent = create();
    const bundle = servedBundle(agent);
    worker = await serveAgent(bus, logged(agent, io), {
      contract,
      // Rollout routes a run to the workers of its bundle: this one serves the bundle it was built from.
      // Durable workers take the work queue, which routes no bundle.
      ...(bundle !== undefined && !flags.durable ? { bundle } : {}),
      ...(flags.namespace ? { namespace: flags.namespace } : {}),
      ...(flags.concurrency ? { concurrency: flags.concurrency } : {}),
      ...(flags.durable ? { durable: true } : {}),
      ...(flags.journal ? journaled(bus, flags.namespace) : {}),
      heartbeatMs: flags.heartbeat ?? 2_000,
    });
  } catch (error) {
    await bus.close().catch(() => {});
    await telemetryDown();
    throw error;
  }
  io.err(
    `worker ${name} serving ${worker.contract} on ${withoutPassword(url)} (namespace ${worker.namespace}, ` +
      `concurrency ${flags.concurrency ?? 16}${worker.durable ? ', durable' : ''}${flags.journal ? ', journaled' : ''}) as ${worker.instance} — Ctrl-C to stop`,
  );
  if (metrics.prometheus) io.err(`metrics: ${metrics.prometheus}`);

  return new Promise<number>((resolve) => {
    let signals = 0;
    const drainMs = flags.drainTimeout ?? DEFAULT_DRAIN_TIMEOUT_MS;
    const onSignal = (signal: NodeJS.Signals) => {
      signals++;
      if (signals === 1) {
        const runs = worker.inFlight;
        io.err(
          `${signal}: draining ${runs} run${runs === 1 ? '' : 's'} in flight for up to ${formatDuration(drainMs)}` +
            ' (again to abort them now)…',
        );
        void shutdown(() => worker.drain({ timeoutMs: drainMs }));
      } else {
        io.err(`${signal}: aborting the runs in flight…`);
        void shutdown(() => worker.stop());
      }
    };
    let closing: Promise<void> | undefined;
    const shutdown = async (stopWorker: () => Promise<void>) => {
      await stopWorker();
      closing ??= (async () => {
        await bus.close().catch(() => {});
        await telemetryDown();
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        io.err(`worker ${name} stopped`);
        resolve(EXIT.OK);
      })();
      await closing;
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

/** The journal and approvals of the namespace, on the worker's own connection. */
function journaled(bus: Parameters<typeof natsJournal>[0], namespace: string | undefined) {
  const ns = namespace ? { namespace } : {};
  return { journal: natsJournal(bus, ns), approvals: natsApprovals(bus, ns) };
}

/** The agent, with a line on stderr when each run starts and ends. */
function logged(agent: AgentLike, io: Io): AgentLike {
  return {
    name: agent.name,
    description: agent.description,
    // The registry shows the version this worker serves.
    ...bundleField(agent),
    run: async (input, options) => {
      const started = performance.now();
      io.err(`[${agent.name}] run started${options?.parentRunId ? ` (for ${options.parentRunId})` : ''}`);
      const result = await agent.run(input, options);
      const tokens = result.usage.inputTokens + result.usage.outputTokens;
      io.err(
        `[${agent.name}] run ${result.runId} ${result.status} in ${formatDuration(performance.now() - started)} (${result.steps} step${result.steps === 1 ? '' : 's'}, ${tokens} token${tokens === 1 ? '' : 's'})`,
      );
      return result;
    },
  };
}

function bundleField(agent: AgentLike): { bundle?: string } {
  const bundle = servedBundle(agent);
  return bundle === undefined ? {} : { bundle };
}
