import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ConsoleRunner, ConsoleTeam, StartedRun, StartRunRequest } from '@baton/console';
import { BatonError, EventHub, type RunJournal, waitForDecisions } from '@baton/core';
import { resumeTeam, type TeamResult, type TeamRunOptions } from '@baton/supervisor';
import { DEFAULT_TEAM_TIMEOUT_MS, TEAMS, type TeamRunEvent } from '@baton/teams';
import { CliError, EXIT } from '../errors.js';
import type { Io } from '../io.js';
import { type LoadedTeam, loadTeam } from '../load-team.js';
import { type DurableStores, durableStores, newRunId } from '../stores.js';

export interface ViewFlags {
  port?: number;
  host?: string;
  /** The state directory: `<dir>/traces`, `<dir>/journal`, `<dir>/approvals` (default `.baton`). */
  dir?: string;
  /** Team modules the start page offers besides the catalogue (`--team ./my-team.js`, repeatable). */
  team?: string[];
  /** Where eval reports are (default `bench/results` when it exists). */
  evals?: string;
  /** Team timeout for runs started from the page, ms. */
  timeout?: number;
}

export const DEFAULT_VIEW_PORT = 4477;

/**
 * `baton view`: the web console on 127.0.0.1 — every run in `--dir` (traces, journals, approvals), live,
 * and a start page that runs catalogue teams in this process, journaled and traced into the same
 * directory, so they show up like any other run and their destructive calls wait for a decision.
 */
export async function viewCommand(flags: ViewFlags, io: Io): Promise<number> {
  const host = flags.host ?? '127.0.0.1';
  const dir = resolve(flags.dir ?? '.baton');
  const traceDir = join(dir, 'traces');
  const evalDir = flags.evals !== undefined ? resolve(flags.evals) : resolve('bench/results');
  const [{ serveConsole }, { startTracing }] = await Promise.all([
    import('@baton/console'),
    import('@baton/telemetry'),
  ]);
  // Runs started here are traced like `baton run`'s, into the directory the console reads.
  const tracing = await startTracing({ serviceName: 'baton-console', dir: traceDir });
  const stores = durableStores({ dir });
  const runner = await localRunner(stores, flags, io);
  let server: Awaited<ReturnType<typeof serveConsole>>;
  try {
    server = await serveConsole({
      traceDir,
      journalDir: join(dir, 'journal'),
      approvalsDir: join(dir, 'approvals'),
      runner: runner.runner,
      ...(existsSync(evalDir) ? { evalDir } : {}),
      host,
      port: flags.port ?? DEFAULT_VIEW_PORT,
    });
  } catch (error) {
    await tracing.shutdown();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new CliError(
        `Port ${flags.port ?? DEFAULT_VIEW_PORT} is in use`,
        EXIT.USAGE,
        'Pick another: baton view --port 4478 (or --port 0 for any free port)',
      );
    }
    throw error;
  }
  io.out(`Baton console: ${server.url}`);
  io.err(
    `Reading ${dir} (traces, journal, approvals). Runs started from the page run in this process. Ctrl-C stops.`,
  );
  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '::1') {
    io.err(
      `WARNING: listening on ${host}: anyone who can connect sees tool arguments and can decide approvals.`,
    );
  }
  await new Promise<void>((done) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      done();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  io.err('Stopping: runs in progress are aborted (journaled runs resume with `baton resume`).');
  runner.abort();
  await server.close();
  await Promise.race([runner.settled(), new Promise((r) => setTimeout(r, 5_000).unref())]);
  await tracing.shutdown();
  await stores.close();
  return EXIT.OK;
}

interface LocalRunner {
  runner: ConsoleRunner;
  abort(): void;
  settled(): Promise<void>;
}

/** Catalogue teams (and `--team` modules) run in this process, journaled so calls can wait for people. */
async function localRunner(stores: DurableStores, flags: ViewFlags, io: Io): Promise<LocalRunner> {
  const teams: ConsoleTeam[] = Object.values(TEAMS).map((entry) => ({
    name: entry.name,
    description: entry.description,
    members: [...entry.members],
  }));
  const references = new Map<string, string>(teams.map((team) => [team.name, team.name]));
  const timeoutMs = flags.timeout ?? DEFAULT_TEAM_TIMEOUT_MS;
  for (const reference of flags.team ?? []) {
    const loaded = await loadTeam(reference, { timeoutMs });
    if (references.has(loaded.team.name)) {
      throw new CliError(
        `--team ${reference}: a team named "${loaded.team.name}" is already offered`,
        EXIT.USAGE,
      );
    }
    references.set(loaded.team.name, reference);
    teams.push({
      name: loaded.team.name,
      description: `${loaded.team.description ?? 'a team module'} (${reference})`,
      members: [],
    });
  }
  const stop = new AbortController();
  const running = new Set<Promise<unknown>>();
  const start = async (request: StartRunRequest): Promise<StartedRun> => {
    const reference = references.get(request.team);
    if (!reference) throw new BatonError('TEAM_UNKNOWN', `Unknown team "${request.team}"`);
    // A fresh team per run: teams keep no state between runs, but members may.
    const loaded = await loadTeam(reference, { timeoutMs });
    const runId = newRunId(loaded.team.name);
    const done = drive(loaded, runId, request, stores, stop.signal).then(
      (result) => {
        io.err(`[${runId}] ${result.status}: ${result.stopReason.message}`);
        return { status: result.status };
      },
      (error: unknown) => {
        io.err(`[${runId}] failed: ${(error as Error).message}`);
        throw error;
      },
    );
    running.add(done);
    done.catch(() => undefined).finally(() => running.delete(done));
    io.err(`[${runId}] started by ${request.user}: ${request.team} on "${request.topic}"`);
    return { runId, done };
  };
  return {
    runner: { teams: () => teams, start },
    abort: () => stop.abort(new BatonError('ABORTED', 'the console stopped')),
    settled: async () => {
      await Promise.allSettled([...running]);
    },
  };
}

/**
 * Runs a team journaled and, each time it pauses for approval, waits for the decisions (made on the
 * page, by `baton approvals`, or by the gateway) and resumes it from its journal — as `baton run
 * --journal` does, with the user who started it on every span.
 */
async function drive(
  loaded: LoadedTeam,
  runId: string,
  request: StartRunRequest,
  stores: DurableStores,
  signal: AbortSignal,
): Promise<TeamResult> {
  const events = new EventHub<TeamRunEvent>();
  const options: TeamRunOptions & { journal: RunJournal } = {
    journal: stores.journal,
    approvals: stores.approvals,
    runId,
    userId: request.user,
    events,
    signal,
  };
  let result = await loaded.team.run(loaded.input(request.topic), options);
  const decided = new Set<string>();
  while (result.status === 'awaiting_approval' && !signal.aborted) {
    const pending = result.pending ?? [];
    const keys = pending.map((call) => `${call.runId}\u0000${call.toolCallId}`);
    // Paused again on calls already decided: resuming would loop; the journal says why.
    if (pending.length === 0 || keys.every((key) => decided.has(key))) return result;
    await waitForDecisions(
      stores.approvals,
      pending.map((call) => ({ runId: call.runId, toolCallId: call.toolCallId })),
      { signal },
    );
    for (const key of keys) decided.add(key);
    result = await resumeTeam(loaded.team, runId, options);
  }
  return result;
}
