import type { ApprovalStore, RunJournal } from '@baton/core';
import type { ConsoleTeam } from './wire.js';

export type { ConsoleTeam, RunSource, RunSummary } from './wire.js';

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
