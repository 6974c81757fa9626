import { describeEvent, type EventHub, type RunEvent } from '@baton/core';
import type { TeamEvent } from '@baton/supervisor';
import { formatDuration } from './table.js';

/** What a team run emits: its members' run events (local or forwarded from workers) and its own. */
export type TeamRunEvent = RunEvent | TeamEvent;

/**
 * The progress line for one event, or undefined when it is not worth a line. Member events read as
 * core's `describeEvent` writes them ("[researcher] search_corpus(…)…"); the team adds its handoffs
 * and its end.
 */
export function describeTeamEvent(event: TeamRunEvent, verbose = false): string | undefined {
  switch (event.type) {
    case 'team.start':
      return `[${event.team}] started (run ${event.runId}, trace ${event.traceId})`;
    case 'team.handoff':
      return `[${event.team}] round ${event.round}: ${event.from} → ${event.to}`;
    case 'team.round':
      return verbose ? `[${event.team}] round ${event.round} done` : undefined;
    case 'team.end': {
      const { result } = event;
      return `[${event.team}] ${result.status}: ${result.stopReason.message} (${formatDuration(result.durationMs)})`;
    }
    default:
      return describeEvent(event, verbose);
  }
}

export interface TeamProgressOptions {
  /** Where lines go; default stderr, so stdout stays clean for the report. */
  write?: (line: string) => void;
  verbose?: boolean;
}

/** Prints a team's progress as it happens, one line per meaningful event. Returns a function that stops it. */
export function printTeamProgress(
  events: EventHub<TeamRunEvent>,
  options: TeamProgressOptions = {},
): () => void {
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  return events.on('*', (event) => {
    const line = describeTeamEvent(event, options.verbose ?? false);
    if (line !== undefined) write(line);
  });
}
