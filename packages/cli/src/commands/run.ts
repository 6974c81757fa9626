import { type NatsBus, waitForAgent } from '@baton/bus';
import { BatonError, EventHub } from '@baton/core';
import type { TeamResult } from '@baton/supervisor';
import {
  DEFAULT_TEAM_TIMEOUT_MS,
  DEFAULT_TOPIC,
  formatTeamResult,
  remoteMembers,
  type TeamOptions,
  type TeamRunEvent,
  teamReport,
} from '@baton/teams';
import type { Tracing } from '@baton/telemetry';
import { driveDurable, type WaitInterrupt } from '../durable-run.js';
import { CliError, EXIT } from '../errors.js';
import { type Io, selfCommand } from '../io.js';
import { loadTeam } from '../load-team.js';
import { connectNats } from '../nats.js';
import { type NatsAuthFlags, natsUrlOf } from '../nats-flags.js';
import { showProgress } from '../progress.js';
import { type DurableStores, durableStores, newRunId, shellCommand } from '../stores.js';
import { flushTracingAndExit, modelLine, tracingLine } from './run-summary.js';

export interface RunFlags extends NatsAuthFlags {
  topic?: string;
  /** Default NATS_URL; `false` (`--no-nats`) runs every member in this process whatever NATS_URL says. */
  nats?: string | false;
  namespace?: string;
  json?: boolean;
  quiet?: boolean;
  /** Team timeout in milliseconds. */
  timeout?: number;
  /** How the local researcher works (`--planner`): step by step, or a validated plan first. */
  planner?: 'react' | 'plan-execute';
  verbose?: boolean;
  /** With `--nats`: how long to wait for the team's workers to announce themselves, ms. Default 5 s. */
  waitWorkers?: number;
  /** Journal the run (files under `dir`, or JetStream with `--nats`) so it can pause and resume. */
  journal?: boolean;
  /** With `--journal`: wait for decisions when the run pauses (default); `--no-wait` exits with EXIT.PAUSED. */
  wait?: boolean;
  /** With `--journal` and no `--nats`: the directory of the journal and approvals (default `.baton`). */
  dir?: string;
  /** With `--journal`: the run id (default: the team's name, the time and a random suffix). */
  runId?: string;
  /** With `--journal`: a call waiting longer than this for a decision counts as denied, ms. */
  approvalTimeout?: number;
}

/**
 * `baton run <team>`: runs a catalogue team (or a team module) on a topic — locally, or with `--nats`
 * on workers started with `baton worker`. Progress on stderr; the report, verdict, per-agent table,
 * stop reason and trace id on stdout (or one JSON document with `--json`). Exit 0 when it completed.
 */
