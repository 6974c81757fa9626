import { type NatsBus, waitForAgent } from '@baton/bus';
import { BatonError, EventHub } from '@baton/core';
import {
  DEFAULT_TEAM_TIMEOUT_MS,
  DEFAULT_TOPIC,
  formatTeamResult,
  modelSetup,
  remoteMembers,
  type TeamOptions,
  type TeamRunEvent,
  teamReport,
} from '@baton/examples';
import type { Tracing } from '@baton/examples/tracing';
import type { TeamResult } from '@baton/supervisor';
import { CliError, EXIT } from '../errors.js';
import { type Io, selfCommand } from '../io.js';
import { loadTeam } from '../load-team.js';
import { connectNats } from '../nats.js';
import { showProgress } from '../progress.js';

export interface RunFlags {
  topic?: string;
  nats?: string;
  namespace?: string;
  json?: boolean;
  quiet?: boolean;
  /** Team timeout in milliseconds. */
  timeout?: number;
  verbose?: boolean;
  /** With `--nats`: how long to wait for the team's workers to announce themselves, ms. Default 5 s. */
  waitWorkers?: number;
}

/**
 * `baton run <team>`: runs a catalogue team (or a team module) on a topic — locally, or with `--nats`
 * on workers started with `baton worker`. Progress on stderr; the report, verdict, per-agent table,
 * stop reason and trace id on stdout (or one JSON document with `--json`). Exit 0 when it completed.
 */
export async function runCommand(reference: string, flags: RunFlags, io: Io): Promise<number> {
  const topic = flags.topic?.trim() || DEFAULT_TOPIC;
  if (flags.namespace && !flags.nats) throw new CliError('--namespace only applies with --nats', EXIT.USAGE);
  const quiet = flags.quiet === true || flags.json === true;
  const cleanup: (() => Promise<void>)[] = [];
  const stop = new AbortController();
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    io.err(`${signal}: stopping the team (again to quit at once)…`);
    stop.abort(new BatonError('ABORTED', `interrupted by ${signal}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    // Tracing loads the OpenTelemetry SDK; start it while the team is being resolved.
    const tracingReady = import('@baton/examples/tracing').then(({ startTracing }) =>
      startTracing({ serviceName: 'baton-cli' }),
    );
    tracingReady.catch(() => {});
    let bus: NatsBus | undefined;
    const options: TeamOptions = { timeoutMs: flags.timeout ?? DEFAULT_TEAM_TIMEOUT_MS };
    if (flags.nats) {
      bus = await connectNats(flags.nats, `baton-cli-${process.pid}`);
      const connected = bus;
      cleanup.push(() => connected.close());
      options.members = remoteMembers(bus, { ...(flags.namespace ? { namespace: flags.namespace } : {}) });
    }
    const loaded = await loadTeam(reference, options);
    const tracing: Tracing = await tracingReady;
    cleanup.push(() => tracing.shutdown());
    if (bus && flags.nats) {
      await requireWorkers(
        bus,
        loaded.members,
        flags.nats,
        flags.namespace,
        flags.waitWorkers ?? 5_000,
        stop.signal,
      );
    }

    const model = flags.nats
      ? 'Model: chosen by each worker (its environment decides: a real provider, or the offline model)'
      : modelSetup().line;
    if (!quiet) io.err(model);
    const events = new EventHub<TeamRunEvent>();
    const stopProgress = quiet
      ? () => {}
      : await showProgress(events, io, { spinner: io.interactive, verbose: flags.verbose === true });
    let result: TeamResult;
    try {
      result = await loaded.team.run(loaded.input(topic), { events, signal: stop.signal });
    } finally {
      stopProgress();
    }

    if (flags.json) {
      io.out(JSON.stringify({ ...result, report: teamReport(result) }, null, 2));
    } else {
      io.out(formatTeamResult(result, { model, traceHint: `${selfCommand()} trace ${result.traceId}` }));
      io.out(
        `Trace files: ${tracing.dir}${tracing.otlp ? ` (also sent to ${process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || process.env.OTEL_EXPORTER_OTLP_ENDPOINT})` : ''}`,
      );
    }
    return result.status === 'completed' ? EXIT.OK : EXIT.NOT_COMPLETED;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    for (const step of cleanup.reverse()) await step().catch(() => {});
  }
}

/** Every member needs a worker on the bus; say which are missing and how to start them. */
async function requireWorkers(
  bus: NatsBus,
  members: readonly string[],
  url: string,
  namespace: string | undefined,
  waitMs: number,
  signal: AbortSignal,
): Promise<void> {
  const waits = await Promise.allSettled(
    members.map((name) =>
      waitForAgent(bus, name, { ...(namespace ? { namespace } : {}), timeoutMs: waitMs, signal }),
    ),
  );
  if (signal.aborted) throw new CliError('Interrupted while waiting for the workers', EXIT.NOT_COMPLETED);
  const missing = members.filter((_, index) => waits[index]?.status === 'rejected');
  if (missing.length === 0) return;
  const ns = namespace ? ` --namespace ${namespace}` : '';
  throw new CliError(
    `No worker for ${missing.join(', ')} on ${url}${namespace ? ` (namespace ${namespace})` : ''} after ${waitMs / 1000} s`,
    EXIT.UNAVAILABLE,
    `Start them: ${missing.map((name) => `${selfCommand()} worker ${name} --nats ${url}${ns}`).join('  ;  ')}`,
  );
}
