import type { NatsBus } from '@baton/bus';
import { BatonError, EventHub, type JournalRecordOf } from '@baton/core';
import {
  DEFAULT_TEAM_TIMEOUT_MS,
  formatTeamResult,
  remoteMembers,
  TEAM_NAMES,
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
import type { NatsAuthFlags } from '../nats-flags.js';
import { showProgress } from '../progress.js';
import { type DurableStores, durableStores, envNatsUrl, shellCommand } from '../stores.js';
import { requireWorkers } from './run.js';
import { flushTracingAndExit, modelLine } from './run-summary.js';

export interface ResumeFlags extends NatsAuthFlags {
  nats?: string;
  namespace?: string;
  dir?: string;
  /** The team to resume with (a catalogue name or a module path); default the journal's team name. */
  team?: string;
  /** Team timeout in milliseconds: the one the run was started with. */
  timeout?: number;
  /** Wait for decisions when the run pauses again (default); `--no-wait` exits with EXIT.PAUSED. */
  wait?: boolean;
  /** Resume a journal written by another team configuration anyway. */
  migrate?: boolean;
  approvalTimeout?: number;
  waitWorkers?: number;
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
}

/**
 * `baton resume <runId>`: continues a journaled team run — paused for approval, or whose process died —
 * in this process. The team comes from the journal (`run.started` names it; `--team` overrides it):
 * handoffs whose result is recorded replay, members that were running resume from their own journals,
 * recorded tool calls never run again. A run that had finished prints its recorded result.
 */
export async function resumeCommand(runId: string, flags: ResumeFlags, io: Io): Promise<number> {
  if (flags.dir !== undefined && flags.nats !== undefined) {
    throw new CliError('Give either --dir or --nats, not both', EXIT.USAGE);
  }
  const url = flags.dir === undefined ? (flags.nats ?? envNatsUrl()) : undefined;
  if (flags.namespace && !url)
    throw new CliError('--namespace only applies with --nats (or NATS_URL)', EXIT.USAGE);
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
    const starting = import('@baton/telemetry').then(({ startTracing }) =>
      startTracing({ serviceName: 'baton-cli' }),
    );
    tracingReady = starting;
    starting.catch(() => {});
    // The flush is the last cleanup step, whatever way the command ends.
    cleanup.push(() => starting.then((tracing) => tracing.shutdown()));
    let bus: NatsBus | undefined;
    let stores: DurableStores;
    if (url) {
      bus = await connectNats(url, `baton-cli-${process.pid}`, flags);
      const connected = bus;
      cleanup.push(() => connected.close());
      stores = durableStores({ bus, url, ...(flags.namespace ? { namespace: flags.namespace } : {}) });
    } else {
      stores = durableStores(flags.dir !== undefined ? { dir: flags.dir } : {});
    }

    const entries = await stores.journal.read(runId);
    const started = entries.find((entry) => entry.record.type === 'run.started')?.record as
      | JournalRecordOf<'run.started'>
      | undefined;
    if (!started) throw await unknownRun(runId, stores);
    if (started.kind !== 'team') {
      throw new CliError(
        started.parentRunId
          ? `Run ${runId} is the run of member "${started.name}" in team run ${started.parentRunId}`
          : `Run ${runId} is a single-agent run of "${started.name}", not a team run`,
        EXIT.USAGE,
        started.parentRunId
          ? `Resume the team: ${selfCommand()} ${shellCommand(['resume', started.parentRunId, ...stores.resumeFlags])}`
          : 'Resume it from your application: resume(agent, runId, { journal, approvals })',
      );
    }
    const reference = flags.team ?? started.name;
    if (flags.team === undefined && !TEAM_NAMES.includes(started.name)) {
      throw new CliError(
        `Run ${runId} was started by team "${started.name}", which is not in the catalogue (${TEAM_NAMES.join(', ')})`,
        EXIT.USAGE,
        'Give the module the run was started with: --team ./path/to/team.js',
      );
    }
    const options: TeamOptions = { timeoutMs: flags.timeout ?? DEFAULT_TEAM_TIMEOUT_MS };
    if (bus) options.members = remoteMembers(bus, flags.namespace ? { namespace: flags.namespace } : {});
    const loaded = await loadTeam(reference, options);
    const tracing: Tracing = await starting;
    const finished = entries.some((entry) => entry.record.type === 'run.finished');
    // A finished run only reads its recorded result: no member runs, so it needs no worker.
    if (bus && url && !finished) {
      await requireWorkers(
        bus,
        loaded.members,
        url,
        flags.namespace,
        flags.waitWorkers ?? 5_000,
        stop.signal,
      );
    }
    if (!quiet) {
      io.err(
        finished
          ? `Run ${runId} had finished already: its recorded result follows (nothing runs again).`
          : `Resuming run ${runId} of team ${loaded.team.name} (journaled: ${stores.describe})`,
      );
    }
    const events = new EventHub<TeamRunEvent>();
    const stopProgress = quiet
      ? () => {}
      : await showProgress(events, io, { spinner: io.interactive, verbose: flags.verbose === true });
    const resumeAgain = `${selfCommand()} ${shellCommand([
      'resume',
      runId,
      ...stores.resumeFlags,
      ...(flags.team !== undefined ? ['--team', flags.team] : []),
      ...(flags.timeout !== undefined ? ['--timeout', String(flags.timeout / 1_000)] : []),
    ])}`;
    let outcome: Awaited<ReturnType<typeof driveDurable>>;
    try {
      outcome = await driveDurable({
        team: loaded.team,
        runId,
        stores,
        resumeCommand: resumeAgain,
        wait: flags.wait !== false,
        ...(flags.approvalTimeout !== undefined ? { approvalTimeoutMs: flags.approvalTimeout } : {}),
        ...(flags.migrate ? { migrate: true } : {}),
        events,
        signal: stop.signal,
        interrupt: waiting,
        io,
        json: flags.json === true,
      });
    } catch (error) {
      if (BatonError.is(error, 'JOURNAL_CONFIG_MISMATCH')) {
        throw new CliError(
          error.message,
          EXIT.USAGE,
          'Resume with the team and options the run started with (the same --team, --timeout), or pass --migrate to replay its records under this configuration',
        );
      }
      throw error;
    } finally {
      stopProgress();
    }
    const { result, paused } = outcome;
    if (paused) {
      if (flags.json) io.out(JSON.stringify(result, null, 2));
      return EXIT.PAUSED;
    }
    if (flags.json) {
      io.out(JSON.stringify({ ...result, report: teamReport(result) }, null, 2));
    } else {
      // One model line, after the run: the models the members really called (over NATS, the workers').
      const model = modelLine(tracing.modelsUsed(), bus !== undefined);
      io.out(formatTeamResult(result, { model, traceHint: `${selfCommand()} trace ${result.traceId}` }));
      io.out(`Run: ${result.runId} (journaled: ${stores.describe})`);
    }
    return result.status === 'completed' ? EXIT.OK : EXIT.NOT_COMPLETED;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    for (const step of cleanup.reverse()) await step().catch(() => {});
  }
}

async function unknownRun(runId: string, stores: DurableStores): Promise<CliError> {
  const recent = await stores.journal.runs({ limit: 5 }).catch(() => [] as string[]);
  return new CliError(
    `No journaled run "${runId}" in ${stores.describe}`,
    EXIT.USAGE,
    recent.length > 0
      ? `Recent runs there: ${recent.join(', ')}`
      : `Start one: ${selfCommand()} ${shellCommand(['run', 'research', '--journal', ...stores.resumeFlags])}`,
  );
}