export async function runCommand(reference: string, flags: RunFlags, io: Io): Promise<number> {
  const topic = flags.topic?.trim() || DEFAULT_TOPIC;
  const nats = flags.nats === false ? undefined : natsUrlOf(flags.nats);
  if (flags.namespace && !nats)
    throw new CliError('--namespace only applies with --nats (or NATS_URL)', EXIT.USAGE);
  checkJournalFlags(flags, nats, reference);
  const quiet = flags.quiet === true || flags.json === true;
  const cleanup: (() => Promise<void>)[] = [];
  const stop = new AbortController();
  const waiting: WaitInterrupt = {};
  let interrupts = 0;
  let tracingReady: Promise<Tracing> | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (waiting.controller) {
      io.err(`${signal}: stopped waiting for decisions`);
      waiting.controller.abort(new BatonError('ABORTED', `interrupted by ${signal}`));
      return;
    }
    interrupts++;
    // Quitting at once still hands the spans that ended to the exporters, for a second at most.
    if (interrupts > 1) flushTracingAndExit(tracingReady, 130);
    io.err(`${signal}: stopping the team (again to quit at once)…`);
    stop.abort(new BatonError('ABORTED', `interrupted by ${signal}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    // Tracing loads the OpenTelemetry SDK; start it while the team is being resolved. Its flush is the
    // last cleanup step, whatever way the command ends.
    const starting = import('@baton/telemetry').then(({ startTracing }) =>
      startTracing({ serviceName: 'baton-cli' }),
    );
    tracingReady = starting;
    starting.catch(() => {});
    cleanup.push(() => starting.then((tracing) => tracing.shutdown()));
    let bus: NatsBus | undefined;
    const options: TeamOptions = { timeoutMs: flags.timeout ?? DEFAULT_TEAM_TIMEOUT_MS };
    if (flags.planner) {
      if (nats)
        throw new CliError(
          '--planner applies to local members; over NATS each worker decides',
          EXIT.USAGE,
          `${selfCommand()} ${shellCommand(['run', reference, '--no-nats', '--planner', flags.planner])}`,
        );
      options.planner = flags.planner;
    }
    if (nats) {
      bus = await connectNats(nats, `baton-cli-${process.pid}`, flags);
      const connected = bus;
      cleanup.push(() => connected.close());
      options.members = remoteMembers(bus, { ...(flags.namespace ? { namespace: flags.namespace } : {}) });
    }
    const loaded = await loadTeam(reference, options);
    const tracing: Tracing = await starting;
    if (bus && nats) {
      await requireWorkers(
        bus,
        loaded.members,
        nats,
        flags.namespace,
        flags.waitWorkers ?? 5_000,
        stop.signal,
      );
    }

    const events = new EventHub<TeamRunEvent>();
    const stopProgress = quiet
      ? () => {}
      : await showProgress(events, io, { spinner: io.interactive, verbose: flags.verbose === true });
    let result: TeamResult;
    let paused = false;
    let stores: DurableStores | undefined;
    try {
      if (flags.journal) {
        stores = durableStores({
          ...(bus ? { bus } : {}),
          ...(nats ? { url: nats } : {}),
          ...(flags.namespace ? { namespace: flags.namespace } : {}),
          ...(flags.dir ? { dir: flags.dir } : {}),
        });
        const runId = flags.runId ?? newRunId(loaded.team.name);
        const resumeCommand = `${selfCommand()} ${shellCommand([
          'resume',
          runId,
          ...stores.resumeFlags,
          ...(loaded.source === 'module' ? ['--team', reference] : []),
          ...(flags.timeout !== undefined ? ['--timeout', String(flags.timeout / 1_000)] : []),
        ])}`;
        io.err(`Run ${runId} (journaled: ${stores.describe})`);
        const outcome = await driveDurable({
          team: loaded.team,
          runId,
          start: { input: loaded.input(topic) },
          stores,
          resumeCommand,
          wait: flags.wait !== false,
          ...(flags.approvalTimeout !== undefined ? { approvalTimeoutMs: flags.approvalTimeout } : {}),
          events,
          signal: stop.signal,
          interrupt: waiting,
          io,
          json: flags.json === true,
        });
        result = outcome.result;
        paused = outcome.paused;
      } else {
        result = await loaded.team.run(loaded.input(topic), { events, signal: stop.signal });
      }
    } finally {
      stopProgress();
    }

    if (paused) {
      if (flags.json) io.out(JSON.stringify(result, null, 2));
      return EXIT.PAUSED;
    }
    if (flags.json) {
      io.out(JSON.stringify({ ...result, report: teamReport(result) }, null, 2));
    } else {
      // One model line, after the run: the models the members really called (over NATS, the workers').
      const model = modelLine(tracing.modelsUsed(), nats !== undefined);
      io.out(formatTeamResult(result, { model, traceHint: `${selfCommand()} trace ${result.traceId}` }));
      io.out(tracingLine(tracing));
      if (stores) io.out(`Run: ${result.runId} (journaled: ${stores.describe})`);
    }
    return result.status === 'completed' ? EXIT.OK : EXIT.NOT_COMPLETED;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    for (const step of cleanup.reverse()) await step().catch(() => {});
  }
}

/** The durability flags only mean something with `--journal`, and `--dir` only without `--nats`. */
function checkJournalFlags(flags: RunFlags, nats: string | undefined, reference: string): void {
  if (!flags.journal) {
    const given = [
      flags.wait === false ? '--no-wait' : undefined,
      flags.dir !== undefined ? '--dir' : undefined,
      flags.runId !== undefined ? '--run-id' : undefined,
      flags.approvalTimeout !== undefined ? '--approval-timeout' : undefined,
    ].filter((flag) => flag !== undefined);
    if (given.length > 0)
      throw new CliError(
        `${given.join(', ')} only appl${given.length === 1 ? 'ies' : 'y'} with --journal`,
        EXIT.USAGE,
      );
    return;
  }
  if (flags.dir !== undefined && nats) {
    throw new CliError(
      `--dir is for files: with --nats${flags.nats ? '' : ' (NATS_URL)'} the journal and approvals are on NATS`,
      EXIT.USAGE,
      flags.nats
        ? undefined
        : `${selfCommand()} ${shellCommand(['run', reference, '--no-nats', '--journal', '--dir', flags.dir])}`,
    );
  }
}

/** Every member needs a worker on the bus; say which are missing and how to start them. */
export async function requireWorkers(
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
  const ns = namespace ? ['--namespace', namespace] : [];
  const start = missing.map(
    (name) => `  ${selfCommand()} ${shellCommand(['worker', name, '--nats', url, ...ns])}`,
  );
  throw new CliError(
    `No worker for ${missing.join(', ')} on ${url}${namespace ? ` (namespace ${namespace})` : ''} after ${waitMs / 1000} s`,
    EXIT.UNAVAILABLE,
    `Start ${missing.length === 1 ? 'it' : 'each in a terminal of its own'}:\n${start.join('\n')}`,
  );
}
