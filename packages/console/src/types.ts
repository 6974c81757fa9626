import type { ApprovalStore, RunJournal } from '@baton/core';

/** A team the console can start (the catalogue's, or one the embedder adds). */
export interface ConsoleTeam {
  name: string;
  description: string;
  /** The agents it hands work to, in the order they usually run. */
  members: readonly string[];
}

export interface StartRunRequest {
  team: string;
  topic: string;
  /** Who started it (the name the browser gives). */
  user: string;
}

/** A run the runner has started: its id at once, and how it ends. */
export interface StartedRun {
  runId: string;
  /** Settles when the run ends (or stops for good); the console shows it as live until then. */
  done: Promise<{ status: string }>;
}

/**
 * What starts runs for the console. `@baton/console` does not build teams itself (it depends on no team
 * catalogue): `baton view` and `baton serve` hand it a runner that builds catalogue teams in their
 * process, traced into the console's trace directory.
 */
export interface ConsoleRunner {
  teams(): readonly ConsoleTeam[];
  start(request: StartRunRequest): Promise<StartedRun>;
}

export interface ConsoleOptions {
  /** The trace files (`.baton/traces`): the run index and the spans of every process. */
  traceDir: string;
  /** The journals of journaled runs (`.baton/journal`); `journal` overrides it. */
  journalDir?: string;
  journal?: RunJournal;
  /** The durable approvals (`.baton/approvals`); `approvals` overrides it. */
  approvalsDir?: string;
  approvals?: ApprovalStore;
  /** Starts runs from the browser; without it the start page says runs cannot be started here. */
  runner?: ConsoleRunner;
  /** Where eval reports are (`eval-*.json`), e.g. `bench/results`. */
  evalDir?: string;
  /** The built front-end (default: this package's `dist/ui`). */
  uiDir?: string;
  /** How often live views look for changes, ms (default 500). */
  pollMs?: number;
}

export type RunSource = 'trace' | 'journal' | 'console';

/** One row of the runs list. */
export interface RunSummary {
  runId: string;
  traceId?: string;
  kind: 'team' | 'agent';
  /** The team's or the agent's name. */
  name: string;
  status: string;
  /** True while the run is going (started here and not ended, or journaled without an end yet). */
  live: boolean;
  startedMs: number;
  durationMs?: number;
  tokens?: { input: number; output: number };
  costUsd?: number;
  steps?: number;
  user?: string;
  tenant?: string;
  bundle?: string;
  /** `service.name` of the process that ran it. */
  service?: string;
  sources: RunSource[];
}
