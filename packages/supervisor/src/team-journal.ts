import { randomUUID } from 'node:crypto';
import {
  type AgentLike,
  agentConfigHash,
  BatonError,
  type Bundle,
  hashConfig,
  isAgent,
  isHandoffContract,
  JournalSession,
  type RunJournal,
  type RunResult,
  requireJournaled,
  runResultSchema,
} from '@baton/core';
import type { Team, TeamConfig, TeamResult, TeamRunOptions } from './types.js';

export interface OpenedTeam {
  runId: string;
  session: JournalSession | undefined;
  /** The journal could not be opened: the team starts stopped and says why. */
  failure?: BatonError;
  /** The team's input: the recorded one when the team is resumed from its journal. */
  input: unknown;
  /** The team already finished: its recorded result (nothing runs again). */
  finished?: TeamResult;
  /** The team's bundle hash, when the team knows its bundle. */
  bundle?: string;
}

/**
 * Opens a team run's journal when the options ask for one: a new run records how it started, a run with
 * records resumes from them (the orchestrator runs again from the top and every handoff whose result is
 * recorded replays instead of running), a finished run returns its recorded result.
 */
export async function openTeamJournal(
  config: TeamConfig,
  options: TeamRunOptions,
  input: unknown,
  describe: () => unknown,
  bundleOf?: () => Bundle,
): Promise<OpenedTeam> {
  const runId = options.runId ?? randomUUID();
  const bundle = bundleOf?.().hash;
  const opened = await openJournal(config, options, input, describe, runId, bundle);
  if (bundle !== undefined) opened.bundle = bundle;
  return opened;
}

async function openJournal(
  config: TeamConfig,
  options: TeamRunOptions,
  input: unknown,
  describe: () => unknown,
  runId: string,
  bundle: string | undefined,
): Promise<OpenedTeam> {
  if (!options.journal) return { runId, session: undefined, input };
  let session: JournalSession;
  try {
    // An id minted here has no records: nothing to read before the run starts.
    session = await JournalSession.open(
      options.journal,
      runId,
      options.runId === undefined ? { fresh: true } : {},
    );
  } catch (error) {
    return { runId, session: undefined, input, failure: BatonError.wrap(error) };
  }
  const hash = teamConfigHash(config.name, describe);
  if (session.finished) {
    return { runId, session, input: session.started?.input, finished: session.finished.result as TeamResult };
  }
  const started = session.started;
  if (started) {
    if (started.configHash !== hash && options.migrate !== true) {
      throw new BatonError(
        'JOURNAL_CONFIG_MISMATCH',
        `Team run ${runId} was journaled by configuration ${started.configHash.slice(0, 12)}, not ${hash.slice(0, 12)} (team "${config.name}")`,
        {
          details: { runId, journaled: started.configHash, current: hash },
          hint: 'Resume with the team that started the run, or pass migrate: true',
        },
      );
    }
    return { runId, session, input: started.input };
  }
  try {
    session.append({
      type: 'run.started',
      at: Date.now(),
      kind: 'team',
      name: config.name,
      configHash: hash,
      ...(bundle !== undefined ? { bundle } : {}),
      input,
    });
  } catch (error) {
    return { runId, session: undefined, input, failure: BatonError.wrap(error) };
  }
  return { runId, session, input };
}

/** Team config hashes by the team's `describe`: a team's shape is fixed when it is built (as its bundle is). */
const configHashes = new WeakMap<() => unknown, string>();

function teamConfigHash(name: string, describe: () => unknown): string {
  let hash = configHashes.get(describe);
  if (hash === undefined) {
    hash = hashConfig({ team: name, shape: describe() });
    configHashes.set(describe, hash);
  }
  return hash;
}

/** What a member contributes to its team's configuration hash. */
export function memberShape(agent: AgentLike): string {
  if (isAgent(agent)) return `agent:${agentConfigHash(agent)}`;
  const contract = (agent as { contract?: unknown }).contract;
  return isHandoffContract(contract) ? `remote:${agent.name}:${contract.id}` : `member:${agent.name}`;
}

/** The shared part of every team's shape: what changes how any orchestrator behaves. */
export function teamShape(config: TeamConfig): Record<string, unknown> {
  return {
    budget: config.budget ?? null,
    maxRounds: config.maxRounds ?? null,
    finalAnswerAt: config.finalAnswerAt ?? null,
    termination: config.termination?.description ?? null,
  };
}

/** A member's recorded result, checked before it is replayed. */
export function recordedMemberResult(result: unknown): RunResult {
  const parsed = runResultSchema.safeParse(result);
  if (!parsed.success) {
    throw new BatonError('JOURNAL_INVALID', 'A recorded member result cannot be read', {
      details: { issues: parsed.error.issues.slice(0, 5).map((issue) => issue.message) },
    });
  }
  return result as RunResult;
}

/**
 * A handoff's result is final, and recorded, unless the member paused for a person or was stopped
 * because its process (or its team) is pausing: then the resume runs it again from its own journal.
 */
export function isFinal(result: RunResult): boolean {
  if (result.status === 'awaiting_approval') return false;
  return result.error?.details?.resumable !== true;
}

const TOKEN = /[^A-Za-z0-9_-]/g;

/** A member run id derived from the team run and the handoff's key: the same on every resume. */
export function memberRunIdOf(teamRunId: string, key: string): string {
  const safe = key.replace(TOKEN, '_');
  const id = `${teamRunId}-${safe}`;
  return id.length <= 120 ? id : `${teamRunId}-${hashConfig(key).slice(0, 24)}`;
}

/**
 * Resumes a journaled team run — after a crash, in another process, or once the calls it paused on are
 * decided. The team runs again from the top: handoffs with a recorded result replay, members that were
 * running resume from their own journals, and only what never happened runs for the first time.
 */
export async function resumeTeam<I, O>(
  team: Team<I, O>,
  runId: string,
  options: TeamRunOptions & { journal: RunJournal },
): Promise<TeamResult<O>> {
  if (!options.journal) {
    throw new BatonError('CONFIG_INVALID', 'resumeTeam: give the journal the team was started with', {
      details: { field: 'journal' },
    });
  }
  await requireJournaled(options.journal, runId);
  return team.run(undefined as I, { ...options, runId });
}
