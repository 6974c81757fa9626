import type { EventHub } from '@baton/core';
import { describeTeamEvent, type TeamRunEvent } from '@baton/teams';
import type { Io } from './io.js';

export interface ProgressOptions {
  /** A spinner on stderr between lines (only worth it on a terminal). */
  spinner: boolean;
  verbose?: boolean;
}

/**
 * Progress lines on stderr from the team's typed events (member runs, forwarded remote runs, handoffs),
 * with an `ora` spinner showing the latest one when stderr is a terminal. Returns a function that stops.
 */
export async function showProgress(
  events: EventHub<TeamRunEvent>,
  io: Io,
  options: ProgressOptions,
): Promise<() => void> {
  if (!options.spinner) {
    return events.on('*', (event) => {
      const line = describeTeamEvent(event, options.verbose ?? false);
      if (line !== undefined) io.err(line);
    });
  }
  const { default: ora } = await import('ora');
  const spinner = ora({ stream: process.stderr, text: 'starting', discardStdin: false }).start();
  const off = events.on('*', (event) => {
    const line = describeTeamEvent(event, options.verbose ?? false);
    if (line === undefined) return;
    spinner.clear();
    io.err(line);
    const width = Math.max(20, (process.stderr.columns ?? 80) - 4);
    spinner.text = line.length > width ? `${line.slice(0, width - 1)}…` : line;
    spinner.render();
  });
  return () => {
    off();
    spinner.stop();
  };
}
